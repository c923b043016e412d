import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { callErrorOf, createMandateClient, decodeZedToken } from "../../src/api/index.ts";
import { PostgresStore } from "../../src/store/index.ts";
import { formatRelationship } from "../../src/tuple/index.ts";
import { startServe } from "./serve-process.ts";

// SIGTERM in the middle of a stream of concurrent writes: the server stops accepting calls, lets
// those in flight finish, closes the datastore and exits 0; every write it acknowledged is then
// in the datastore, at or before the revision of the token it returned.

const WRITERS = 16;
const ACKNOWLEDGED_BEFORE_SIGTERM = 100;

describe("mandate serve shut down under load", () => {
  it("loses no acknowledged write", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mandate-shutdown-"));
    const serve = await startServe(["--auth", "none", "--datastore", "pglite", "--data", dataDir, "--schema", "schema/drive.zed", "--shutdown-grace", "10s"]);
    const client = createMandateClient(serve.endpoint);
    const acknowledged: Array<{ relationship: string; token: string }> = [];
    const failures = new Map<string, number>();
    let next = 0;
    let signalled: Promise<number | null> | undefined;

    const writer = async (): Promise<void> => {
      for (;;) {
        const relationship = `document:shutdown-${next++}#viewer@user:ann`;
        const [resource, subject] = relationship.split("#viewer@") as [string, string];
        const [resourceType, resourceId] = resource.split(":") as [string, string];
        const [subjectType, subjectId] = subject.split(":") as [string, string];
        try {
          const response = await client.writeRelationships({
            updates: [
              {
                operation: "OPERATION_TOUCH",
                relationship: {
                  resource: { objectType: resourceType, objectId: resourceId },
                  relation: "viewer",
                  subject: { object: { objectType: subjectType, objectId: subjectId } },
                },
              },
            ],
          });
          acknowledged.push({ relationship, token: response.writtenAt?.token ?? "" });
          if (acknowledged.length === ACKNOWLEDGED_BEFORE_SIGTERM) signalled = serve.stop("SIGTERM");
        } catch (error) {
          const name = callErrorOf(error)?.codeName ?? String(error);
          failures.set(name, (failures.get(name) ?? 0) + 1);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    client.close();
    expect(signalled).toBeDefined();
    expect(await signalled).toBe(0);
    expect(serve.logLines.some((line) => line.includes('"shutting down"'))).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_SIGTERM);
    // Every writer ended on a call refused once the server stopped accepting them: none was
    // cancelled half-way (calls in flight at SIGTERM finished within the grace period).
    expect([...failures]).toEqual([["UNAVAILABLE", WRITERS]]);

    const store = await PostgresStore.embedded(dataDir);
    try {
      const head = await store.headRevision();
      const stored = await store.snapshot(head).queryRelationships({ resourceType: "document", resourceIdPrefix: "shutdown-" });
      const present = new Set(stored.map((relationship) => formatRelationship(relationship)));
      const lost = acknowledged.filter(({ relationship }) => !present.has(relationship));
      expect(lost).toEqual([]);
      for (const { token } of acknowledged) expect(decodeZedToken(token, "token").revision).toBeLessThanOrEqual(head);
    } finally {
      await store.close();
    }
  }, 60_000);
});
