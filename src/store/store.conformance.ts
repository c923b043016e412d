import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, formatRelationship, parseRelationship } from "../tuple/index.ts";
import type { Relationship, Revision } from "../tuple/index.ts";
import { AbortedError, AlreadyExistsError, StoreUnavailableError } from "./errors.ts";
import type { ApiKeyRecord, ChangeSet, Precondition, RelationshipFilter, RelationshipReader, RelationshipUpdate, Store, WatchOptions } from "./store.ts";

// The contract every Store must honour, clause by clause (spicedb pkg/datastore/test, hono's
// common.case.test). Implementations call runStoreConformance from their own *.test.ts.

const PAST = "2001-01-01T00:00:00.000Z";
const FUTURE = "2999-01-01T00:00:00.000Z";

const rel = (text: string): Relationship => parseRelationship(text);
const texts = (relationships: readonly Relationship[]): string[] => relationships.map(formatRelationship);
const update = (operation: RelationshipUpdate["operation"], text: string): RelationshipUpdate => ({ operation, relationship: rel(text) });

function touchAll(store: Store, lines: readonly string[]): Promise<Revision> {
  return store.write(lines.map((line) => update("touch", line)));
}

async function readAt(reader: RelationshipReader, filter: RelationshipFilter = {}): Promise<string[]> {
  return texts(await reader.queryRelationships(filter));
}

async function readHead(store: Store, filter: RelationshipFilter = {}): Promise<string[]> {
  return readAt(store.snapshot(await store.headRevision()), filter);
}

// Reads everything through snapshot(revision); a store may refuse the revision in `snapshot`
// itself or, if it learns the head asynchronously, in the first query.
async function readSnapshot(store: Store, revision: Revision): Promise<string[]> {
  return readAt(store.snapshot(revision));
}

// Collects `count` change sets, then stops the watch.
async function takeChangeSets(store: Store, afterRevision: Revision, count: number, options?: WatchOptions): Promise<ChangeSet[]> {
  const controller = new AbortController();
  const taken: ChangeSet[] = [];
  if (count === 0) return taken;
  for await (const changeSet of store.watch(afterRevision, controller.signal, options)) {
    taken.push(changeSet);
    if (taken.length === count) break;
  }
  controller.abort();
  return taken;
}

// Collects change sets until one at `revision` or later, then stops the watch.
async function takeUntilRevision(store: Store, afterRevision: Revision, revision: Revision, options?: WatchOptions): Promise<ChangeSet[]> {
  const controller = new AbortController();
  const taken: ChangeSet[] = [];
  for await (const changeSet of store.watch(afterRevision, controller.signal, options)) {
    taken.push(changeSet);
    if (changeSet.revision >= revision) break;
  }
  controller.abort();
  return taken;
}

// Change sets rendered as "revision: touch a, delete b" lines (and "3: schema changed", "4:
// checkpoint", "5: oversized" for a watch with checkpoints), for readable comparisons.
function describeChangeSets(changeSets: readonly ChangeSet[]): string[] {
  return changeSets.map(({ revision, changes, schemaChanged, checkpoint, oversized }) => {
    const flags = [...(schemaChanged === true ? ["schema changed"] : []), ...(checkpoint === true ? ["checkpoint"] : []), ...(oversized === true ? ["oversized"] : [])];
    return `${revision}: ${[...flags, ...changes.map((c) => `${c.operation} ${formatRelationship(c.relationship)}`)].join(", ")}`;
  });
}

// The schema change sets among `changeSets` as "revision: text" (the text each carries).
function schemaWrites(changeSets: readonly ChangeSet[]): string[] {
  return changeSets.filter((changeSet) => changeSet.schemaChanged === true).map(({ revision, schema }) => `${revision}: ${schema}`);
}

// A running watch read one change set at a time. The watch starts reading at the first `next`,
// and a store waits for commits once `next` finds nothing: a test that calls `next` before it
// writes (after a first change set was yielded) writes while the watch waits.
function openWatch(store: Store, afterRevision: Revision, options?: WatchOptions): { next: () => Promise<string>; stop: () => Promise<void> } {
  const controller = new AbortController();
  const changeSets = store.watch(afterRevision, controller.signal, options)[Symbol.asyncIterator]();
  return {
    next: async () => {
      const { value, done } = await changeSets.next();
      if (done === true) throw new Error("the watch ended");
      return describeChangeSets([value])[0] as string;
    },
    stop: async () => {
      controller.abort();
      await changeSets.return?.(undefined);
    },
  };
}

// Deterministic pseudo-random numbers in [0, 1) (a linear congruential generator), so that a
// failing pagination run can be replayed.
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function expectRejects(promise: Promise<unknown>, errorClass: abstract new (...args: never[]) => Error, field: string | undefined, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(errorClass);
  expect((error as { field?: string }).field).toBe(field);
  expect((error as Error).message).toMatch(message);
}

// The fixture for filters and ordering, listed in the order the contract requires; it is written
// shuffled so that the store, not the write order, produces that order.
const FILTER_FIXTURE = [
  "document:readme#editor@user:ann",
  "document:readme#viewer@group:eng#admin",
  "document:readme#viewer@group:eng#member",
  "document:readme#viewer@user:*",
  "document:readme#viewer@user:ann",
  "document:readme#viewer@user:bob",
  "document:report#viewer@user:ann",
  "document:spec#viewer@group:eng",
  "document:spec#viewer@group:eng#member",
  "folder:root#viewer@user:ann",
];

// Byte order (Postgres: COLLATE "C"), not a locale's: "B" < "a" < "a-b" < "a_b" < "ab", and a
// subject without relation before the same subject with any relation.
const ORDER_FIXTURE = [
  "doc:B#viewer@user:x",
  "doc:a#editor@user:x",
  "doc:a#viewer@group:eng",
  "doc:a#viewer@group:eng#admin",
  "doc:a#viewer@group:eng#member",
  "doc:a#viewer@user:*",
  "doc:a#viewer@user:X",
  "doc:a#viewer@user:x",
  "doc:a#viewer_all@user:x",
  "doc:a-b#viewer@user:x",
  "doc:a_b#viewer@user:x",
  "doc:ab#viewer@user:x",
  "doc_folder:a#viewer@user:x",
  "docs:a#viewer@user:x",
];

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** StoreTestOptions are what a test may ask of a fresh store: `now`, the clock that decides expiry (default Date.now). */
export interface StoreTestOptions {
  readonly now?: (() => number) | undefined;
}

/**
 * runStoreConformance declares the vitest suite every Store implementation must pass. `makeStore`
 * returns a fresh, empty store for each test (a test may open a second one, with options, which
 * may empty the first); `cleanup` (default: `close`) runs after each test on every store opened
 * and may receive a store the test already closed.
 */
export function runStoreConformance(name: string, makeStore: (options?: StoreTestOptions) => Promise<Store>, cleanup?: (store: Store) => Promise<void>): void {
  describe(`${name} conforms to the Store contract`, () => {
    let store: Store;
    const extraStores: Store[] = [];

    async function openStore(options: StoreTestOptions): Promise<Store> {
      const opened = await makeStore(options);
      extraStores.push(opened);
      return opened;
    }

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      const close = cleanup ?? ((s: Store) => s.close());
      await close(store);
      for (const opened of extraStores.splice(0)) await close(opened);
    });

    describe("revisions", () => {
      it("starts empty at revision 0 with no schema", async () => {
        expect(await store.headRevision()).toBe(0);
        expect(await readAt(store.snapshot(0))).toEqual([]);
        expect(await store.readSchema()).toBeUndefined();
      });

      it("commits every write, delete and schema write at a revision greater than all earlier ones", async () => {
        const revisions = [
          await touchAll(store, ["document:a#viewer@user:ann"]),
          await store.write([update("create", "document:b#viewer@user:ann")]),
          await store.write([update("delete", "document:absent#viewer@user:ann")]),
          await store.write([]),
          (await store.deleteByFilter({ resourceType: "document", resourceId: "a" })).revision,
          (await store.deleteByFilter({ resourceType: "nothing" })).revision,
          await store.writeSchema("definition user {}", async () => {}),
        ];
        for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1] as number);
        expect(revisions[0]).toBeGreaterThan(0);
        expect(await store.headRevision()).toBe(revisions[revisions.length - 1]);
      });

      it("gives concurrent writes distinct revisions and keeps all of them", async () => {
        const lines = Array.from({ length: 20 }, (_, i) => `document:d${i}#viewer@user:ann`);
        const revisions = await Promise.all(lines.map((line) => touchAll(store, [line])));
        expect(new Set(revisions).size).toBe(lines.length);
        expect(await store.headRevision()).toBe(Math.max(...revisions));
        expect((await readHead(store)).sort()).toEqual([...lines].sort());
      });

      it("refuses a snapshot newer than the head with FailedPreconditionError naming the revision", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        await expectRejects(readSnapshot(store, head + 1), FailedPreconditionError, "revision", /revision.*newer/);
      });

      it.each([-1, 1.5, Number.NaN])("refuses the revision %s with InvalidArgumentError", async (revision) => {
        await expectRejects(readSnapshot(store, revision), InvalidArgumentError, "revision", /revision/);
      });

      it("hands out readers that report their revision", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        expect(store.snapshot(head).revision).toBe(head);
        expect(store.snapshot(0).revision).toBe(0);
      });

      it("hands out readers whose now is the store's clock when the snapshot was taken", async () => {
        let clock = Date.parse("2030-01-01T00:00:00.000Z");
        const clocked = await openStore({ now: () => clock });
        const head = await touchAll(clocked, ["document:a#viewer@user:ann"]);
        const reader = clocked.snapshot(head);
        clock += 60_000;
        expect(reader.now.toISOString()).toBe("2030-01-01T00:00:00.000Z");
        expect(clocked.snapshot(head).now.toISOString()).toBe("2030-01-01T00:01:00.000Z");
        let seen: Date | undefined;
        await clocked.writeSchema("definition user {}", async (validating) => {
          seen = validating.now;
        });
        expect(seen?.toISOString()).toBe("2030-01-01T00:01:00.000Z");
      });
    });

    describe("snapshot isolation", () => {
      it("does not show a reader at N what was written at N+1", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const reader = store.snapshot(first);
        await touchAll(store, ["document:a#viewer@user:bob"]);
        expect(await readAt(reader)).toEqual(["document:a#viewer@user:ann"]);
        expect(await readAt(store.snapshot(first))).toEqual(["document:a#viewer@user:ann"]);
      });

      it("keeps deleted relationships visible at the revisions before their deletion", async () => {
        const written = await touchAll(store, ["document:a#viewer@user:ann", "document:a#viewer@user:bob"]);
        const deleted = await store.write([update("delete", "document:a#viewer@user:ann")]);
        expect(await readAt(store.snapshot(written))).toEqual(["document:a#viewer@user:ann", "document:a#viewer@user:bob"]);
        expect(await readAt(store.snapshot(deleted))).toEqual(["document:a#viewer@user:bob"]);
        expect(await readAt(store.snapshot(written - 1))).toEqual([]);
      });

      it("shows each version of a touched relationship at its own revisions", async () => {
        const plain = await touchAll(store, ["document:a#viewer@user:ann"]);
        const caveated = await touchAll(store, ['document:a#viewer@user:ann[on_weekdays:{"tz":"UTC"}]']);
        const expiring = await touchAll(store, [`document:a#viewer@user:ann[expiration:${FUTURE}]`]);
        expect(await readAt(store.snapshot(plain))).toEqual(["document:a#viewer@user:ann"]);
        expect(await readAt(store.snapshot(caveated))).toEqual(['document:a#viewer@user:ann[on_weekdays:{"tz":"UTC"}]']);
        expect(await readAt(store.snapshot(expiring))).toEqual([`document:a#viewer@user:ann[expiration:${FUTURE}]`]);
      });

      it("lets a deleted and re-created relationship be read at every revision", async () => {
        const created = await touchAll(store, ["document:a#viewer@user:ann"]);
        const deleted = await store.write([update("delete", "document:a#viewer@user:ann")]);
        const recreated = await store.write([update("create", "document:a#viewer@user:ann")]);
        expect(await readAt(store.snapshot(created))).toHaveLength(1);
        expect(await readAt(store.snapshot(deleted))).toHaveLength(0);
        expect(await readAt(store.snapshot(recreated))).toHaveLength(1);
      });

      it("returns stored copies that later changes to the caller's objects do not affect", async () => {
        const relationship = { resource: { type: "document", id: "a" }, relation: "viewer", subject: { type: "user", id: "ann" } };
        const revision = await store.write([{ operation: "touch", relationship }]);
        relationship.resource.id = "b";
        expect(await readAt(store.snapshot(revision))).toEqual(["document:a#viewer@user:ann"]);
      });
    });

    describe("write", () => {
      it("creates a relationship that is absent", async () => {
        await store.write([update("create", "document:a#viewer@user:ann")]);
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });

      it("refuses to create a live relationship with AlreadyExistsError naming it, and writes nothing", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        const write = store.write([update("touch", "document:b#viewer@user:ann"), update("create", "document:a#viewer@user:ann")]);
        await expectRejects(write, AlreadyExistsError, "updates[1]", /updates\[1\].*document:a#viewer@user:ann/);
        expect(await store.headRevision()).toBe(head);
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });

      it("creates a relationship again after it was deleted", async () => {
        await touchAll(store, ["document:a#viewer@user:ann"]);
        await store.write([update("delete", "document:a#viewer@user:ann")]);
        await store.write([update("create", "document:a#viewer@user:ann")]);
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });

      it.each([
        ["creates an absent relationship", [], "document:a#viewer@user:ann", ["document:a#viewer@user:ann"]],
        ["adds a caveat", ["document:a#viewer@user:ann"], "document:a#viewer@user:ann[on_weekdays]", ["document:a#viewer@user:ann[on_weekdays]"]],
        ["removes a caveat", ["document:a#viewer@user:ann[on_weekdays]"], "document:a#viewer@user:ann", ["document:a#viewer@user:ann"]],
        ["replaces an expiry", [`document:a#viewer@user:ann[expiration:${FUTURE}]`], "document:a#viewer@user:ann", ["document:a#viewer@user:ann"]],
        ["leaves an identical relationship as it was", ["document:a#viewer@user:ann"], "document:a#viewer@user:ann", ["document:a#viewer@user:ann"]],
      ])("touch %s and commits a new revision", async (_, before: string[], touched: string, after: string[]) => {
        const previous = before.length > 0 ? await touchAll(store, before) : 0;
        const revision = await touchAll(store, [touched]);
        expect(revision).toBeGreaterThan(previous);
        expect(await readHead(store)).toEqual(after);
      });

      it.each([
        ["a live relationship", ["document:a#viewer@user:ann", "document:a#viewer@user:bob"], ["document:a#viewer@user:bob"]],
        ["an absent relationship (a no-op that still commits)", ["document:a#viewer@user:bob"], ["document:a#viewer@user:bob"]],
        ["a caveated relationship, whatever caveat the delete names", ["document:a#viewer@user:ann[on_weekdays]"], []],
      ])("delete removes %s", async (_, before: string[], after: string[]) => {
        const previous = await touchAll(store, before);
        const revision = await store.write([update("delete", "document:a#viewer@user:ann")]);
        expect(revision).toBeGreaterThan(previous);
        expect(await readHead(store)).toEqual(after);
      });

      it.each([
        ["create, create", "create", "create", "document:a#viewer@user:ann", "document:a#viewer@user:ann"],
        ["touch, delete", "touch", "delete", "document:a#viewer@user:ann", "document:a#viewer@user:ann"],
        ["different caveats", "touch", "touch", "document:a#viewer@user:ann[on_weekdays]", "document:a#viewer@user:ann"],
        ["the ... relation spelled out", "touch", "touch", "document:a#viewer@user:ann", "document:a#viewer@user:ann#..."],
      ] as const)("refuses the same relationship twice in one write (%s) with InvalidArgumentError naming updates[i]", async (_, firstOp, secondOp, first, second) => {
        const head = await touchAll(store, ["document:z#viewer@user:zed"]);
        const write = store.write([update("touch", "document:b#viewer@user:ann"), update(firstOp, first), update(secondOp, second)]);
        await expectRejects(write, InvalidArgumentError, "updates[2]", /updates\[2\].*document:a#viewer@user:ann.*updates\[1\]/);
        expect(await store.headRevision()).toBe(head);
        expect(await readHead(store)).toEqual(["document:z#viewer@user:zed"]);
      });

      it("aborts a write checked against an older schema, writing nothing", async () => {
        const schemaRevision = await store.writeSchema("definition user {}", async () => {});
        const newer = await store.writeSchema("definition user {}\ndefinition document {}", async () => {});
        const write = store.write([update("touch", "document:a#viewer@user:ann")], [], { schemaRevision });
        await expectRejects(write, AbortedError, "schemaRevision", /schemaRevision/);
        expect(await store.headRevision()).toBe(newer);
        expect(await readHead(store)).toEqual([]);
      });

      it("applies a write checked against the current schema", async () => {
        const schemaRevision = await store.writeSchema("definition user {}", async () => {});
        await store.write([update("touch", "document:a#viewer@user:ann")], [], { schemaRevision });
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });
    });

    describe("preconditions", () => {
      const existing = ["document:a#viewer@user:ann", `document:gone#viewer@user:ann[expiration:${PAST}]`];
      const cases: Array<[string, Precondition, boolean]> = [
        ["must_match holds when a relationship matches", { operation: "must_match", filter: { resourceType: "document", resourceId: "a" } }, true],
        ["must_match fails when nothing matches", { operation: "must_match", filter: { resourceType: "document", resourceId: "b" } }, false],
        ["must_match fails when only an expired relationship matches", { operation: "must_match", filter: { resourceType: "document", resourceId: "gone" } }, false],
        ["must_not_match holds when nothing matches", { operation: "must_not_match", filter: { subject: { type: "user", id: "bob" } } }, true],
        ["must_not_match fails when a relationship matches", { operation: "must_not_match", filter: { subject: { type: "user", id: "ann" } } }, false],
      ];

      it.each(cases)("write: %s", async (_, precondition, holds) => {
        const head = await touchAll(store, existing);
        const write = store.write([update("touch", "document:new#viewer@user:cat")], [{ operation: "must_match", filter: {} }, precondition]);
        if (holds) {
          expect(await write).toBeGreaterThan(head);
          expect(await readHead(store, { resourceId: "new" })).toEqual(["document:new#viewer@user:cat"]);
        } else {
          await expectRejects(write, FailedPreconditionError, "preconditions[1]", /preconditions\[1\].*(must_match|must_not_match)/);
          expect(await store.headRevision()).toBe(head);
          expect(await readHead(store, { resourceId: "new" })).toEqual([]);
        }
      });

      it.each(cases)("deleteByFilter: %s", async (_, precondition, holds) => {
        const head = await touchAll(store, existing);
        const deletion = store.deleteByFilter({ resourceType: "document", resourceId: "a" }, [precondition]);
        if (holds) {
          const result = await deletion;
          expect(result.deleted).toBe(1);
          expect(result.revision).toBeGreaterThan(head);
        } else {
          await expectRejects(deletion, FailedPreconditionError, "preconditions[0]", /preconditions\[0\]/);
          expect(await store.headRevision()).toBe(head);
          expect(await readHead(store, { resourceId: "a" })).toEqual(["document:a#viewer@user:ann"]);
        }
      });

      it("checks preconditions against the head before the write's own updates", async () => {
        await store.write(
          [update("touch", "document:a#viewer@user:ann")],
          [{ operation: "must_not_match", filter: { resourceType: "document", resourceId: "a" } }],
        );
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });
    });

    describe("queryRelationships filters", () => {
      const cases: Array<[string, RelationshipFilter, string[]]> = [
        ["an empty filter matches everything", {}, FILTER_FIXTURE],
        ["resourceType", { resourceType: "folder" }, ["folder:root#viewer@user:ann"]],
        ["resourceType and resourceId", { resourceType: "document", resourceId: "report" }, ["document:report#viewer@user:ann"]],
        ["resourceId alone", { resourceId: "root" }, ["folder:root#viewer@user:ann"]],
        ["resourceIdPrefix", { resourceType: "document", resourceIdPrefix: "re" }, FILTER_FIXTURE.filter((t) => t.startsWith("document:re"))],
        ["resourceIdPrefix alone", { resourceIdPrefix: "ro" }, ["folder:root#viewer@user:ann"]],
        ["relation alone", { relation: "editor" }, ["document:readme#editor@user:ann"]],
        [
          "resource type, id and relation",
          { resourceType: "document", resourceId: "readme", relation: "viewer" },
          FILTER_FIXTURE.filter((t) => t.startsWith("document:readme#viewer")),
        ],
        ["subject type", { subject: { type: "group" } }, FILTER_FIXTURE.filter((t) => t.includes("@group:"))],
        [
          "subject type and id",
          { subject: { type: "user", id: "ann" } },
          ["document:readme#editor@user:ann", "document:readme#viewer@user:ann", "document:report#viewer@user:ann", "folder:root#viewer@user:ann"],
        ],
        ["subject id * (only wildcard subjects)", { subject: { type: "user", id: "*" } }, ["document:readme#viewer@user:*"]],
        [
          "subject relation undefined (any relation or none)",
          { resourceType: "document", subject: { type: "group", id: "eng" } },
          ["document:readme#viewer@group:eng#admin", "document:readme#viewer@group:eng#member", "document:spec#viewer@group:eng", "document:spec#viewer@group:eng#member"],
        ],
        ["subject relation null (no relation only)", { subject: { type: "group", relation: null } }, ["document:spec#viewer@group:eng"]],
        [
          "subject relation string",
          { subject: { type: "group", id: "eng", relation: "member" } },
          ["document:readme#viewer@group:eng#member", "document:spec#viewer@group:eng#member"],
        ],
        [
          "resource and subject together",
          { resourceType: "document", resourceId: "readme", relation: "viewer", subject: { type: "user" } },
          ["document:readme#viewer@user:*", "document:readme#viewer@user:ann", "document:readme#viewer@user:bob"],
        ],
        [
          "relation and subject id",
          { resourceType: "document", relation: "viewer", subject: { type: "user", id: "ann" } },
          ["document:readme#viewer@user:ann", "document:report#viewer@user:ann"],
        ],
        ["a filter nothing matches", { resourceType: "document", resourceId: "readme", relation: "owner" }, []],
        ["a subject nothing matches", { subject: { type: "user", id: "nobody" } }, []],
      ];

      it.each(cases)("%s", async (_, filter, expected) => {
        await touchAll(store, shuffled(FILTER_FIXTURE, 7));
        expect(await readHead(store, filter)).toEqual(expected);
      });

      it("refuses resourceId together with resourceIdPrefix with InvalidArgumentError", async () => {
        const reader = store.snapshot(0);
        await expectRejects(reader.queryRelationships({ resourceId: "a", resourceIdPrefix: "a" }), InvalidArgumentError, "filter.resourceIdPrefix", /resourceIdPrefix/);
      });
    });

    describe("ordering and pagination", () => {
      it("orders by resource type, resource id, relation, subject type, id and relation (none first), in byte order", async () => {
        await touchAll(store, shuffled(ORDER_FIXTURE, 3));
        expect(await readHead(store)).toEqual(ORDER_FIXTURE);
        expect(await readHead(store, { resourceType: "doc", resourceId: "a", relation: "viewer" })).toEqual(
          ORDER_FIXTURE.filter((t) => t.startsWith("doc:a#viewer@")),
        );
        expect(await readHead(store, { subject: { type: "user", id: "x" } })).toEqual(ORDER_FIXTURE.filter((t) => t.endsWith("@user:x")));
      });

      it.each([
        ["everything", {}],
        ["one resource type", { resourceType: "document" }],
        ["one resource and relation", { resourceType: "document", resourceId: "d0", relation: "viewer" }],
        ["one subject", { subject: { type: "user", id: "u1" } }],
        ["one resource and relation, user subjects only", { resourceType: "document", resourceId: "d3", relation: "editor", subject: { type: "user" } }],
      ] as Array<[string, RelationshipFilter]>)("pages through %s with random page sizes exactly as one full read", async (_, filter) => {
        const lines: string[] = [];
        for (let d = 0; d < 6; d++) {
          for (const relation of ["editor", "viewer"]) {
            for (let u = 0; u < 12; u++) lines.push(`document:d${d}#${relation}@user:u${u}`);
            lines.push(`document:d${d}#${relation}@group:g${d}#member`);
          }
        }
        for (let f = 0; f < 30; f++) lines.push(`folder:f${f}#viewer@user:u${f % 5}`);
        await touchAll(store, shuffled(lines, 11));
        const reader = store.snapshot(await store.headRevision());
        const full = await reader.queryRelationships(filter);
        expect(full.length).toBeGreaterThan(filter.subject === undefined && filter.relation === undefined ? 100 : 5);

        const random = seededRandom(full.length);
        const paged: Relationship[] = [];
        let after: Relationship | undefined;
        for (;;) {
          const limit = 1 + Math.floor(random() * 17);
          const page = await reader.queryRelationships(filter, { after, limit });
          expect(page.length).toBeLessThanOrEqual(limit);
          paged.push(...page);
          if (page.length < limit) break;
          after = page[page.length - 1];
        }
        expect(texts(paged)).toEqual(texts(full));
      });

      it("resumes strictly after `after`, even when `after` names a relationship that is not stored", async () => {
        await touchAll(store, ORDER_FIXTURE);
        const reader = store.snapshot(await store.headRevision());
        expect(texts(await reader.queryRelationships({}, { after: rel("doc:a#viewer@group:eng#admin"), limit: 2 }))).toEqual([
          "doc:a#viewer@group:eng#member",
          "doc:a#viewer@user:*",
        ]);
        expect(texts(await reader.queryRelationships({}, { after: rel("doc:a#viewer@group:eng#bbb"), limit: 2 }))).toEqual([
          "doc:a#viewer@group:eng#member",
          "doc:a#viewer@user:*",
        ]);
        expect(texts(await reader.queryRelationships({ resourceType: "doc" }, { after: rel("doc:ab#viewer@user:x") }))).toEqual([]);
      });

      it("caps the result at `limit` and refuses a limit that is not a positive integer", async () => {
        await touchAll(store, ORDER_FIXTURE);
        const reader = store.snapshot(await store.headRevision());
        expect(texts(await reader.queryRelationships({}, { limit: 3 }))).toEqual(ORDER_FIXTURE.slice(0, 3));
        await expectRejects(reader.queryRelationships({}, { limit: 0 }), InvalidArgumentError, "options.limit", /positive integer/);
      });
    });

    describe("deleteByFilter", () => {
      it("deletes every live match at one new revision and leaves the rest", async () => {
        const before = await touchAll(store, FILTER_FIXTURE);
        const result = await store.deleteByFilter({ resourceType: "document", resourceId: "readme" });
        expect(result.deleted).toBe(6);
        expect(result.revision).toBeGreaterThan(before);
        expect(await store.headRevision()).toBe(result.revision);
        expect(await readHead(store)).toEqual(FILTER_FIXTURE.filter((t) => !t.startsWith("document:readme")));
        expect(await readAt(store.snapshot(before))).toEqual(FILTER_FIXTURE);
      });

      it("deletes up to and including the limit", async () => {
        await touchAll(store, FILTER_FIXTURE);
        const { deleted } = await store.deleteByFilter({ subject: { type: "user", id: "ann" } }, [], { limit: 4 });
        expect(deleted).toBe(4);
        expect(await readHead(store, { subject: { type: "user", id: "ann" } })).toEqual([]);
      });

      it("deletes nothing and throws ResourceExhaustedError naming the limit when more would be deleted", async () => {
        const head = await touchAll(store, FILTER_FIXTURE);
        await expectRejects(store.deleteByFilter({ subject: { type: "user", id: "ann" } }, [], { limit: 3 }), ResourceExhaustedError, "limit", /limit.*3/);
        expect(await store.headRevision()).toBe(head);
        expect(await readHead(store)).toEqual(FILTER_FIXTURE);
      });

      it("commits a new revision even when nothing matches", async () => {
        const head = await touchAll(store, FILTER_FIXTURE);
        const result = await store.deleteByFilter({ resourceType: "nothing" });
        expect(result.deleted).toBe(0);
        expect(result.revision).toBeGreaterThan(head);
      });

      it("does not count or delete expired relationships", async () => {
        await touchAll(store, [`document:a#viewer@user:ann[expiration:${PAST}]`, "document:a#viewer@user:bob"]);
        const { deleted } = await store.deleteByFilter({ resourceType: "document" });
        expect(deleted).toBe(1);
      });
    });

    describe("schema", () => {
      it("stores the schema text with the revision that wrote it, and replaces it on rewrite", async () => {
        const first = await store.writeSchema("definition user {}", async () => {});
        expect(await store.readSchema()).toEqual({ text: "definition user {}", revision: first });
        const second = await store.writeSchema("definition user {}\ndefinition team {}", async () => {});
        expect(await store.readSchema()).toEqual({ text: "definition user {}\ndefinition team {}", revision: second });
      });

      it("runs validate against a reader at the head", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        let seen: { revision: Revision; relationships: string[] } | undefined;
        await store.writeSchema("definition user {}", async (reader) => {
          seen = { revision: reader.revision, relationships: await readAt(reader) };
        });
        expect(seen).toEqual({ revision: head, relationships: ["document:a#viewer@user:ann"] });
      });

      it("writes nothing when validate refuses, and passes its error on", async () => {
        const schemaRevision = await store.writeSchema("definition user {}", async () => {});
        const refusal = new FailedPreconditionError("definition document: relationships would be orphaned", { field: "schema" });
        await expect(
          store.writeSchema("definition other {}", async () => {
            throw refusal;
          }),
        ).rejects.toBe(refusal);
        expect(await store.headRevision()).toBe(schemaRevision);
        expect(await store.readSchema()).toEqual({ text: "definition user {}", revision: schemaRevision });
      });

      it("holds writes off while validate runs", async () => {
        let release = (): void => {};
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        let started = (): void => {};
        const validateStarted = new Promise<void>((resolve) => {
          started = resolve;
        });
        let validated: string[] = [];
        const schemaWrite = store.writeSchema("definition user {}", async (reader) => {
          started();
          await released;
          validated = await readAt(reader);
        });
        await validateStarted;
        let writeDone = false;
        const write = touchAll(store, ["document:a#viewer@user:ann"]).then((revision) => {
          writeDone = true;
          return revision;
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(writeDone).toBe(false);
        release();
        const schemaRevision = await schemaWrite;
        expect(await write).toBeGreaterThan(schemaRevision);
        expect(validated).toEqual([]);
      });
    });

    describe("watch", () => {
      it("replays history from 0, then receives live writes in revision order", async () => {
        const r1 = await touchAll(store, ["document:a#viewer@user:ann", "document:a#viewer@user:bob[on_weekdays]"]);
        const r2 = await store.write([update("delete", "document:a#viewer@user:bob"), update("create", "document:b#viewer@user:ann")]);
        const watching = takeChangeSets(store, 0, 4);
        const r3 = await store.deleteByFilter({ resourceType: "document", resourceId: "a" });
        const r4 = await touchAll(store, [`document:c#viewer@user:ann[expiration:${FUTURE}]`]);
        expect(describeChangeSets(await watching)).toEqual([
          `${r1}: touch document:a#viewer@user:ann, touch document:a#viewer@user:bob[on_weekdays]`,
          `${r2}: delete document:a#viewer@user:bob[on_weekdays], touch document:b#viewer@user:ann`,
          `${r3.revision}: delete document:a#viewer@user:ann`,
          `${r4}: touch document:c#viewer@user:ann[expiration:${FUTURE}]`,
        ]);
      });

      it("resumes after a revision without gaps or duplicates", async () => {
        for (let i = 0; i < 6; i++) await touchAll(store, [`document:d${i}#viewer@user:ann`]);
        const all = await takeChangeSets(store, 0, 6);
        const resumeAfter = (all[2] as ChangeSet).revision;
        const resumed = takeChangeSets(store, resumeAfter, 4);
        await touchAll(store, ["document:d6#viewer@user:ann"]);
        const rest = await resumed;
        expect(rest.map((c) => c.revision)).toEqual([...all.slice(3).map((c) => c.revision), await store.headRevision()]);
        expect(describeChangeSets(rest.slice(0, 3))).toEqual(describeChangeSets(all.slice(3)));
      });

      it("yields nothing for schema writes and writes that changed no relationship", async () => {
        await store.writeSchema("definition user {}", async () => {});
        await store.write([update("delete", "document:absent#viewer@user:ann")]);
        await store.deleteByFilter({ resourceType: "nothing" });
        const watching = takeChangeSets(store, 0, 1);
        const revision = await touchAll(store, ["document:a#viewer@user:ann"]);
        expect(describeChangeSets(await watching)).toEqual([`${revision}: touch document:a#viewer@user:ann`]);
      });

      it("ends cleanly when the signal aborts while waiting", async () => {
        const written = await touchAll(store, ["document:a#viewer@user:ann"]);
        const controller = new AbortController();
        const seen: Revision[] = [];
        for await (const changeSet of store.watch(0, controller.signal)) {
          seen.push(changeSet.revision);
          // Abort later, while the watch is waiting for the next commit.
          setTimeout(() => controller.abort(), 20);
        }
        expect(seen).toEqual([written]);
      });

      it("refuses to watch from a revision newer than the head", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        await expectRejects(takeChangeSets(store, head + 1, 1), FailedPreconditionError, "afterRevision", /afterRevision/);
      });
      it("yields no change set without changes to a watch without checkpoints, also for writes made while it waits", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        const watching = takeChangeSets(store, head, 1);
        await store.writeSchema("definition user {}", async () => {});
        await store.write([update("delete", "document:absent#viewer@user:ann")]);
        await store.deleteByFilter({ resourceType: "nothing" });
        const revision = await touchAll(store, ["document:b#viewer@user:ann"]);
        const [changeSet] = await watching;
        expect(describeChangeSets([changeSet as ChangeSet])).toEqual([`${revision}: touch document:b#viewer@user:ann`]);
        expect(changeSet).not.toHaveProperty("schemaChanged", true);
        expect(changeSet).not.toHaveProperty("checkpoint", true);
      });
    });

    describe("watch with checkpoints", () => {
      const checkpoints = { checkpoints: true };

      it("reports a checkpoint at the head after a delete of something absent, and after a deleteByFilter matching nothing", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const watch = openWatch(store, 0, checkpoints);
        expect(await watch.next()).toBe(`${first}: touch document:a#viewer@user:ann`);
        const afterDelete = watch.next();
        const noOpDelete = await store.write([update("delete", "document:absent#viewer@user:ann")]);
        expect(await afterDelete).toBe(`${noOpDelete}: checkpoint`);
        const afterFilter = watch.next();
        const { revision: noOpFilter, deleted } = await store.deleteByFilter({ resourceType: "nothing" });
        expect(deleted).toBe(0);
        expect(await afterFilter).toBe(`${noOpFilter}: checkpoint`);
        const afterTouch = watch.next();
        const touched = await touchAll(store, ["document:b#viewer@user:ann"]);
        expect(await afterTouch).toBe(`${touched}: touch document:b#viewer@user:ann`);
        await watch.stop();
      });

      it("reports a schema write at its revision, between the relationship change sets around it", async () => {
        const before = await touchAll(store, ["document:a#viewer@user:ann"]);
        const schema = await store.writeSchema("definition user {}", async () => {});
        const after = await touchAll(store, ["document:b#viewer@user:ann"]);
        const changeSets = await takeChangeSets(store, 0, 3, checkpoints);
        expect(describeChangeSets(changeSets)).toEqual([
          `${before}: touch document:a#viewer@user:ann`,
          `${schema}: schema changed`,
          `${after}: touch document:b#viewer@user:ann`,
        ]);
        expect(schemaWrites(changeSets)).toEqual([`${schema}: definition user {}`]);
        expect(changeSets.filter((changeSet) => changeSet.schemaChanged !== true).every((changeSet) => changeSet.schema === undefined)).toBe(true);
      });

      it("reports every schema write with its text, in revision order, when several land while the watch waits", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const watch = openWatch(store, 0, checkpoints);
        expect(await watch.next()).toBe(`${first}: touch document:a#viewer@user:ann`);
        const waiting = watch.next();
        // Two schema writes in quick succession: both commit before the watch reads again, or the
        // second lands between its reads; either way each is reported with its own text.
        const texts = ["definition user {}\n// one", "definition user {}\n// two"];
        const written = await Promise.all(texts.map((text) => store.writeSchema(text, async () => {})));
        const expected = written.map((revision, i) => ({ revision, text: texts[i] })).sort((x, y) => x.revision - y.revision);
        expect(await waiting).toBe(`${expected[0]?.revision}: schema changed`);
        expect(await watch.next()).toBe(`${expected[1]?.revision}: schema changed`);
        await watch.stop();
        const replayed = await takeChangeSets(store, first, 2, checkpoints);
        expect(schemaWrites(replayed)).toEqual(expected.map(({ revision, text }) => `${revision}: ${text}`));
      });

      it("reports every schema write with its text to a watch that fell behind, between the relationship change sets around them", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const watching = takeChangeSets(store, 0, 1, checkpoints);
        expect(describeChangeSets(await watching)).toEqual([`${first}: touch document:a#viewer@user:ann`]);
        // A watch from `first` that reads only now: the stored schema is the third text, but each
        // revision reports the text written at it.
        const a = await store.writeSchema("definition user {}\n// a", async () => {});
        const touched = await touchAll(store, ["document:b#viewer@user:ann"]);
        const b = await store.writeSchema("definition user {}\n// b", async () => {});
        const c = await store.writeSchema("definition user {}\n// c", async () => {});
        const changeSets = await takeChangeSets(store, first, 4, checkpoints);
        expect(describeChangeSets(changeSets)).toEqual([`${a}: schema changed`, `${touched}: touch document:b#viewer@user:ann`, `${b}: schema changed`, `${c}: schema changed`]);
        expect(schemaWrites(changeSets)).toEqual([`${a}: definition user {}\n// a`, `${b}: definition user {}\n// b`, `${c}: definition user {}\n// c`]);
        expect(await store.readSchema()).toEqual({ text: "definition user {}\n// c", revision: c });
      });

      // 600 relationships a write: a store that replays in pages of fewer rows than a few
      // writes (PostgresStore: 1,000) must not report the schema write before the pages before it.
      it("keeps a schema write in revision order in a replay of many changes", async () => {
        const bulk = (prefix: string): Promise<Revision> => touchAll(store, Array.from({ length: 600 }, (_, i) => `document:${prefix}${i}#viewer@user:ann`));
        const first = await bulk("a");
        const second = await bulk("b");
        const schema = await store.writeSchema("definition user {}", async () => {});
        const third = await bulk("c");
        const head = await store.write([update("delete", "document:absent#viewer@user:ann")]);
        const replayed = await takeUntilRevision(store, 0, head, checkpoints);
        expect(replayed.map(({ revision, changes, schemaChanged, checkpoint }) => [revision, changes.length, schemaChanged === true, checkpoint === true])).toEqual([
          [first, 600, false, false],
          [second, 600, false, false],
          [schema, 0, true, false],
          [third, 600, false, false],
          [head, 0, false, true],
        ]);
      });

      it("reports a schema write made while it waits, as a change set of its own", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const watch = openWatch(store, 0, checkpoints);
        expect(await watch.next()).toBe(`${first}: touch document:a#viewer@user:ann`);
        const afterSchema = watch.next();
        const schema = await store.writeSchema("definition user {}", async () => {});
        expect(await afterSchema).toBe(`${schema}: schema changed`);
        const afterTouch = watch.next();
        const touched = await touchAll(store, ["document:b#viewer@user:ann"]);
        expect(await afterTouch).toBe(`${touched}: touch document:b#viewer@user:ann`);
        await watch.stop();
      });

      it("reports a checkpoint at once when the head is ahead of afterRevision and nothing else is pending", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const head = await store.write([update("delete", "document:absent#viewer@user:ann")]);
        expect(describeChangeSets(await takeChangeSets(store, first, 1, checkpoints))).toEqual([`${head}: checkpoint`]);
        expect(describeChangeSets(await takeChangeSets(store, 0, 2, checkpoints))).toEqual([`${first}: touch document:a#viewer@user:ann`, `${head}: checkpoint`]);
      });

      it("reports no checkpoint when it starts at the head", async () => {
        const head = await store.write([update("delete", "document:absent#viewer@user:ann")]);
        const watching = takeChangeSets(store, head, 1, checkpoints);
        const touched = await touchAll(store, ["document:a#viewer@user:ann"]);
        expect(describeChangeSets(await watching)).toEqual([`${touched}: touch document:a#viewer@user:ann`]);
      });

      // Writes race the watch: whatever the interleaving, revisions only grow (so no change set
      // at or below a checkpoint comes after it), every relationship change arrives exactly as a
      // watch without checkpoints sees it, and the stream ends at the head.
      it.each([1, 2, 3])("yields strictly increasing revisions up to the head with writes racing the watch (seed %i)", async (seed) => {
        const random = seededRandom(seed);
        // Its own generator, so that timing cannot change the writes a seed makes.
        const lag = seededRandom(seed + 1_000);
        const pick = (count: number): number => Math.floor(random() * count);
        const kinds = new Map<Revision, "changes" | "schema" | "nothing">();
        const schemaTexts: string[] = [];
        const live = new Set<string>();
        const controller = new AbortController();
        const seen: ChangeSet[] = [];
        let onSeen = (): void => {};
        const consuming = (async () => {
          for await (const changeSet of store.watch(0, controller.signal, checkpoints)) {
            seen.push(changeSet);
            onSeen();
            // A consumer that sometimes lags lets several writes land between two reads.
            if (lag() < 0.3) await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })();
        for (let step = 0; step < 30; step++) {
          const line = `document:d${pick(4)}#viewer@user:u${pick(2)}`;
          switch (pick(4)) {
            case 0:
              kinds.set(await touchAll(store, [line]), "changes");
              live.add(line);
              break;
            case 1:
              kinds.set(await store.write([update("delete", line)]), live.delete(line) ? "changes" : "nothing");
              break;
            case 2: {
              const id = `d${pick(6)}`;
              const { revision, deleted } = await store.deleteByFilter({ resourceType: "document", resourceId: id });
              kinds.set(revision, deleted > 0 ? "changes" : "nothing");
              for (const key of [...live]) if (key.startsWith(`document:${id}#`)) live.delete(key);
              break;
            }
            default: {
              const text = `definition user {}\n// step ${step}`;
              const revision = await store.writeSchema(text, async () => {});
              kinds.set(revision, "schema");
              schemaTexts.push(`${revision}: ${text}`);
            }
          }
        }
        const head = await store.headRevision();
        const ended = consuming.then(() => {
          throw new Error("the watch ended before reaching the head");
        });
        ended.catch(() => {});
        while (seen[seen.length - 1]?.revision !== head) {
          await Promise.race([new Promise<void>((resolve) => (onSeen = resolve)), ended]);
        }
        controller.abort();
        await consuming;

        const context = `seed ${seed}: ${describeChangeSets(seen).join(" | ")}`;
        const revisions = seen.map((changeSet) => changeSet.revision);
        expect(revisions, context).toEqual([...revisions].sort((a, b) => a - b).filter((revision, i, all) => i === 0 || revision !== all[i - 1]));
        for (const { revision, changes, schemaChanged, checkpoint } of seen) {
          const kind = kinds.get(revision);
          if (schemaChanged === true) expect([kind, changes.length, checkpoint === true], context).toEqual(["schema", 0, false]);
          else if (checkpoint === true) expect([kind !== undefined, changes.length], context).toEqual([true, 0]);
          else expect([kind, changes.length > 0], context).toEqual(["changes", true]);
        }
        // Every schema write, each with the text written at it (the follower pairs revisions with them).
        expect(schemaWrites(seen), context).toEqual(schemaTexts);
        const withChanges = seen.filter((changeSet) => changeSet.changes.length > 0);
        expect(withChanges.map((changeSet) => changeSet.revision), context).toEqual([...kinds].filter(([, kind]) => kind === "changes").map(([revision]) => revision));
        expect(describeChangeSets(withChanges), context).toEqual(describeChangeSets(await takeChangeSets(store, 0, withChanges.length)));
      });
    });

    describe("watch with maxChanges", () => {
      const documents = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `document:${prefix}${i}#viewer@user:ann`);
      const importAll = async (lines: readonly string[]): Promise<Revision> => {
        const { revision } = await store.importRelationships(
          (async function* () {
            yield lines.map(rel);
          })(),
        );
        return revision;
      };

      it("yields an oversized marker in place of each revision with more than maxChanges changes, in order, and the others whole", async () => {
        const small = await touchAll(store, ["folder:a#viewer@user:ann", "folder:b#viewer@user:ann"]);
        const imported = await importAll(documents("i", 5));
        const atLimit = await touchAll(store, documents("t", 3));
        const schema = await store.writeSchema("definition user {}", async () => {});
        const { revision: deleted } = await store.deleteByFilter({ resourceType: "document", resourceIdPrefix: "i" });
        const head = await store.write([update("delete", "document:absent#viewer@user:ann")]);
        const changeSets = await takeUntilRevision(store, 0, head, { checkpoints: true, maxChanges: 3 });
        expect(describeChangeSets(changeSets)).toEqual([
          `${small}: touch folder:a#viewer@user:ann, touch folder:b#viewer@user:ann`,
          `${imported}: oversized`,
          `${atLimit}: ${documents("t", 3)
            .map((line) => `touch ${line}`)
            .join(", ")}`,
          `${schema}: schema changed`,
          `${deleted}: oversized`,
          `${head}: checkpoint`,
        ]);
      });

      // More changes than a replay page (PostgresStore: 1,000 rows): a store must not read such a
      // revision whole to find that it is too big, nor leave out one that is not.
      it("decides by the whole revision when it fills more than a replay page", async () => {
        const big = await importAll(documents("b", 1_500));
        const atLimit = await importAll(documents("l", 1_200));
        const last = await touchAll(store, ["folder:a#viewer@user:ann"]);
        const changeSets = await takeUntilRevision(store, 0, last, { checkpoints: true, maxChanges: 1_200 });
        expect(changeSets.map(({ revision, changes, oversized }) => [revision, changes.length, oversized === true])).toEqual([
          [big, 0, true],
          [atLimit, 1_200, false],
          [last, 1, false],
        ]);
        expect(describeChangeSets([changeSets[1] as ChangeSet])).toEqual(describeChangeSets(await takeChangeSets(store, big, 1)));
      });

      it("yields the oversized marker of an import committed while it waits", async () => {
        const first = await touchAll(store, ["folder:a#viewer@user:ann"]);
        const watch = openWatch(store, 0, { checkpoints: true, maxChanges: 2 });
        expect(await watch.next()).toBe(`${first}: touch folder:a#viewer@user:ann`);
        const afterImport = watch.next();
        const imported = await importAll(documents("i", 3));
        expect(await afterImport).toBe(`${imported}: oversized`);
        const afterTouch = watch.next();
        const touched = await touchAll(store, ["folder:b#viewer@user:ann"]);
        expect(await afterTouch).toBe(`${touched}: touch folder:b#viewer@user:ann`);
        await watch.stop();
      });

      it.each([
        ["zero", { checkpoints: true, maxChanges: 0 }, /must be a positive integer, got 0/],
        ["a fraction", { checkpoints: true, maxChanges: 1.5 }, /must be a positive integer, got 1.5/],
        ["without checkpoints", { maxChanges: 10 }, /only a watch with checkpoints/],
      ])("refuses maxChanges %s with InvalidArgumentError naming it", async (_, options, message) => {
        await touchAll(store, ["folder:a#viewer@user:ann"]);
        await expectRejects(takeChangeSets(store, 0, 1, options), InvalidArgumentError, "options.maxChanges", message);
      });
    });

    describe("expiry", () => {
      const lines = [`document:a#viewer@user:ann[expiration:${PAST}]`, `document:a#viewer@user:bob[expiration:${FUTURE}]`, "document:a#viewer@user:cat"];

      it.each([
        ["a resource, relation lookup", { resourceType: "document", resourceId: "a", relation: "viewer" }],
        ["a subject lookup", { subject: { type: "user" } }],
        ["a scan", {}],
      ] as Array<[string, RelationshipFilter]>)("hides relationships whose expiry has passed from %s", async (_, filter) => {
        await touchAll(store, lines);
        expect(await readHead(store, filter)).toEqual([`document:a#viewer@user:bob[expiration:${FUTURE}]`, "document:a#viewer@user:cat"]);
        expect(await readHead(store, { ...filter, subject: { type: "user", id: "ann" } })).toEqual([]);
      });

      it("creates a relationship over an expired one", async () => {
        await touchAll(store, lines);
        await store.write([update("create", "document:a#viewer@user:ann")]);
        expect(await readHead(store, { subject: { type: "user", id: "ann" } })).toEqual(["document:a#viewer@user:ann"]);
      });
    });

    describe("datastoreId", () => {
      it("is a non-empty id that stays the same across calls", async () => {
        const id = await store.datastoreId();
        expect(id).toMatch(/^\S+$/);
        await touchAll(store, ["document:a#viewer@user:ann"]);
        expect(await store.datastoreId()).toBe(id);
      });
    });

    describe("importRelationships", () => {
      async function* batchesOf(...batches: string[][]): AsyncIterable<Relationship[]> {
        for (const batch of batches) yield batch.map(rel);
      }

      it("creates every relationship at one new revision, reports progress, and yields one change set", async () => {
        const head = await touchAll(store, ["folder:root#viewer@user:ann"]);
        const progress: number[] = [];
        const result = await store.importRelationships(batchesOf(["document:b#viewer@user:ann", "document:a#viewer@user:bob"], ["document:a#viewer@user:ann[on_weekdays]"]), {
          onProgress: (imported) => progress.push(imported),
        });
        expect(result).toEqual({ revision: head + 1, imported: 3 });
        expect(progress).toEqual([2, 3]);
        expect(await store.headRevision()).toBe(result.revision);
        expect(await readAt(store.snapshot(head))).toEqual(["folder:root#viewer@user:ann"]);
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann[on_weekdays]", "document:a#viewer@user:bob", "document:b#viewer@user:ann", "folder:root#viewer@user:ann"]);
        expect(describeChangeSets(await takeChangeSets(store, head, 1))).toEqual([
          `${result.revision}: touch document:b#viewer@user:ann, touch document:a#viewer@user:bob, touch document:a#viewer@user:ann[on_weekdays]`,
        ]);
      });

      it.each([
        ["a relationship that is already live", [["document:a#viewer@user:ann"]]],
        ["the same relationship twice in one batch", [["document:b#viewer@user:ann", "document:b#viewer@user:ann[on_weekdays]"]]],
        ["the same relationship in two batches", [["document:b#viewer@user:ann"], ["document:c#viewer@user:ann", "document:b#viewer@user:ann"]]],
      ])("fails the whole import with AlreadyExistsError and writes nothing, given %s", async (_, batches) => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        await expectRejects(store.importRelationships(batchesOf(...batches)), AlreadyExistsError, "relationships", /relationships: cannot import document:[ab]#viewer@user:ann/);
        expect(await store.headRevision()).toBe(head);
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });

      it("imports over an expired relationship, as create does", async () => {
        await touchAll(store, [`document:a#viewer@user:ann[expiration:${PAST}]`]);
        await store.importRelationships(batchesOf(["document:a#viewer@user:ann"]));
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann"]);
      });

      it("aborts an import checked against an older schema, writing nothing", async () => {
        const schemaRevision = await store.writeSchema("definition user {}", async () => {});
        const newer = await store.writeSchema("definition user {}\ndefinition document {}", async () => {});
        const result = store.importRelationships(batchesOf(["document:a#viewer@user:ann"]), { schemaRevision });
        await expectRejects(result, AbortedError, "schemaRevision", /schemaRevision/);
        expect(await store.headRevision()).toBe(newer);
        expect(await readHead(store)).toEqual([]);
      });

      it("commits nothing of an import whose signal aborted before it finished", async () => {
        const head = await store.headRevision();
        const controller = new AbortController();
        async function* abandoned(): AsyncGenerator<readonly Relationship[]> {
          yield* batchesOf(["document:a#viewer@user:ann"]);
          controller.abort();
        }
        await expect(store.importRelationships(abandoned(), { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
        expect(await store.headRevision()).toBe(head);
        expect(await readHead(store)).toEqual([]);
      });
    });

    describe("garbageCollect", () => {
      const checkpoints = { checkpoints: true };
      const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

      it("keeps every revision readable until history is collected", async () => {
        await touchAll(store, ["document:a#viewer@user:ann"]);
        expect(await store.oldestReadableRevision()).toBe(0);
        expect(await store.garbageCollect(new Date(Date.now() - 60_000))).toEqual({ removed: 0 });
        expect(await store.oldestReadableRevision()).toBe(0);
        expect(await readAt(store.snapshot(0))).toEqual([]);
      });

      it("removes versions deleted before the cutoff, refuses older revisions, and keeps newer history", async () => {
        const written = await touchAll(store, ["document:a#viewer@user:ann", "document:a#viewer@user:bob"]);
        const annDeleted = await store.write([update("delete", "document:a#viewer@user:ann")]);
        await pause(30);
        const olderThan = new Date();
        await pause(30);
        const bobDeleted = await store.write([update("delete", "document:a#viewer@user:bob")]);

        expect(await store.garbageCollect(olderThan)).toEqual({ removed: 1 });
        expect(await store.oldestReadableRevision()).toBe(annDeleted);
        await expectRejects(readSnapshot(store, written), FailedPreconditionError, "revision", /revision.*older than the kept history.*newer consistency token/);
        await expectRejects(takeChangeSets(store, written, 1), FailedPreconditionError, "afterRevision", /older than the kept history/);
        expect(await readSnapshot(store, annDeleted)).toEqual(["document:a#viewer@user:bob"]);
        expect(await readSnapshot(store, bobDeleted)).toEqual([]);
        expect(describeChangeSets(await takeChangeSets(store, annDeleted, 1))).toEqual([`${bobDeleted}: delete document:a#viewer@user:bob`]);
        expect(await store.garbageCollect(olderThan)).toEqual({ removed: 0 });
      });

      it("keeps the head readable when every revision is older than the cutoff", async () => {
        await touchAll(store, ["document:a#viewer@user:ann"]);
        const head = await store.write([update("delete", "document:a#viewer@user:ann")]);
        await pause(20);
        expect(await store.garbageCollect(new Date())).toEqual({ removed: 1 });
        expect(await store.oldestReadableRevision()).toBe(head);
        expect(await readSnapshot(store, head)).toEqual([]);
        const next = await touchAll(store, ["document:b#viewer@user:ann"]);
        expect(await readSnapshot(store, next)).toEqual(["document:b#viewer@user:ann"]);
      });
      it("keeps the schema writes after the oldest readable revision for a watch from there", async () => {
        const a = await store.writeSchema("definition user {}\n// a", async () => {});
        await pause(30);
        const olderThan = new Date();
        await pause(30);
        const b = await store.writeSchema("definition user {}\n// b", async () => {});
        const touched = await touchAll(store, ["document:a#viewer@user:ann"]);
        const c = await store.writeSchema("definition user {}\n// c", async () => {});
        await store.garbageCollect(olderThan);
        expect(await store.oldestReadableRevision()).toBe(a);
        const changeSets = await takeUntilRevision(store, a, c, checkpoints);
        expect(describeChangeSets(changeSets)).toEqual([`${b}: schema changed`, `${touched}: touch document:a#viewer@user:ann`, `${c}: schema changed`]);
        expect(schemaWrites(changeSets)).toEqual([`${b}: definition user {}\n// b`, `${c}: definition user {}\n// c`]);

        // Collected up to the head: nothing to replay, and the next schema write is reported.
        await pause(20);
        await store.garbageCollect(new Date());
        expect(await store.oldestReadableRevision()).toBe(c);
        const watching = takeChangeSets(store, c, 1, checkpoints);
        const d = await store.writeSchema("definition user {}\n// d", async () => {});
        expect(schemaWrites(await watching)).toEqual([`${d}: definition user {}\n// d`]);
        expect(await store.readSchema()).toEqual({ text: "definition user {}\n// d", revision: d });
      });

      it("removes relationships that expired before the cutoff, keeping unexpired ones and those created after it until a later collection", async () => {
        const written = await touchAll(store, [`document:a#viewer@user:ann[expiration:${PAST}]`, `document:a#viewer@user:bob[expiration:${FUTURE}]`, "document:a#viewer@user:cat"]);
        await pause(30);
        const olderThan = new Date();
        await pause(30);
        const later = await touchAll(store, [`document:b#viewer@user:ann[expiration:${PAST}]`]);

        expect(await store.garbageCollect(olderThan)).toEqual({ removed: 1 });
        expect(await store.oldestReadableRevision()).toBe(written);
        expect(await readSnapshot(store, written)).toEqual([`document:a#viewer@user:bob[expiration:${FUTURE}]`, "document:a#viewer@user:cat"]);
        // A watch from the oldest readable revision still replays the expired one's creation.
        expect(describeChangeSets(await takeChangeSets(store, written, 1))).toEqual([`${later}: touch document:b#viewer@user:ann[expiration:${PAST}]`]);

        await pause(20);
        expect(await store.garbageCollect(new Date())).toEqual({ removed: 1 });
        // Gone physically: creating it again needs no expired version to end, and deleting the
        // collected one is a no-op that a watch does not report.
        const recreated = await store.write([update("create", "document:a#viewer@user:ann")]);
        const deleted = await store.write([update("delete", "document:b#viewer@user:ann")]);
        expect(describeChangeSets(await takeUntilRevision(store, later, recreated))).toEqual([`${recreated}: touch document:a#viewer@user:ann`]);
        expect(await store.headRevision()).toBe(deleted);
        expect(await readHead(store)).toEqual(["document:a#viewer@user:ann", `document:a#viewer@user:bob[expiration:${FUTURE}]`, "document:a#viewer@user:cat"]);
      });

      it("removes a relationship that expired since the last collection, though nothing was written in between", async () => {
        const expiresAt = new Date(Date.now() + 3_600_000);
        const head = await store.write([{ operation: "touch", relationship: { ...rel("document:a#viewer@user:ann"), expiresAt } }]);
        await pause(20);
        expect(await store.garbageCollect(new Date())).toEqual({ removed: 0 });
        expect(await store.oldestReadableRevision()).toBe(head);
        expect(await store.garbageCollect(new Date(expiresAt.getTime() + 1))).toEqual({ removed: 1 });
        expect(await store.oldestReadableRevision()).toBe(head);
        expect(await store.headRevision()).toBe(head);
      });

      it("fails a running watch that fell behind the collected history with FailedPreconditionError", async () => {
        const first = await touchAll(store, ["document:a#viewer@user:ann"]);
        const controller = new AbortController();
        const changeSets = store.watch(0, controller.signal)[Symbol.asyncIterator]();
        expect((await changeSets.next()).value).toMatchObject({ revision: first });
        // The consumer stalls at `first` while history moves on and is collected past it.
        await touchAll(store, ["document:b#viewer@user:ann"]);
        const head = await store.write([update("delete", "document:a#viewer@user:ann")]);
        await pause(20);
        await store.garbageCollect(new Date());
        expect(await store.oldestReadableRevision()).toBe(head);
        await expectRejects(changeSets.next(), FailedPreconditionError, "afterRevision", /older than the kept history/);
        controller.abort();
      });
    });

    describe("budgets", () => {
      const charge = (grantId: string, limit: number) => ({ grantId, limit });

      it("counts uses up to the limit, then answers exhausted and counts nothing more", async () => {
        const outcomes = [];
        for (let i = 0; i < 4; i++) outcomes.push(await store.chargeBudgets([charge("g1", 3)]));
        expect(outcomes).toEqual([{ used: [1] }, { used: [2] }, { used: [3] }, { exhausted: "g1" }]);
        expect(await store.budgetUsage(["g1"])).toEqual(new Map([["g1", 3]]));
      });

      it("counts nothing when one of several charges is exhausted, naming it", async () => {
        await store.chargeBudgets([charge("spent", 1)]);
        expect(await store.chargeBudgets([charge("a", 5), charge("spent", 1), charge("b", 5)])).toEqual({ exhausted: "spent" });
        expect(await store.budgetUsage(["a", "spent", "b"])).toEqual(new Map([["a", 0], ["spent", 1], ["b", 0]]));
        expect(await store.chargeBudgets([charge("a", 5), charge("b", 5)])).toEqual({ used: [1, 1] });
      });

      it("returns each counter's new value in the order of the charges", async () => {
        await store.chargeBudgets([charge("z", 10)]);
        await store.chargeBudgets([charge("z", 10)]);
        expect(await store.chargeBudgets([charge("z", 10), charge("a", 10)])).toEqual({ used: [3, 1] });
      });

      it("counts nothing for an empty list", async () => {
        expect(await store.chargeBudgets([])).toEqual({ used: [] });
      });

      it("reports 0 for grants never charged, and a grant's uses whatever limit it was charged with", async () => {
        await store.chargeBudgets([charge("g", 2)]);
        await store.chargeBudgets([charge("g", 5)]);
        expect(await store.budgetUsage(["never", "g"])).toEqual(new Map([["never", 0], ["g", 2]]));
        expect(await store.budgetUsage([])).toEqual(new Map());
      });

      it("lets exactly the limit of many concurrent charges of one grant succeed", async () => {
        const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => store.chargeBudgets([charge("shared", 7), charge(`own${i}`, 1)])));
        const succeeded = outcomes.filter((outcome) => "used" in outcome);
        expect(succeeded).toHaveLength(7);
        expect(succeeded.map((outcome) => ("used" in outcome ? (outcome.used[0] as number) : 0)).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(outcomes.filter((outcome) => "exhausted" in outcome)).toEqual(Array.from({ length: 13 }, () => ({ exhausted: "shared" })));
        expect((await store.budgetUsage(["shared"])).get("shared")).toBe(7);
      });

      it("makes no revision and yields nothing in a watch", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        await store.chargeBudgets([charge("g", 2)]);
        await store.chargeBudgets([charge("g", 2)]);
        await store.chargeBudgets([charge("g", 2)]);
        expect(await store.headRevision()).toBe(head);
        const next = await touchAll(store, ["document:b#viewer@user:ann"]);
        expect(describeChangeSets(await takeChangeSets(store, head, 1, { checkpoints: true }))).toEqual([`${next}: touch document:b#viewer@user:ann`]);
      });

      it.each([
        ["an empty grant id", [{ grantId: "", limit: 1 }], "charges[0].grantId"],
        ["the same grant twice", [{ grantId: "g", limit: 1 }, { grantId: "g", limit: 2 }], "charges[1].grantId"],
        ["a limit of 0", [{ grantId: "g", limit: 0 }], "charges[0].limit"],
        ["a fractional limit", [{ grantId: "g", limit: 1.5 }], "charges[0].limit"],
      ])("refuses %s with InvalidArgumentError naming it, counting nothing", async (_, charges, field) => {
        await expectRejects(store.chargeBudgets(charges), InvalidArgumentError, field, new RegExp(field.replace(/[.[\]]/g, "\\$&")));
        expect(await store.budgetUsage(["g"])).toEqual(new Map([["g", 0]]));
      });
    });

    describe("API keys", () => {
      const key = (id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id,
        owner: `owner of ${id}`,
        role: "read",
        createdAt: new Date("2030-01-01T00:00:00.000Z"),
        secretHash: `hash-${id}`,
        previousSecrets: [],
        ...overrides,
      });

      it("stores a record and reads it back whole, with and without its optional fields", async () => {
        const full = key("k1", {
          role: "admin",
          expiresAt: new Date("2031-01-01T00:00:00.123Z"),
          revokedAt: new Date("2030-06-01T00:00:00.000Z"),
          previousSecrets: [{ hash: "old", validUntil: new Date("2030-01-02T00:00:00.000Z") }],
        });
        await store.createApiKey(full);
        await store.createApiKey(key("k2"));
        expect(await store.apiKey("k1")).toEqual(full);
        expect(await store.apiKey("k2")).toEqual(key("k2"));
        expect(await store.apiKey("absent")).toBeUndefined();
      });

      it("refuses a second record with the same id with AlreadyExistsError, keeping the first", async () => {
        await store.createApiKey(key("k1"));
        await expectRejects(store.createApiKey(key("k1", { owner: "someone else" })), AlreadyExistsError, "id", /already exists/);
        expect((await store.apiKey("k1"))?.owner).toBe("owner of k1");
      });

      it("replaces a record, and refuses to replace one that does not exist with NotFoundError", async () => {
        await store.createApiKey(key("k1"));
        const rotated = key("k1", { secretHash: "new", previousSecrets: [{ hash: "hash-k1", validUntil: new Date("2030-01-01T01:00:00.000Z") }] });
        expect(await store.replaceApiKey(rotated, "hash-k1")).toEqual(rotated);
        expect(await store.apiKey("k1")).toEqual(rotated);
        await expectRejects(store.replaceApiKey(key("absent"), "hash-absent"), NotFoundError, "id", /no API key "absent"/);
        expect(await store.apiKey("absent")).toBeUndefined();
      });

      it("refuses a replacement made from a stale read with AbortedError (two rotations cannot both win)", async () => {
        await store.createApiKey(key("k1"));
        await store.replaceApiKey(key("k1", { secretHash: "first" }), "hash-k1");
        await expectRejects(store.replaceApiKey(key("k1", { secretHash: "second" }), "hash-k1"), AbortedError, "id", /changed meanwhile/);
        expect((await store.apiKey("k1"))?.secretHash).toBe("first");
      });

      it("never undoes a revocation, whatever a later replacement says", async () => {
        const revokedAt = new Date("2030-03-01T00:00:00.000Z");
        await store.createApiKey(key("k1"));
        await store.replaceApiKey(key("k1", { revokedAt }), "hash-k1");
        const rotated = await store.replaceApiKey(key("k1", { secretHash: "new" }), "hash-k1");
        expect(rotated).toMatchObject({ secretHash: "new", revokedAt });
        expect((await store.apiKey("k1"))?.revokedAt).toEqual(revokedAt);
      });

      it("lists every record oldest first, ties by id", async () => {
        const later = new Date("2030-02-01T00:00:00.000Z");
        await store.createApiKey(key("b", { createdAt: later }));
        await store.createApiKey(key("z"));
        await store.createApiKey(key("a", { createdAt: later, revokedAt: later }));
        expect((await store.apiKeys()).map(({ id }) => id)).toEqual(["z", "a", "b"]);
      });

      it("hands out records that later changes do not alter", async () => {
        await store.createApiKey(key("k1"));
        const before = await store.apiKey("k1");
        await store.replaceApiKey(key("k1", { revokedAt: new Date("2030-03-01T00:00:00.000Z") }), "hash-k1");
        expect(before?.revokedAt).toBeUndefined();
      });

      it("makes no revision and yields nothing in a watch", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        await store.createApiKey(key("k1"));
        await store.replaceApiKey(key("k1", { revokedAt: new Date() }), "hash-k1");
        expect(await store.headRevision()).toBe(head);
        const next = await touchAll(store, ["document:b#viewer@user:ann"]);
        expect(describeChangeSets(await takeChangeSets(store, head, 1, { checkpoints: true }))).toEqual([`${next}: touch document:b#viewer@user:ann`]);
      });

      it.each([
        ["an empty id", key(""), "id"],
        ["an empty owner", key("k", { owner: "" }), "owner"],
        ["an unknown role", key("k", { role: "root" as ApiKeyRecord["role"] }), "role"],
        ["an empty secret hash", key("k", { secretHash: "" }), "secretHash"],
        ["an invalid expiry", key("k", { expiresAt: new Date(Number.NaN) }), "expiresAt"],
        ["an empty previous hash", key("k", { previousSecrets: [{ hash: "", validUntil: new Date() }] }), "previousSecrets[0].hash"],
      ])("refuses a record with %s with InvalidArgumentError naming it", async (_, record, field) => {
        await expectRejects(store.createApiKey(record), InvalidArgumentError, field, new RegExp(field.replace(/[.[\]]/g, "\\$&")));
        expect(await store.apiKeys()).toEqual([]);
      });
    });

    describe("close", () => {
      it("makes every later call fail with StoreUnavailableError, and may be called twice", async () => {
        const head = await touchAll(store, ["document:a#viewer@user:ann"]);
        const reader = store.snapshot(head);
        await store.close();
        await store.close();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ["headRevision", () => store.headRevision()],
          ["snapshot", async () => store.snapshot(0)],
          ["an earlier reader", () => reader.queryRelationships({})],
          ["write", () => touchAll(store, ["document:b#viewer@user:ann"])],
          ["deleteByFilter", () => store.deleteByFilter({})],
          ["readSchema", () => store.readSchema()],
          ["writeSchema", () => store.writeSchema("definition user {}", async () => {})],
          ["watch", () => takeChangeSets(store, 0, 1)],
          ["datastoreId", () => store.datastoreId()],
          ["importRelationships", () => store.importRelationships((async function* () {})())],
          ["garbageCollect", () => store.garbageCollect(new Date())],
          ["chargeBudgets", () => store.chargeBudgets([{ grantId: "g", limit: 1 }])],
          ["budgetUsage", () => store.budgetUsage(["g"])],
          ["createApiKey", () => store.createApiKey({ id: "k", owner: "o", role: "read", createdAt: new Date(), secretHash: "h", previousSecrets: [] })],
          ["apiKey", () => store.apiKey("k")],
          ["apiKeys", () => store.apiKeys()],
          ["oldestReadableRevision", () => store.oldestReadableRevision()],
        ];
        for (const [call, run] of calls) {
          await expect(run(), call).rejects.toThrow(StoreUnavailableError);
        }
      });

      it("ends a running watch with StoreUnavailableError", async () => {
        // Settled into a value at once: the watch may fail while `close` is still running.
        const watching = takeChangeSets(store, 0, 1).then(
          () => undefined,
          (error: unknown) => error,
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        await store.close();
        expect(await watching).toBeInstanceOf(StoreUnavailableError);
      });
    });
  });
}
