import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMandateClient } from "../../src/api/index.ts";
import type { MandateClient } from "../../src/api/index.ts";
import { startServe } from "../cli/serve-process.ts";
import { update } from "../e2e/harness.ts";
import { postgresTestDatabase } from "./postgres-test-database.ts";

// `mandate serve` as a process is killed with SIGKILL right after it acknowledged a write, then
// started again on the same data: the acknowledged write must be there (it was committed before
// the acknowledgement, not merely buffered).

const database = await postgresTestDatabase();

async function withClient<T>(endpoint: string, body: (client: MandateClient) => Promise<T>): Promise<T> {
  const client = createMandateClient(endpoint);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

async function killAfterAckedWritesThenRestart(datastoreArgs: string[], env: Record<string, string | undefined> = {}): Promise<void> {
  const first = await startServe([...datastoreArgs, "--schema", "schema/drive.zed"], env);
  const tokens: string[] = [];
  try {
    await withClient(first.endpoint, async (client) => {
      for (let i = 0; i < 5; i++) {
        const response = await client.writeRelationships({ updates: [update("create", `document:d${i}#viewer@user:ann`)] });
        tokens.push(response.writtenAt?.token ?? "");
      }
    });
  } finally {
    await first.stop("SIGKILL");
  }
  const second = await startServe([...datastoreArgs, "--schema", "schema/drive.zed"], env);
  try {
    await withClient(second.endpoint, async (client) => {
      const read: string[] = [];
      for await (const item of client.readRelationships({
        relationshipFilter: { resourceType: "document", optionalResourceIdPrefix: "d" },
        consistency: { atLeastAsFresh: { token: tokens[tokens.length - 1] ?? "" } },
      })) {
        read.push(item.relationship?.resource?.objectId ?? "");
      }
      expect(read).toEqual(["d0", "d1", "d2", "d3", "d4"]);
      // Tokens of the killed process are tokens of the same datastore after the restart.
      const check = await client.check({
        resource: { objectType: "document", objectId: "d4" },
        permission: "view",
        subject: { object: { objectType: "user", objectId: "ann" } },
        consistency: { atExactSnapshot: { token: tokens[4] ?? "" } },
      });
      expect(check.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    });
  } finally {
    await second.stop();
  }
}

describe("a server killed with SIGKILL right after acknowledging writes", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "mandate-sigkill-"));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps them on PGlite, in the same data folder", async () => {
    await killAfterAckedWritesThenRestart(["--datastore", "pglite", "--data", dataDir]);
  }, 120_000);

  describe.skipIf(database === undefined)("on Postgres", () => {
    const db = database as NonNullable<typeof database>;
    afterAll(async () => {
      await db.drop();
    });

    it("keeps them on Postgres", async () => {
      await killAfterAckedWritesThenRestart(["--datastore", "postgres"], { DATABASE_URL: db.url });
    }, 120_000);
  });
});
