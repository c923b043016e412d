import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMandate } from "./run-mandate.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("mandate migrate", () => {
  it("applies the migrations to a PGlite folder once, then reports it up to date", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mandate-migrate-"));
    dirs.push(dir);
    // DATABASE_URL would select Postgres: this test is about the PGlite folder.
    const env = { DATABASE_URL: "", MANDATE_DATASTORE: "" };
    const first = await runMandate(["migrate", "--data", dir], { env });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(new RegExp(`^pglite ${dir}: applied \\S+`));
    const second = await runMandate(["migrate", "--data", dir], { env });
    expect(second).toEqual({ code: 0, stdout: `pglite ${dir}: up to date\n`, stderr: "" });
  }, 60_000);

  it("refuses the memory datastore as a usage error", async () => {
    const run = await runMandate(["migrate", "--datastore", "memory"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--datastore memory has nothing to migrate");
  });
});
