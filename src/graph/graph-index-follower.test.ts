import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../store/index.ts";
import { FailedPreconditionError, InvalidArgumentError, formatRelationship, parseRelationship, parseSubjectRef } from "../tuple/index.ts";
import type { Change, ChangeSet, QueryOptions, RelationshipFilter, RelationshipReader, Store, WatchOptions } from "../store/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { startGraphIndexFollower } from "./graph-index-follower.ts";
import { buildGraphIndex } from "./load-graph-index.ts";
import type { GraphIndexFollower, GraphLogger } from "./graph-follower-types.ts";
import type { GraphIndexView } from "./graph-types.ts";

const SCHEMA = `
definition user {}
definition group {
  relation member: user | group#member
}
definition doc {
  relation viewer: user | group#member
}
`;

const started: { store: Store; follower: GraphIndexFollower }[] = [];
afterEach(async () => {
  for (const { store, follower } of started.splice(0)) {
    await follower.stop();
    await store.close();
  }
});

async function storeWith(relationships: readonly string[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.writeSchema(SCHEMA, async () => {});
  await store.write(relationships.map((text) => ({ operation: "touch" as const, relationship: parseRelationship(text) })));
  return store;
}

async function follow(store: Store, logger?: GraphLogger): Promise<GraphIndexFollower> {
  const follower = await startGraphIndexFollower(store, { pageSize: 2, logger, retryMs: 20 });
  started.push({ store, follower });
  return follower;
}

function groupsOf(index: GraphIndexView, subject: string): string[] {
  const set = index.memberships(parseSubjectRef(subject)).get("group#member");
  return [...(set?.values() ?? [])].map((n) => index.idOf("group", n)).sort();
}

describe("startGraphIndexFollower", () => {
  it("loads the relationships and the schema live at the head, page by page, and logs the load", async () => {
    const store = await storeWith(["group:a#member@user:ann", "group:b#member@group:a#member", "doc:x#viewer@group:b#member", "doc:y#viewer@user:ann", "doc:y#viewer@user:bob"]);
    await store.write([{ operation: "delete", relationship: parseRelationship("doc:y#viewer@user:bob") }]);
    const logged: string[] = [];
    const logger: GraphLogger = { info: (fields, message) => logged.push(`${message} ${JSON.stringify(fields)}`), warn: () => {} };
    const follower = await follow(store, logger);
    const index = follower.index;
    expect(index.revision).toBe(await store.headRevision());
    expect(index.stats()).toMatchObject({ relationships: 4, closedRelations: 2 });
    expect(index.isClosed("group", "member")).toBe(true);
    expect(groupsOf(index, "user:ann")).toEqual(["a", "b"]);
    expect(logged).toEqual([expect.stringMatching(/^graph index: loaded \{"revision":3,"relationships":4,"objects":5,"ms":\d+\}$/)]);
    expect(index.stats().buildMs).toBeGreaterThanOrEqual(0);
  });

  it("logs its progress every 100k relationships of a large load", async () => {
    const store = new MemoryStore();
    await store.writeSchema(SCHEMA, async () => {});
    const relationships = Array.from({ length: 100_001 }, (_, i) => parseRelationship(`doc:d${i}#viewer@user:u${i % 1000}`));
    await store.importRelationships((async function* () {
      yield relationships;
    })());
    const logged: string[] = [];
    const follower = await startGraphIndexFollower(store, { pageSize: 40_000, logger: { info: (_fields, message) => logged.push(message), warn: () => {} } });
    started.push({ store, follower });
    expect(logged).toEqual(["graph index: loading", "graph index: loaded"]);
    expect(follower.index.stats().relationships).toBe(100_001);
  });

  it("applies a write once waitFor its revision resolves, and tells its listeners", async () => {
    const store = await storeWith(["group:a#member@user:ann"]);
    const follower = await follow(store);
    const advanced: number[] = [];
    const remove = follower.onAdvance((revision) => advanced.push(revision));
    const revision = await store.write([
      { operation: "touch", relationship: parseRelationship("group:b#member@group:a#member") },
      { operation: "delete", relationship: parseRelationship("group:a#member@user:ann") },
      { operation: "touch", relationship: parseRelationship("group:a#member@user:bob") },
    ]);
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    expect(follower.index.revision).toBe(revision);
    expect(groupsOf(follower.index, "user:ann")).toEqual([]);
    expect(groupsOf(follower.index, "user:bob")).toEqual(["a", "b"]);
    expect(follower.index.lastChangedAt("group", "member")).toBe(revision);
    expect(advanced).toEqual([revision]);
    expect(follower.following).toBe(true);

    remove();
    const next = await store.write([{ operation: "touch", relationship: parseRelationship("doc:x#viewer@user:bob") }]);
    expect(await follower.waitFor(next, 5_000)).toBe(true);
    expect(advanced).toEqual([revision]);
  });

  it("answers waitFor at once for a revision already reflected, and false after a timeout or an abort", async () => {
    const store = await storeWith(["group:a#member@user:ann"]);
    const follower = await follow(store);
    expect(await follower.waitFor(follower.index.revision, 0)).toBe(true);
    expect(await follower.waitFor(follower.index.revision + 1, 10)).toBe(false);
    const abort = new AbortController();
    const waiting = follower.waitFor(follower.index.revision + 1, 60_000, abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
  });

  it("resolves waiters false when stopped, and keeps the index it had", async () => {
    const store = await storeWith(["group:a#member@user:ann"]);
    const follower = await follow(store);
    const waiting = follower.waitFor(follower.index.revision + 1, 60_000);
    await follower.stop();
    expect(await waiting).toBe(false);
    expect(follower.following).toBe(false);
    expect(await follower.waitFor(follower.index.revision + 1, 60_000)).toBe(false);
    expect(groupsOf(follower.index, "user:ann")).toEqual(["a"]);
  });

  it("picks up a schema write and rebuilds the closure for it", async () => {
    const store = await storeWith(["group:a#member@user:ann", "group:b#member@group:a#member"]);
    const follower = await follow(store);
    const revision = await store.writeSchema(
      `
definition user {}
caveat only_if(flag bool) { flag }
definition group {
  relation member: user | group#member | user with only_if
}
definition doc {
  relation viewer: user | group#member
}`,
      async () => {},
    );
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    expect(follower.index.schema?.caveats.has("only_if")).toBe(true);
    expect(follower.index.isClosed("group", "member")).toBe(false);
    expect(follower.index.memberships(parseSubjectRef("user:ann")).get("group#member")).toBeUndefined();
  });

  it("reaches the revision of a write that changed nothing, through the watch's checkpoints", async () => {
    const store = await storeWith(["group:a#member@user:ann"]);
    const follower = await follow(store);
    const builtAt = follower.index.revision;
    const revision = await store.write([{ operation: "delete", relationship: parseRelationship("group:a#member@user:nobody") }]);
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    expect(follower.index.revision).toBe(revision);
    expect(follower.index.lastChangedAt("group", "member")).toBe(builtAt);
  });

  it("logs a failing watch, stops following, and catches up once the store answers", async () => {
    const inner = await storeWith(["group:a#member@user:ann"]);
    const failing = new FlakyWatchStore(inner);
    const warnings: string[] = [];
    const follower = await follow(failing, { info: () => {}, warn: (_fields, message) => warnings.push(message) });
    failing.breakWatch();
    const revision = await inner.write([{ operation: "touch", relationship: parseRelationship("group:a#member@user:bob") }]);
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    expect(groupsOf(follower.index, "user:bob")).toEqual(["a"]);
    expect(warnings).toContain("graph index: the store's watch failed; retrying");
    expect(follower.following).toBe(true);
  });

  it("reloads the index when the store no longer keeps the history it would follow from", async () => {
    const inner = await storeWith(["group:a#member@user:ann"]);
    const failing = new FlakyWatchStore(inner);
    const warnings: string[] = [];
    const follower = await follow(failing, { info: () => {}, warn: (_fields, message) => warnings.push(message) });
    const before = follower.index;
    const revision = await inner.write([{ operation: "touch", relationship: parseRelationship("group:b#member@group:a#member") }]);
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    failing.breakWatch(new FailedPreconditionError("afterRevision: history before revision 9 was garbage collected", { field: "afterRevision" }));
    const next = await inner.write([{ operation: "touch", relationship: parseRelationship("group:a#member@user:bob") }]);
    expect(await follower.waitFor(next, 5_000)).toBe(true);
    expect(warnings).toContain("graph index: cannot follow the store from its revision; reloading");
    expect(follower.index).not.toBe(before);
    expect(groupsOf(follower.index, "user:bob")).toEqual(["a", "b"]);
    expect(groupsOf(before, "user:bob")).toEqual([]);
  });
});

describe("startGraphIndexFollower with schema writes piling up behind its watch", () => {
  const S0 = `definition user {}
definition doc {
  relation viewer: user
  relation banned: user
  permission view = viewer
}`;
  const S1 = S0.replace("permission view = viewer", "permission view = viewer - banned");
  const S2 = `${S1}\ndefinition other {}`;

  // The schema the index carries, by name, after each change set: `revision: name`.
  function recordSchemas(follower: GraphIndexFollower, names: Record<string, string>): string[] {
    const seen: string[] = [];
    follower.onAdvance((revision) => seen.push(`${revision}: ${names[follower.index.schema?.source ?? ""] ?? "unknown"}`));
    return seen;
  }

  it("pairs each revision with the schema written at or before it, not the newest one", async () => {
    const store = new GatedWatchStore();
    await store.writeSchema(S0, async () => {});
    await store.write([{ operation: "touch", relationship: parseRelationship("doc:1#viewer@user:a") }]);
    const follower = await follow(store);
    const seen = recordSchemas(follower, { [S0]: "S0", [S1]: "S1", [S2]: "S2" });
    const r1 = await store.writeSchema(S1, async () => {});
    const r2 = await store.write([{ operation: "touch", relationship: parseRelationship("doc:1#banned@user:a") }]);
    const r3 = await store.writeSchema(S2, async () => {});
    // A client holding the token of r1 waits for the index to reach it: it must then hold S1.
    const reachedR1 = follower.waitFor(r1, 5_000).then((reached) => `${reached} ${follower.index.revision}: ${follower.index.schema?.source === S1 ? "S1" : "other"}`);
    store.openWatches();
    expect(await reachedR1).toBe(`true ${r1}: S1`);
    expect(await follower.waitFor(r3, 5_000)).toBe(true);
    expect(seen).toEqual([`${r1}: S1`, `${r2}: S1`, `${r3}: S2`]);
  });

  it("keeps a relation open while the schema written at the index's revision allows expiring members, though a later schema closes it", async () => {
    const schema = (member: string): string => `use expiration
definition user {}
definition group {
  relation member: ${member}
}
definition doc {
  relation viewer: user | group#member
}`;
    const closed = schema("user | group#member");
    const open = schema("user | group#member | user with expiration");
    const store = new GatedWatchStore();
    await store.writeSchema(closed, async () => {});
    await store.write([{ operation: "touch", relationship: parseRelationship("doc:1#viewer@group:g#member") }]);
    const follower = await follow(store);
    const seen: string[] = [];
    follower.onAdvance((revision) => {
      const name = follower.index.schema?.source === open ? "open" : "closed";
      const groups = follower.index.memberships(parseSubjectRef("user:u")).get("group#member")?.size ?? 0;
      seen.push(`${revision}: ${name} schema, group#member ${follower.index.isClosed("group", "member") ? "closed" : "open"}, ${groups} groups`);
    });
    const member = parseRelationship("group:g#member@user:u[expiration:2099-01-01T00:00:00Z]");
    const a = await store.writeSchema(open, async () => {});
    const b = await store.write([{ operation: "touch", relationship: member }]);
    const c = await store.write([{ operation: "delete", relationship: member }]);
    const d = await store.writeSchema(closed, async () => {});
    store.openWatches();
    expect(await follower.waitFor(d, 5_000)).toBe(true);
    expect(seen).toEqual([
      `${a}: open schema, group#member open, 0 groups`,
      `${b}: open schema, group#member open, 0 groups`,
      `${c}: open schema, group#member open, 0 groups`,
      `${d}: closed schema, group#member closed, 0 groups`,
    ]);
  });

  it("reloads the index when a schema change set comes without the text written at it", async () => {
    const store = new SchemaTextDroppingStore();
    await store.writeSchema(S0, async () => {});
    const warnings: string[] = [];
    const follower = await follow(store, { info: () => {}, warn: (_fields, message) => warnings.push(message) });
    const before = follower.index;
    const revision = await store.writeSchema(S1, async () => {});
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    expect(warnings).toContain("graph index: cannot follow the store from its revision; reloading");
    expect(follower.index).not.toBe(before);
    expect(follower.index.schema?.source).toBe(S1);
  });
});

describe("startGraphIndexFollower when applying a change set fails half-way", () => {
  it("serves no revision from the half-changed index, and reloads it", async () => {
    const store = new MalformingStore();
    await store.writeSchema("definition user {}\ndefinition group {\n  relation member: user | group#member\n}", async () => {});
    const follower = await follow(store);
    const revision = await store.write([
      { operation: "touch", relationship: parseRelationship("group:eng#member@user:ann") },
      { operation: "touch", relationship: parseRelationship("group:ops#member@user:bob") },
    ]);
    expect(await follower.waitFor(revision, 5_000)).toBe(true);
    expect(store.malformed).toBe(1);
    expect(groupsOf(follower.index, "user:ann")).toEqual(["eng"]);
    expect(groupsOf(follower.index, "user:bob")).toEqual(["ops"]);
  });
});

describe("startGraphIndexFollower with a revision of more than maxChanges changes", () => {
  const touch = (text: string) => ({ operation: "touch" as const, relationship: parseRelationship(text) });
  const importAll = async (store: Store, texts: readonly string[]): Promise<number> =>
    (
      await store.importRelationships(
        (async function* () {
          yield texts.map((text) => parseRelationship(text));
        })(),
      )
    ).revision;

  // Every live relationship of the store at the index's revision, with whether the index's posting
  // holds it (plain relationships only, which is all these tests write).
  async function postingsOf(index: GraphIndexView, store: Store): Promise<string[]> {
    const live = await store.snapshot(index.revision).queryRelationships({});
    return live.map((relationship) => {
      const { resource, relation, subject } = relationship;
      const resourceNumber = index.numberOf(resource.type, resource.id);
      const subjectNumber = index.numberOf(subject.type, subject.id);
      const posting = resourceNumber === undefined ? undefined : index.posting(resource.type, resourceNumber, relation);
      const group = subject.relation === undefined ? subject.type : `${subject.type}#${subject.relation}`;
      return `${formatRelationship(relationship)}: ${subjectNumber !== undefined && posting?.groups.get(group)?.has(subjectNumber) === true}`;
    });
  }

  // What the index answers for these subjects, as `subject: groups`.
  const membershipsOf = (index: GraphIndexView, subjects: readonly string[]): string[] => subjects.map((subject) => `${subject}: ${groupsOf(index, subject).join(" ")}`);

  it("applies a revision of maxChanges changes as a change set, and loads a bigger one in the background while the old index answers at its revision", async () => {
    const store = new LoadPausingStore();
    await store.writeSchema(SCHEMA, async () => {});
    await store.write([touch("group:a#member@user:ann")]);
    const info: string[] = [];
    const follower = await startGraphIndexFollower(store, { pageSize: 2, maxChanges: 3, retryMs: 20, logger: { info: (fields, message) => info.push(`${message} ${JSON.stringify(fields)}`), warn: () => {} } });
    started.push({ store, follower });
    const before = follower.index;
    const atLimit = await store.write([touch("group:a#member@user:bob"), touch("doc:x#viewer@group:a#member"), touch("doc:y#viewer@user:ann")]);
    expect(await follower.waitFor(atLimit, 5_000)).toBe(true);
    expect(follower.index).toBe(before);
    info.length = 0;

    const loading = store.holdReads();
    const imported = await importAll(store, ["group:b#member@user:u0", "group:b#member@user:u1", "group:b#member@user:u2", "group:c#member@group:b#member", "doc:x#viewer@group:c#member"]);
    const reachedImport = follower.waitFor(imported, 5_000).then((reached) => `${reached}, swapped: ${follower.index !== before}`);
    await loading;
    // The load is under way: the old index answers exactly its own revision, nothing of the import.
    expect(follower.index).toBe(before);
    expect(follower.index.revision).toBe(atLimit);
    expect(follower.following).toBe(true);
    expect(membershipsOf(before, ["user:u0", "user:ann", "user:bob"])).toEqual(["user:u0: ", "user:ann: a", "user:bob: a"]);
    expect(before.stats().relationships).toBe(4);
    expect(await follower.waitFor(imported, 10)).toBe(false);
    // Written while the load reads the head it started at: the resumed watch must deliver them.
    const during = await store.write([touch("group:c#member@user:ann"), { operation: "delete", relationship: parseRelationship("group:b#member@user:u2") }]);
    const reachedDuring = follower.waitFor(during, 5_000);
    store.releaseReads();

    expect(await reachedImport).toBe("true, swapped: true");
    expect(await reachedDuring).toBe(true);
    const after = follower.index;
    expect(after.revision).toBe(during);
    const postings = await postingsOf(after, store);
    expect(postings.filter((line) => !line.endsWith(": true"))).toEqual([]);
    expect(after.stats().relationships).toBe(postings.length);
    const subjects = ["user:u0", "user:u1", "user:u2", "user:ann", "user:bob"];
    expect(membershipsOf(after, subjects)).toEqual(["user:u0: b c", "user:u1: b c", "user:u2: ", "user:ann: a c", "user:bob: a"]);
    expect(membershipsOf(after, subjects)).toEqual(membershipsOf(await buildGraphIndex(store), subjects));
    expect(info).toEqual([
      `graph index: reloading in the background {"revision":${atLimit},"reason":"revision ${imported} changed more than 3 relationships"}`,
      expect.stringMatching(/^graph index: loaded /),
      expect.stringMatching(new RegExp(`^graph index: reloaded \\{"from":${atLimit},"revision":${imported},"relationships":9,"ms":\\d+\\}$`)),
    ]);
  });

  it("keeps the index it had when stopped during a reload", async () => {
    const store = new LoadPausingStore();
    await store.writeSchema(SCHEMA, async () => {});
    await store.write([touch("group:a#member@user:ann")]);
    const follower = await startGraphIndexFollower(store, { pageSize: 2, maxChanges: 1, retryMs: 20 });
    started.push({ store, follower });
    const before = follower.index;
    const loading = store.holdReads();
    await importAll(store, ["group:b#member@user:u0", "group:b#member@user:u1", "group:b#member@user:u2"]);
    await loading;
    const stopping = follower.stop();
    store.releaseReads();
    await stopping;
    expect(follower.index).toBe(before);
    expect(membershipsOf(follower.index, ["user:u0", "user:ann"])).toEqual(["user:u0: ", "user:ann: a"]);
  });

  it.each([0, 2.5])("refuses maxChanges %s with InvalidArgumentError naming it", async (maxChanges) => {
    const store = await storeWith([]);
    const error = await startGraphIndexFollower(store, { maxChanges }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe("maxChanges");
    await store.close();
  });
});

describe("buildGraphIndex", () => {
  it("loads an index of the store's head that does not follow later writes", async () => {
    const store = await storeWith(["group:a#member@user:ann"]);
    const index = await buildGraphIndex(store);
    await store.write([{ operation: "touch", relationship: parseRelationship("group:a#member@user:bob") }]);
    expect(groupsOf(index, "user:ann")).toEqual(["a"]);
    expect(index.numberOf("user", "bob")).toBeUndefined();
    await store.close();
  });
});

/** FlakyWatchStore is a MemoryStore whose running watch can be made to fail once. */
class FlakyWatchStore extends MemoryStore {
  readonly #inner: MemoryStore;
  #fail: ((error: Error) => void) | undefined;

  constructor(inner: MemoryStore) {
    super();
    this.#inner = inner;
  }

  breakWatch(error: Error = new Error("connection lost")): void {
    this.#fail?.(error);
  }

  override headRevision() {
    return this.#inner.headRevision();
  }

  override snapshot(revision: number) {
    return this.#inner.snapshot(revision);
  }

  override readSchema() {
    return this.#inner.readSchema();
  }

  override async *watch(afterRevision: number, signal: AbortSignal) {
    const local = new AbortController();
    const failed = new Promise<never>((_, reject) => {
      this.#fail = (error) => {
        this.#fail = undefined;
        local.abort();
        reject(error);
      };
    });
    failed.catch(() => {});
    signal.addEventListener("abort", () => local.abort(), { once: true });
    const iterator = this.#inner.watch(afterRevision, local.signal)[Symbol.asyncIterator]();
    for (;;) {
      const next = await Promise.race([iterator.next(), failed]);
      if (next.done) return;
      yield next.value;
    }
  }
}

/** GatedWatchStore is a MemoryStore whose watches start reading only at `openWatches`, so that writes pile up behind them. */
class GatedWatchStore extends MemoryStore {
  #open: () => void = () => {};
  readonly #opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });

  openWatches(): void {
    this.#open();
  }

  override async *watch(afterRevision: number, signal: AbortSignal, options?: WatchOptions): AsyncIterable<ChangeSet> {
    await this.#opened;
    yield* super.watch(afterRevision, signal, options);
  }
}

/** SchemaTextDroppingStore is a MemoryStore whose watch reports schema writes without their text (a broken store), once. */
/** MalformingStore's watch breaks the last change of the first change set with two changes, so that applying it fails half-way. */
class MalformingStore extends MemoryStore {
  malformed = 0;

  override async *watch(afterRevision: number, signal: AbortSignal, options?: WatchOptions): AsyncIterable<ChangeSet> {
    for await (const changeSet of super.watch(afterRevision, signal, options)) {
      if (changeSet.changes.length === 2 && this.malformed === 0) {
        this.malformed += 1;
        const [first] = changeSet.changes;
        const broken = { operation: "touch" as const, relationship: { resource: { type: "group", id: "ops" }, relation: "member" } as unknown as Relationship };
        yield { ...changeSet, changes: [first as Change, broken] };
      } else {
        yield changeSet;
      }
    }
  }
}

class SchemaTextDroppingStore extends MemoryStore {
  #broken = true;

  override async *watch(afterRevision: number, signal: AbortSignal, options?: WatchOptions): AsyncIterable<ChangeSet> {
    for await (const changeSet of super.watch(afterRevision, signal, options)) {
      if (changeSet.schemaChanged === true && this.#broken) {
        this.#broken = false;
        yield { revision: changeSet.revision, changes: [], schemaChanged: true };
      } else {
        yield changeSet;
      }
    }
  }
}

/**
 * LoadPausingStore is a MemoryStore whose snapshot reads can be held: `holdReads` resolves once a
 * read is waiting (a load is under way), `releaseReads` lets it and every later read go on.
 */
class LoadPausingStore extends MemoryStore {
  #held: { readonly released: Promise<void>; readonly onWaiting: () => void } | undefined;
  #release = (): void => {};

  holdReads(): Promise<void> {
    return new Promise((onWaiting) => {
      const released = new Promise<void>((resolve) => (this.#release = resolve));
      this.#held = { released, onWaiting };
    });
  }

  releaseReads(): void {
    this.#held = undefined;
    this.#release();
  }

  override snapshot(revision: number): RelationshipReader {
    const reader = super.snapshot(revision);
    return {
      revision: reader.revision,
      now: reader.now,
      queryRelationships: async (filter: RelationshipFilter, options?: QueryOptions) => {
        const held = this.#held;
        if (held !== undefined) {
          held.onWaiting();
          await held.released;
        }
        return reader.queryRelationships(filter, options);
      },
    };
  }
}
