import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { MandateServer, createMandateClient } from "../../src/api/index.ts";
import type { MandateClient, WireCheckPermissionRequest } from "../../src/api/index.ts";
import { Engine } from "../../src/engine/index.ts";
import { PostgresStore } from "../../src/store/index.ts";
import { DRIVE_SCHEMA, update } from "../e2e/harness.ts";
import { postgresTestDatabase } from "./postgres-test-database.ts";

// Two server instances, each with its own PostgresStore (its own pool), on ONE database: what
// replicas behind a load balancer look like. Tokens from one must be honoured by the other.

const database = await postgresTestDatabase();

interface Replica {
  readonly client: MandateClient;
  close(): Promise<void>;
}

async function startReplica(url: string): Promise<Replica> {
  const store = await PostgresStore.connect(url, { poolSize: 4 });
  const server = new MandateServer({ store, engine: new Engine({ maxDepth: 50 }), logger: pino({ level: "silent" }) });
  const port = await server.listen("127.0.0.1", 0);
  const client = createMandateClient(`127.0.0.1:${port}`);
  return {
    client,
    async close() {
      client.close();
      await server.shutdown(100);
      await store.close();
    },
  };
}

const ANN_VIEWS: WireCheckPermissionRequest = {
  resource: { objectType: "document", objectId: "secret" },
  permission: "view",
  subject: { object: { objectType: "user", objectId: "ann" } },
};

describe.skipIf(database === undefined)("two server instances on one Postgres database", () => {
  const db = database as NonNullable<typeof database>;
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    a = await startReplica(db.url);
    b = await startReplica(db.url);
    await a.client.writeSchema({ schema: DRIVE_SCHEMA });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db.drop();
  });

  it("never lets B answer from before a revocation made through A, given the revocation's token (50 rounds)", async () => {
    const answers: string[] = [];
    for (let round = 0; round < 50; round++) {
      const granted = await a.client.writeRelationships({ updates: [update("touch", "document:secret#viewer@user:ann")] });
      // B may warm any cache it has on the granted state, as a real replica would.
      const before = await b.client.check({ ...ANN_VIEWS, consistency: { atLeastAsFresh: { token: granted.writtenAt?.token ?? "" } } });
      expect(before.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      const revoked = await a.client.writeRelationships({ updates: [update("delete", "document:secret#viewer@user:ann")] });
      const after = await b.client.check({ ...ANN_VIEWS, consistency: { atLeastAsFresh: { token: revoked.writtenAt?.token ?? "" } } });
      answers.push(after.permissionship ?? "?");
    }
    expect(new Set(answers)).toEqual(new Set(["PERMISSIONSHIP_NO_PERMISSION"]));
  }, 120_000);

  it("shows a write made through A through B with the write's token, and B's token works on A", async () => {
    const written = await a.client.writeRelationships({ updates: [update("touch", "document:shared#viewer@user:bob")] });
    const token = written.writtenAt?.token ?? "";
    const read = [];
    for await (const item of b.client.readRelationships({
      relationshipFilter: { resourceType: "document", optionalResourceId: "shared" },
      consistency: { atLeastAsFresh: { token } },
    })) {
      read.push(item.relationship?.subject?.object?.objectId);
    }
    expect(read).toEqual(["bob"]);
    const exact = await b.client.check({
      resource: { objectType: "document", objectId: "shared" },
      permission: "view",
      subject: { object: { objectType: "user", objectId: "bob" } },
      consistency: { atExactSnapshot: { token } },
    });
    expect(exact.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    expect(exact.checkedAt?.token).toBe(token);

    const fromB = await b.client.writeRelationships({ updates: [update("delete", "document:shared#viewer@user:bob")] });
    const onA = await a.client.check({
      resource: { objectType: "document", objectId: "shared" },
      permission: "view",
      subject: { object: { objectType: "user", objectId: "bob" } },
      consistency: { atLeastAsFresh: { token: fromB.writtenAt?.token ?? "" } },
    });
    expect(onA.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
  });

  it("streams a write made through A to a Watch on B within a second", async () => {
    const start = (await b.client.writeRelationships({ updates: [update("touch", "document:w#viewer@user:eve")] })).writtenAt?.token ?? "";
    const iterator = b.client.watch({ optionalStartCursor: { token: start } })[Symbol.asyncIterator]();
    const pending = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const began = Date.now();
    const written = await a.client.writeRelationships({ updates: [update("touch", "document:w#viewer@user:fay")] });
    const message = await pending;
    expect(Date.now() - began).toBeLessThan(1000);
    expect(message.done).toBe(false);
    expect(message.value?.changesThrough?.token).toBe(written.writtenAt?.token);
    await iterator.return?.();
  });

  it("refuses on B a token from a replica of another database", async () => {
    const other = await postgresTestDatabase();
    if (other === undefined) throw new Error("a second test database could not be created on the same server");
    const c = await startReplica(other.url);
    try {
      const foreign = (await c.client.writeSchema({ schema: DRIVE_SCHEMA })).writtenAt?.token ?? "";
      await expect(b.client.check({ ...ANN_VIEWS, consistency: { atLeastAsFresh: { token: foreign } } })).rejects.toMatchObject({
        code: 3,
        details: expect.stringContaining("token is from another datastore"),
      });
    } finally {
      await c.close();
      await other.drop();
    }
  });
});
