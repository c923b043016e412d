import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { MemoryStore, PostgresStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/index.ts";
import { createApiTestDatabase, postgresAvailability } from "../postgres/api-test-database.ts";
import type { ApiTestDatabase } from "../postgres/api-test-database.ts";

/** StoreKind names a store implementation and opens a fresh, empty one of it. */
export type StoreKind = readonly [name: string, open: () => Promise<Store>];

/**
 * storeKinds returns the stores an API suite runs against: memory always, and Postgres when
 * DATABASE_URL is set (or required): one database per test file, a fresh Postgres schema per store.
 * Call it at the top level of a test file (it registers the database's cleanup).
 */
export function storeKinds(): StoreKind[] {
  const memory: StoreKind = ["memory", async () => new MemoryStore()];
  const availability = postgresAvailability();
  if (!availability.run) return [memory];
  let database: Promise<ApiTestDatabase> | undefined;
  afterAll(async () => {
    if (database) await (await database).drop();
  });
  const postgres: StoreKind = [
    "postgres",
    async () => {
      database ??= createApiTestDatabase(availability.adminUrl);
      return PostgresStore.connect((await database).url, { schema: `s_${randomBytes(5).toString("hex")}`, poolSize: 3 });
    },
  ];
  return [memory, postgres];
}
