import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callErrorOf } from "../../src/api/index.ts";
import { PostgresStore } from "../../src/store/index.ts";
import { DRIVE_SCHEMA, startHarness, update } from "../e2e/harness.ts";
import type { Harness } from "../e2e/harness.ts";
import { postgresTestDatabase } from "./postgres-test-database.ts";

// The server's Postgres connections are killed (as by a Postgres restart or a failover) while
// clients keep calling: calls fail with a retryable status, never INTERNAL, the server does not
// crash, and it serves again by itself once connections can be made.

const database = await postgresTestDatabase();

describe.skipIf(database === undefined)("the API when its Postgres connections are killed", () => {
  const db = database as NonNullable<typeof database>;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store: () => PostgresStore.connect(db.url, { poolSize: 4 }) });
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await db.drop();
  });

  // Every backend of the test database but the one asking (the helper's admin pool survives it).
  const killConnections = () =>
    db.runAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

  it("answers UNAVAILABLE or ABORTED meanwhile, never INTERNAL, and recovers by itself", async () => {
    const codes = new Map<string, number>();
    let i = 0;
    const call = async () => {
      const n = i++;
      try {
        await h.client.writeRelationships({ updates: [update("touch", `document:r${n}#viewer@user:ann`)] });
        await h.client.check({
          resource: { objectType: "document", objectId: `r${n}` },
          permission: "view",
          subject: { object: { objectType: "user", objectId: "ann" } },
          consistency: { fullyConsistent: true },
        });
        codes.set("OK", (codes.get("OK") ?? 0) + 1);
      } catch (error) {
        const name = status[callErrorOf(error)?.code ?? -1] ?? String(error);
        codes.set(name, (codes.get(name) ?? 0) + 1);
      }
    };
    const load = (async () => {
      const until = Date.now() + 3000;
      while (Date.now() < until) await Promise.all([call(), call(), call()]);
    })();
    for (let k = 0; k < 5; k++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await killConnections();
    }
    await load;
    expect([...codes.keys()].filter((code) => !["OK", "UNAVAILABLE", "ABORTED"].includes(code))).toEqual([]);
    // Recovered: a write and a check with its token succeed.
    const written = await h.client.writeRelationships({ updates: [update("touch", "document:after#viewer@user:ann")] });
    const check = await h.client.check({
      resource: { objectType: "document", objectId: "after" },
      permission: "view",
      subject: { object: { objectType: "user", objectId: "ann" } },
      consistency: { atLeastAsFresh: { token: written.writtenAt?.token ?? "" } },
    });
    expect(check.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
  }, 60_000);
});
