import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMandateClient } from "../../src/api/index.ts";
import { runMandate } from "./run-mandate.ts";
import { startServe } from "./serve-process.ts";
import type { ServeProcess } from "./serve-process.ts";

// `mandate import` and `mandate export` as processes against a `mandate serve` process.

let server: ServeProcess;
let dir: string;
const LINES = Array.from({ length: 2500 }, (_, i) => `document:d${String(i).padStart(5, "0")}#viewer@user:u${i % 3}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mandate-import-"));
  server = await startServe(["--datastore", "memory", "--schema", "schema/drive.zed"]);
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const mandate = (args: string[], input?: string) => runMandate([...args, "--endpoint", server.endpoint], input === undefined ? {} : { input });

describe("mandate import and export", () => {
  it("imports a file, prints the count and token, and export prints the same lines back", async () => {
    const file = join(dir, "docs.relationships");
    writeFileSync(file, `// demo data\n${LINES.join("\n")}\n\n`);
    const imported = await mandate(["import", file]);
    expect(imported.stdout).toMatch(/^imported 2500 relationships at mz2_[A-Za-z0-9_-]+\n$/);
    expect(imported.code).toBe(0);
    // stderr is not a terminal here: plain progress lines, ending with the final count.
    expect(imported.stderr).toMatch(/import: 2,500 relationships \([\d,]+\/s, [\d.]+ s\)\n$/);

    const exported = await mandate(["export", "document", "--quiet"]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe("");
    expect(exported.stdout).toBe(`${LINES.join("\n")}\n`);
  });

  it("imports from stdin, and refuses a file with a bad line, importing nothing of it", async () => {
    const fromStdin = await mandate(["import", "-", "--quiet"], "folder:f1#viewer@user:ann\nfolder:f2#viewer@user:ann\n");
    expect(fromStdin).toMatchObject({ code: 0, stderr: "" });
    expect(fromStdin.stdout).toMatch(/^imported 2 relationships at /);

    const bad = await mandate(["import", "-", "--quiet"], "folder:f3#viewer@user:ann\nfolder:f4#viewer@@user:ann\n");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("stdin:2:");
    expect(bad.stderr).toContain("nothing was imported");
    const folders = await mandate(["export", "folder", "--quiet"]);
    expect(folders.stdout).toBe("folder:f1#viewer@user:ann\nfolder:f2#viewer@user:ann\n");
  });

  it("resumes an export from a cursor", async () => {
    const client = createMandateClient(server.endpoint);
    let cursor = "";
    try {
      for await (const message of client.exportBulkRelationships({ optionalLimit: 1000, optionalRelationshipFilter: { resourceType: "document" } })) {
        cursor = message.afterResultCursor?.token ?? "";
        break;
      }
    } finally {
      client.close();
    }
    const rest = await mandate(["export", "document", "--cursor", cursor, "--quiet"]);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toBe(`${LINES.slice(1000).join("\n")}\n`);
  });

  it("explains a cursor that does not decode", async () => {
    const run = await mandate(["export", "--cursor", "nonsense", "--quiet"]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("INVALID_ARGUMENT: optional_cursor");
  });
});
