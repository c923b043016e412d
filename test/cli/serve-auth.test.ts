import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMandate } from "./run-mandate.ts";
import { startServe } from "./serve-process.ts";
import type { ServeProcess } from "./serve-process.ts";

// `mandate serve` with authentication on (its default) in a real process: the bootstrap key from
// the environment, start-up data loaded with the process's own key, and the keys commands.

const BOOTSTRAP = `mk_bootstrap_${"Q".repeat(43)}`;
let serve: ServeProcess;

beforeAll(async () => {
  serve = await startServe(["--datastore", "memory", "--schema", "schema/drive.zed", "--relationships", "schema/drive.relationships"], {
    MANDATE_AUTH: "keys",
    MANDATE_BOOTSTRAP_KEY: BOOTSTRAP,
  });
}, 60_000);

afterAll(async () => {
  await serve?.stop();
});

const mandate = (args: string[], key?: string) => runMandate([...args, "--endpoint", serve.endpoint], { env: key === undefined ? { MANDATE_KEY: "" } : { MANDATE_KEY: key } });

describe("mandate serve --auth keys", () => {
  it("loads its start-up data and registers the bootstrap key, logging neither secret", () => {
    const logs = serve.logLines.join("\n");
    expect(logs).toMatch(/bootstrap admin key registered from MANDATE_BOOTSTRAP_KEY/);
    expect(logs).toMatch(/relationships written/);
    expect(logs).not.toContain("Q".repeat(43));
  });

  it("refuses a call without a key, and answers health without one", async () => {
    const refused = await mandate(["check", "document:readme", "view", "user:alice"]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED: missing credentials/);
    expect((await mandate(["health"])).code).toBe(0);
  });

  it("creates a read key with the bootstrap key; the read key checks but cannot write", async () => {
    const created = await mandate(["keys", "create", "--owner", "reader", "--role", "read"], BOOTSTRAP);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect((await mandate(["check", "document:readme", "view", "user:alice"], token)).stdout).toMatch(/ALLOWED|DENIED/);
    const write = await mandate(["relationships", "write", "document:readme#viewer@user:eve"], token);
    expect(write.code).toBe(4);
    expect(write.stderr).toMatch(/PERMISSION_DENIED: .* this method needs role write/);
  });
});
