import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, describe, expect, it } from "vitest";
import { formatRelationship, parseRelationship } from "../../tuple/index.ts";
import type { Relationship } from "../../tuple/index.ts";
import { runStoreConformance } from "../store.conformance.ts";
import type { StoreTestOptions } from "../store.conformance.ts";
import { migrate } from "./migrate.ts";
import { MIGRATIONS, applyMigrations } from "./migrations.ts";
import { pgliteSqlClientOf } from "./pglite-sql-client.ts";
import type { SqlRow } from "./sql-client.ts";
import { PostgresStore } from "./postgres-store.ts";

const folders: string[] = [];

async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "mandate-pglite-"));
  folders.push(folder);
  return folder;
}

// Starting PGlite and migrating takes seconds on a busy machine, so each suite opens one
// database and gives every test a store over it, emptied first; closing that store leaves the
// database open. Opening and reopening for real is tested below.
const shared: PGlite[] = [];

function storeOverShared(dataDir: () => Promise<string | undefined>): (options?: StoreTestOptions) => Promise<PostgresStore> {
  let db: Promise<PGlite> | undefined;
  return async (options = {}) => {
    db ??= (async () => {
      const opened = new PGlite(await dataDir());
      shared.push(opened);
      await applyMigrations(pgliteSqlClientOf(opened));
      return opened;
    })();
    const open = await db;
    await open.exec("TRUNCATE relationships, revisions, schema_text, schema_history, budgets, api_keys; INSERT INTO revisions (revision, committed_at) VALUES (0, clock_timestamp());");
    return PostgresStore.open({ ...pgliteSqlClientOf(open), close: async () => {} }, { migrate: false, now: options.now });
  };
}

afterAll(async () => {
  await Promise.all(shared.map((db) => db.close()));
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

runStoreConformance(
  "PostgresStore on in-memory PGlite",
  storeOverShared(async () => undefined),
);

describe("PostgresStore on PGlite in a data folder", () => {
  runStoreConformance("PostgresStore on PGlite with a data folder", storeOverShared(tempFolder));

  it("opens a fresh in-memory database with a random datastore id", async () => {
    const [first, second] = await Promise.all([PostgresStore.embedded(undefined), PostgresStore.embedded(undefined)]);
    expect(await first.datastoreId()).not.toBe(await second.datastoreId());
    expect(await first.headRevision()).toBe(0);
    await Promise.all([first.close(), second.close()]);
  });

  it("keeps relationships, schema, revisions and datastore id across closing and reopening the folder", async () => {
    const folder = await tempFolder();
    const first = await PostgresStore.embedded(folder);
    const revision = await first.write([{ operation: "touch", relationship: parseRelationship('document:a#viewer@user:ann[on_weekdays:{"tz":"UTC"}]') }]);
    const schemaRevision = await first.writeSchema("definition user {}", async () => {});
    const id = await first.datastoreId();
    await first.close();

    const reopened = await PostgresStore.embedded(folder);
    expect(await reopened.headRevision()).toBe(schemaRevision);
    expect(await reopened.datastoreId()).toBe(id);
    expect(await reopened.readSchema()).toEqual({ text: "definition user {}", revision: schemaRevision });
    expect((await reopened.snapshot(revision).queryRelationships({})).map(formatRelationship)).toEqual(['document:a#viewer@user:ann[on_weekdays:{"tz":"UTC"}]']);
    await reopened.close();
  });

  it("keeps budget counters across closing and reopening the folder, without a new revision", async () => {
    const folder = await tempFolder();
    const first = await PostgresStore.embedded(folder);
    expect(await first.chargeBudgets([{ grantId: "g", limit: 2 }])).toEqual({ used: [1] });
    await first.close();

    const reopened = await PostgresStore.embedded(folder);
    expect(await reopened.budgetUsage(["g"])).toEqual(new Map([["g", 1]]));
    expect(await reopened.chargeBudgets([{ grantId: "g", limit: 2 }])).toEqual({ used: [2] });
    expect(await reopened.chargeBudgets([{ grantId: "g", limit: 2 }])).toEqual({ exhausted: "g" });
    expect(await reopened.headRevision()).toBe(0);
    await reopened.close();
  });

  it("keeps a relationship visible to a reader after it expires, and hides it from a later snapshot", async () => {
    let clock = Date.parse("2030-01-01T00:00:00Z");
    const store = await PostgresStore.embedded(undefined, { now: () => clock });
    const expiresAt = new Date(clock + 30_000);
    const revision = await store.write([{ operation: "touch", relationship: { ...parseRelationship("document:a#viewer@user:ann"), expiresAt } }]);
    const reader = store.snapshot(revision);
    expect(await reader.queryRelationships({})).toHaveLength(1);
    clock += 30_000;
    expect(await reader.queryRelationships({})).toHaveLength(1);
    expect(await store.snapshot(revision).queryRelationships({})).toHaveLength(0);
    await store.close();
  });

  it("imports through COPY awkward ids, caveat contexts and expiries unchanged, and names the first repeat of a duplicate", async () => {
    const store = await PostgresStore.embedded(undefined);
    const awkward: Relationship[] = [
      { resource: { type: "ns/document", id: "a|b=c+d/e-f_g" }, relation: "viewer", subject: { type: "group", id: "-", relation: "member" } },
      {
        resource: { type: "document", id: "=" },
        relation: "viewer",
        subject: { type: "user", id: "+/" },
        caveat: { name: "ns/c", context: { text: 'a "quoted", \\N \\. back\\slash\nline\ttab żółć 😀', list: [1, null, "x,y"] } },
        expiresAt: new Date("2999-01-02T03:04:05.678Z"),
      },
    ];
    const result = await store.importRelationships(batches(awkward.slice(0, 1), awkward.slice(1)));
    expect(await store.snapshot(result.revision).queryRelationships({ resourceType: "ns/document" })).toEqual([awkward[0]]);
    expect(await store.snapshot(result.revision).queryRelationships({ resourceType: "document" })).toEqual([awkward[1]]);

    const repeated = ["document:x#viewer@user:a", "document:y#viewer@user:a", "document:y#viewer@user:a", "document:x#viewer@user:a"].map((line) => parseRelationship(line));
    await expect(store.importRelationships(batches(repeated.slice(0, 3), repeated.slice(3)))).rejects.toThrow(/cannot import document:y#viewer@user:a:/);
    expect(await store.headRevision()).toBe(result.revision);
    await store.close();
  });

  it("migrates a folder once: a second migrate applies nothing", async () => {
    const folder = await tempFolder();
    expect(await migrate({ dataDir: folder })).toEqual(MIGRATIONS.map((migration) => migration.name));
    expect(await migrate({ dataDir: folder })).toEqual([]);
    const store = await PostgresStore.embedded(folder, { migrate: false });
    expect(await store.headRevision()).toBe(0);
    await store.close();
  });

  it("starts the schema history of a database written before it with the stored schema, which a watch then reports", async () => {
    const db = new PGlite();
    try {
      const sql = { ...pgliteSqlClientOf(db), close: async () => {} };
      expect(await applyMigrations(sql, undefined, MIGRATIONS.slice(0, 1))).toEqual(["0001_initial"]);
      // What a 0001 store's writeSchema wrote: the schema_text row and the revision, no history.
      await db.exec("INSERT INTO revisions (revision, committed_at) VALUES (1, clock_timestamp()); INSERT INTO schema_text (text, revision) VALUES ('definition user {}', 1);");
      const store = await PostgresStore.open(sql);
      const second = await store.writeSchema("definition user {}\ndefinition doc {}", async () => {});
      const controller = new AbortController();
      const seen: string[] = [];
      for await (const changeSet of store.watch(0, controller.signal, { checkpoints: true })) {
        seen.push(`${changeSet.revision}: ${changeSet.schema ?? ""}`);
        if (changeSet.revision === second) break;
      }
      controller.abort();
      expect(seen).toEqual(["1: definition user {}", `${second}: definition user {}\ndefinition doc {}`]);
      await store.close();
    } finally {
      await db.close();
    }
  });
});

describe("PostgresStore's watch with maxChanges", () => {
  // What the contract cannot see: an oversized revision is never read whole. The statements of the
  // store's client (not its transactions, which the import uses) are counted by rows returned.
  it.each([
    ["with maxChanges 2,000", 2_000, 1_000],
    ["without maxChanges", undefined, 5_000],
  ])("reads at most a page of a 5,000-relationship import %s (else all of it)", async (_, maxChanges, largestRead) => {
    const db = new PGlite();
    try {
      const client = pgliteSqlClientOf(db);
      await applyMigrations(client);
      let largest = 0;
      const counting = {
        ...client,
        close: async () => {},
        query: async <R extends SqlRow>(text: string, params?: readonly unknown[]) => {
          const result = await client.query<R>(text, params);
          largest = Math.max(largest, result.rows.length);
          return result;
        },
      };
      const store = await PostgresStore.open(counting);
      const { revision } = await store.importRelationships(batches(Array.from({ length: 5_000 }, (_, i) => parseRelationship(`document:d${i}#viewer@user:ann`))));
      largest = 0;
      const controller = new AbortController();
      let seen = "";
      for await (const changeSet of store.watch(0, controller.signal, { checkpoints: true, maxChanges })) {
        seen = `${changeSet.revision}: ${changeSet.changes.length} changes${changeSet.oversized === true ? ", oversized" : ""}`;
        break;
      }
      controller.abort();
      expect(seen).toBe(maxChanges === undefined ? `${revision}: 5000 changes` : `${revision}: 0 changes, oversized`);
      expect(largest).toBe(largestRead);
      await store.close();
    } finally {
      await db.close();
    }
  });
});

async function* batches(...lists: Relationship[][]): AsyncIterable<Relationship[]> {
  yield* lists;
}
