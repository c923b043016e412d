import { afterAll, describe, expect, it } from "vitest";
import { AbortedError, AlreadyExistsError, PostgresStore, StoreUnavailableError, migrate } from "../../src/store/index.ts";
import type { ChangeSet, PostgresConnectOptions, Store } from "../../src/store/index.ts";
import { runStoreConformance } from "../../src/store/store.conformance.ts";
import { formatRelationship, parseRelationship } from "../../src/tuple/index.ts";
import type { Relationship } from "../../src/tuple/index.ts";
import { postgresTestDatabase } from "./postgres-test-database.ts";

const database = await postgresTestDatabase();

afterAll(async () => {
  await database?.drop();
});

describe.skipIf(database === undefined)("PostgresStore on a Postgres server", () => {
  const db = database as NonNullable<typeof database>;
  const opened: Store[] = [];

  // Each store gets a schema of its own unless told to share one.
  async function openStore(options: PostgresConnectOptions = {}): Promise<PostgresStore> {
    const store = await PostgresStore.connect(db.url, { schema: db.newSchema(), poolSize: 4, ...options });
    opened.push(store);
    return store;
  }

  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  runStoreConformance("PostgresStore on Postgres", (options = {}) => PostgresStore.connect(db.url, { schema: db.newSchema(), poolSize: 4, now: options.now }));

  it("migrates once when two processes start at the same time, and keeps the datastore id", async () => {
    const schema = db.newSchema();
    const results = await Promise.all([migrate({ url: db.url, schema }), migrate({ url: db.url, schema })]);
    expect(results.flat().sort()).toEqual(["0001_initial", "0002_schema_history", "0003_budgets", "0004_api_keys"]);
    const [first, second] = await Promise.all([openStore({ schema }), openStore({ schema, migrate: false })]);
    expect(await first.datastoreId()).toBe(await second.datastoreId());
    expect(await migrate({ url: db.url, schema })).toEqual([]);
  });

  it("lets exactly the limit of concurrent charges of one grant through two pools succeed, and keeps the count for a new pool", async () => {
    const schema = db.newSchema();
    const [a, b] = [await openStore({ schema }), await openStore({ schema, migrate: false })];
    const head = await a.headRevision();
    // Each charge also takes a grant of its own, before or after the shared one, so that
    // overlapping sets of rows are locked in both orders of the input.
    const charges = (i: number) => {
      const own = { grantId: `own${i}`, limit: 1 };
      const shared = { grantId: "shared", limit: 13 };
      return i % 3 === 0 ? [own, shared] : [shared, own];
    };
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).chargeBudgets(charges(i))));
    expect(outcomes.filter((outcome) => "used" in outcome)).toHaveLength(13);
    expect(outcomes.filter((outcome) => "exhausted" in outcome)).toHaveLength(27);
    const c = await openStore({ schema, migrate: false });
    expect((await c.budgetUsage(["shared"])).get("shared")).toBe(13);
    expect(await c.headRevision()).toBe(head);
  });

  it("gives concurrent writers through two pools unique, dense revisions, each write visible exactly once", async () => {
    const schema = db.newSchema();
    const [a, b] = [await openStore({ schema }), await openStore({ schema })];
    const lines = Array.from({ length: 60 }, (_, i) => `document:d${i}#viewer@user:u${i}`);
    const revisions = await Promise.all(lines.map((line, i) => (i % 2 === 0 ? a : b).write([{ operation: "touch", relationship: parseRelationship(line) }])));
    const sorted = [...revisions].sort((x, y) => x - y);
    expect(sorted).toEqual(Array.from({ length: lines.length }, (_, i) => (sorted[0] as number) + i));
    expect(await a.headRevision()).toBe(sorted[sorted.length - 1]);

    const read = (await b.snapshot(await b.headRevision()).queryRelationships({})).map(formatRelationship);
    expect([...read].sort()).toEqual([...lines].sort());
    const changeSets = await take(a, 0, lines.length);
    expect(changeSets.map((c) => c.revision)).toEqual(sorted);
    expect(changeSets.flatMap((c) => c.changes.map((change) => formatRelationship(change.relationship))).sort()).toEqual([...lines].sort());
  });

  it("shows nothing of a write before it commits, and makes a concurrent writer wait for the next revision", async () => {
    const schema = db.newSchema();
    let pause: Promise<void> | undefined;
    let paused = (): void => {};
    const reachedCommit = new Promise<void>((resolve) => {
      paused = resolve;
    });
    const slow = await openStore({
      schema,
      beforeCommit: async () => {
        paused();
        await pause;
      },
    });
    const other = await openStore({ schema, migrate: false });
    const head = await other.write([{ operation: "touch", relationship: parseRelationship("document:a#viewer@user:ann") }]);

    let resume = (): void => {};
    pause = new Promise((resolve) => {
      resume = resolve;
    });
    const slowWrite = slow.write([
      { operation: "delete", relationship: parseRelationship("document:a#viewer@user:ann") },
      { operation: "touch", relationship: parseRelationship("document:b#viewer@user:bob") },
    ]);
    await reachedCommit;
    const waitingWrite = other.write([{ operation: "touch", relationship: parseRelationship("document:c#viewer@user:cat") }]);
    expect(await other.headRevision()).toBe(head);
    expect((await other.snapshot(head).queryRelationships({})).map(formatRelationship)).toEqual(["document:a#viewer@user:ann"]);
    await expect(other.snapshot(head + 1).queryRelationships({})).rejects.toThrow(/newer than the head/);

    resume();
    expect(await slowWrite).toBe(head + 1);
    expect(await waitingWrite).toBe(head + 2);
    expect((await other.snapshot(head + 1).queryRelationships({})).map(formatRelationship)).toEqual(["document:b#viewer@user:bob"]);
  });

  it("rolls back a write whose connection is killed before COMMIT, and a retry succeeds", async () => {
    const schema = db.newSchema();
    let kill = false;
    const writer = await openStore({
      schema,
      beforeCommit: async (tx) => {
        if (!kill) return;
        const pid = (await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;
        await db.runAdmin("SELECT pg_terminate_backend($1)", [pid]);
        await waitUntil(async () => (await db.runAdmin("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).rowCount === 0);
      },
    });
    const reader = await openStore({ schema, migrate: false });
    const before = await writer.write([{ operation: "touch", relationship: parseRelationship("document:a#viewer@user:ann") }]);

    kill = true;
    const update = [{ operation: "touch" as const, relationship: parseRelationship("document:b#viewer@user:bob") }];
    const error = await writer.write(update).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error instanceof StoreUnavailableError || error instanceof AbortedError, String(error)).toBe(true);
    expect((error as Error).message).not.toMatch(/SELECT|INSERT|UPDATE|relationships/);
    expect(await reader.headRevision()).toBe(before);
    expect((await reader.snapshot(before).queryRelationships({})).map(formatRelationship)).toEqual(["document:a#viewer@user:ann"]);

    kill = false;
    const retried = await writer.write(update);
    expect(retried).toBe(before + 1);
    expect((await reader.snapshot(retried).queryRelationships({})).map(formatRelationship)).toEqual(["document:a#viewer@user:ann", "document:b#viewer@user:bob"]);
  });

  it("delivers a change to a watch on another store instance within moments of the commit", async () => {
    const schema = db.newSchema();
    // A poll interval far beyond the assertion: only LISTEN/NOTIFY can deliver in time.
    const watcher = await openStore({ schema, watchPollMs: 60_000 });
    const writer = await openStore({ schema, migrate: false });
    const controller = new AbortController();
    const received = (async () => {
      for await (const changeSet of watcher.watch(0, controller.signal)) return { changeSet, at: performance.now() };
      return undefined;
    })();
    // Let the watch reach its wait for the next commit.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const revision = await writer.write([{ operation: "touch", relationship: parseRelationship("document:a#viewer@user:ann") }]);
    const committedAt = performance.now();
    const result = await received;
    controller.abort();
    expect(result?.changeSet.revision).toBe(revision);
    expect((result?.at ?? Number.POSITIVE_INFINITY) - committedAt).toBeLessThan(2_000);
  });

  it("reconnects its LISTEN connection after the backend is killed, and a later change still arrives within moments", async () => {
    const schema = db.newSchema();
    // A poll interval far beyond the assertion: only the reconnected LISTEN can deliver in time.
    const watcher = await openStore({ schema, watchPollMs: 60_000 });
    const writer = await openStore({ schema, migrate: false });
    const listenerPids = async (): Promise<number[]> =>
      (await db.runAdmin("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1", [`LISTEN mandate_changes_${schema}`])).rows.map(
        (row: { pid: number }) => row.pid,
      );
    const controller = new AbortController();
    const received: Array<{ revision: number; at: number }> = [];
    const watching = (async () => {
      for await (const changeSet of watcher.watch(0, controller.signal)) received.push({ revision: changeSet.revision, at: performance.now() });
    })();
    await waitUntil(async () => (await listenerPids()).length === 1);
    const [killed] = await listenerPids();
    await db.runAdmin("SELECT pg_terminate_backend($1)", [killed]);
    await waitUntil(async () => {
      const pids = await listenerPids();
      return pids.length === 1 && pids[0] !== killed;
    });

    const revision = await writer.write([{ operation: "touch", relationship: parseRelationship("document:a#viewer@user:ann") }]);
    const committedAt = performance.now();
    await waitUntil(async () => received.length > 0, 5_000);
    controller.abort();
    await watching;
    expect(received.map((r) => r.revision)).toEqual([revision]);
    expect((received[0]?.at ?? Number.POSITIVE_INFINITY) - committedAt).toBeLessThan(2_000);
  });

  it("imports 100k relationships at one revision, and fails a whole import on one duplicate", async () => {
    const store = await openStore();
    const head = await store.write([{ operation: "touch", relationship: parseRelationship("document:existing#viewer@user:ann") }]);
    const progress: number[] = [];
    const result = await store.importRelationships(generated(100_000, 10_000), { onProgress: (imported) => progress.push(imported) });
    expect(result).toEqual({ revision: head + 1, imported: 100_000 });
    expect(progress).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 10_000));
    const reader = store.snapshot(result.revision);
    expect((await reader.queryRelationships({ resourceType: "document", resourceId: "d99999", relation: "viewer" })).map(formatRelationship)).toEqual([
      "document:d99999#viewer@user:u99999",
    ]);
    expect(await reader.queryRelationships({ resourceType: "document" }, { limit: 100_002 })).toHaveLength(100_001);

    async function* withDuplicate(): AsyncIterable<Relationship[]> {
      yield* generated(20_000, 10_000, "fresh");
      yield [parseRelationship("document:d500#viewer@user:u500")];
    }
    const failed = store.importRelationships(withDuplicate());
    await expect(failed).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(failed).rejects.toThrow(/document:d500#viewer@user:u500/);
    expect(await store.headRevision()).toBe(result.revision);
    expect(await store.snapshot(result.revision).queryRelationships({ resourceIdPrefix: "fresh" })).toEqual([]);
  });

  it("imports ids of every allowed character, caveat contexts full of CSV and JSON specials, and expiries, and reads them back unchanged", async () => {
    const store = await openStore();
    const result = await store.importRelationships(batchesOf(AWKWARD.slice(0, 2), AWKWARD.slice(2)));
    expect(result.imported).toBe(AWKWARD.length);
    const read = await store.snapshot(result.revision).queryRelationships({});
    expect(sortByKey(read)).toEqual(sortByKey(AWKWARD));
  });

  it("fails an import that gives a relationship twice, naming the first repeat in input order, and leaves the store as it was", async () => {
    const store = await openStore();
    const head = await store.write([{ operation: "touch", relationship: parseRelationship("folder:root#viewer@user:ann") }]);
    const input = ["document:a#viewer@user:ann", "document:b#viewer@user:ann", "document:c#viewer@user:ann", "document:b#viewer@user:ann", "document:a#viewer@user:ann"];
    const failed = store.importRelationships(batchesOf(input.slice(0, 2), input.slice(2)));
    await expect(failed).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(failed).rejects.toThrow("relationships: cannot import document:b#viewer@user:ann: it is already live or appears twice in the input; nothing was imported");
    expect(await store.headRevision()).toBe(head);
    expect((await store.snapshot(head).queryRelationships({})).map(formatRelationship)).toEqual(["folder:root#viewer@user:ann"]);
  });

  it("fails an import of an already live relationship, writing nothing, and a corrected import then succeeds on the same connection", async () => {
    const store = await openStore({ poolSize: 1 });
    const head = await store.write([{ operation: "touch", relationship: parseRelationship("document:d15000#viewer@user:u15000") }]);
    const failed = store.importRelationships(generated(20_000, 5_000));
    await expect(failed).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(failed).rejects.toThrow(/cannot import document:d15000#viewer@user:u15000:/);
    expect(await store.headRevision()).toBe(head);
    expect(await store.snapshot(head).queryRelationships({ resourceType: "document" })).toHaveLength(1);

    // The COPY that failed left its connection (the pool's only one) ready for the next import.
    const result = await store.importRelationships(generated(10_000, 5_000));
    expect(result).toEqual({ revision: head + 1, imported: 10_000 });
  });

  it("rolls back an import whose source fails in the middle, with the source's error, and keeps the connection usable", async () => {
    const store = await openStore({ poolSize: 1 });
    const head = await store.headRevision();
    async function* failing(): AsyncIterable<Relationship[]> {
      yield* generated(10_000, 5_000);
      throw new Error("the source broke");
    }
    await expect(store.importRelationships(failing())).rejects.toThrow("the source broke");
    expect(await store.headRevision()).toBe(head);
    expect(await store.snapshot(head).queryRelationships({})).toEqual([]);
    expect(await store.importRelationships(generated(3, 2))).toEqual({ revision: head + 1, imported: 3 });
  });

  it("collects history in the background with startGarbageCollection", async () => {
    const store = await openStore();
    const written = await store.write([{ operation: "touch", relationship: parseRelationship("document:a#viewer@user:ann") }]);
    const deleted = await store.write([{ operation: "delete", relationship: parseRelationship("document:a#viewer@user:ann") }]);
    const results: unknown[] = [];
    const stop = store.startGarbageCollection({ windowMs: 10, intervalMs: 50, onResult: (result) => results.push(result) });
    await waitUntil(async () => results.length > 0);
    stop();
    expect(results[0]).toEqual({ removed: 1 });
    expect(await store.oldestReadableRevision()).toBe(deleted);
    expect(() => store.snapshot(written)).toThrow(/revision 1 is older than the kept history \(0.01s; oldest kept revision 2\); use a newer consistency token/);
  });

  it("reports an unreachable server as StoreUnavailableError", async () => {
    await expect(PostgresStore.connect("postgres://postgres@127.0.0.1:1/none")).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

// Relationships whose every text field tests the COPY encoding: ids with each character an id may
// hold, and caveat contexts with quotes, commas, backslashes, line breaks, tabs, "\\." and "\\N"
// (COPY's end-of-data and NULL markers), and characters outside ASCII.
const AWKWARD: Relationship[] = [
  { resource: { type: "document", id: "a|b=c+d/e-f_g" }, relation: "viewer", subject: { type: "user", id: "ABC-xyz_09|=+/" } },
  { resource: { type: "ns/document", id: "-" }, relation: "viewer", subject: { type: "ns/group", id: "=", relation: "member" } },
  {
    resource: { type: "document", id: "ctx" },
    relation: "viewer",
    subject: { type: "user", id: "+" },
    caveat: {
      name: "ns/on_weekdays",
      context: {
        quote: 'say "hi", then ""leave""',
        comma: "a,b,,c",
        backslash: "C:\\dir\\ and \\N and \\.",
        lines: "one\ntwo\r\nthree\n\\.\n",
        tab: "a\tb",
        unicode: "żółć 日本 😀 \u00e9",
        nested: { list: [1, 2.5, -3, null, true, "x,y"], empty: {} },
      },
    },
  },
  { resource: { type: "document", id: "empty_ctx" }, relation: "viewer", subject: { type: "user", id: "_" }, caveat: { name: "c", context: {} } },
  { resource: { type: "document", id: "expiring" }, relation: "viewer", subject: { type: "user", id: "/" }, expiresAt: new Date("2999-12-31T23:59:59.123Z") },
  {
    resource: { type: "document", id: "both" },
    relation: "viewer",
    subject: { type: "user", id: "|" },
    caveat: { name: "c", context: { k: "\"" } },
    expiresAt: new Date("2100-01-02T03:04:05.006Z"),
  },
];

function sortByKey(relationships: readonly Relationship[]): Relationship[] {
  return [...relationships].sort((a, b) => (formatRelationship(a) < formatRelationship(b) ? -1 : 1));
}

async function* batchesOf(...batches: Array<readonly (Relationship | string)[]>): AsyncIterable<Relationship[]> {
  for (const batch of batches) yield batch.map((item) => (typeof item === "string" ? parseRelationship(item) : item));
}

async function* generated(count: number, batchSize: number, prefix = "d"): AsyncIterable<Relationship[]> {
  for (let start = 0; start < count; start += batchSize) {
    yield Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => ({
      resource: { type: "document", id: `${prefix}${start + i}` },
      relation: "viewer",
      subject: { type: "user", id: `u${start + i}` },
    }));
  }
}

async function take(store: Store, afterRevision: number, count: number): Promise<ChangeSet[]> {
  const controller = new AbortController();
  const taken: ChangeSet[] = [];
  for await (const changeSet of store.watch(afterRevision, controller.signal)) {
    taken.push(changeSet);
    if (taken.length === count) break;
  }
  controller.abort();
  return taken;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
