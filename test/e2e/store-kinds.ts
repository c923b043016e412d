import { afterAll } from "vitest";
import { MemoryStore, PostgresStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/index.ts";
import { postgresTestDatabase } from "../postgres/postgres-test-database.ts";

/** StoreKind names a store implementation and opens a fresh, empty one of it. */
export type StoreKind = readonly [name: string, open: () => Promise<Store>];

/**
 * storeKinds returns the stores an API suite runs against: memory always, and Postgres when the
 * Postgres test database is available (see postgres-test-database.ts): one database per test
 * file, a fresh Postgres schema per store. Await it at the top level of a test file (it registers
 * the database's cleanup).
 */
export async function storeKinds(): Promise<StoreKind[]> {
  const memory: StoreKind = ["memory", async () => new MemoryStore()];
  const database = await postgresTestDatabase();
  if (database === undefined) return [memory];
  afterAll(async () => {
    await database.drop();
  });
  const postgres: StoreKind = ["postgres", () => PostgresStore.connect(database.url, { schema: database.newSchema(), poolSize: 3 })];
  return [memory, postgres];
}
