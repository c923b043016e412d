import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT, runMandate } from "./run-mandate.ts";

const EXAMPLES = readdirSync(join(ROOT, "schema"))
  .filter((name) => name.endsWith(".validation.yaml"))
  .map((name) => `schema/${name}`);

describe("mandate validate", () => {
  it("passes every example validation file in schema/", async () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(3);
    const run = await runMandate(["validate", ...EXAMPLES]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    for (const file of EXAMPLES) expect(run.stdout).toContain(`PASS ${file}:`);
  });

  it("prints each failure of the failing fixture at its line and exits 1", async () => {
    const run = await runMandate(["validate", "test/fixtures/failing.validation.yaml"]);
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      "test/fixtures/failing.validation.yaml:23:7: assertTrue document:secret#view@user:bob: expected ALLOWED, found DENIED",
      "test/fixtures/failing.validation.yaml:25:7: assertFalse document:public#view@user:zoe: expected DENIED, found ALLOWED",
      "test/fixtures/failing.validation.yaml:29:7: assertCaveated document:secret#view@user:alice: expected CONDITIONAL, found ALLOWED",
      "test/fixtures/failing.validation.yaml:31:3: validation document:secret#view: found subjects that are not listed: user:nurse[...]",
      "test/fixtures/failing.validation.yaml:33:7: validation document:secret#view: [user:bob] is <document:secret#viewer>: expected user:bob to have the permission, found it does not",
      "test/fixtures/failing.validation.yaml:35:7: validation document:public#view: [user:*] is <document:public#viewer>: expected exclusions {}, found {user:mallory}",
      "FAIL test/fixtures/failing.validation.yaml: 6 failed (6 assertions, 2 validation keys)",
    ]);
  });

  it("reports an inline schema error at its position in the yaml file and exits 1", async () => {
    const run = await runMandate(["validate", "test/fixtures/broken-schema.validation.yaml"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^test\/fixtures\/broken-schema\.validation\.yaml:6:22: .*"usr"/m);
    expect(run.stdout).toContain("FAIL test/fixtures/broken-schema.validation.yaml: invalid validation file (1 problem)");
  });

  it("exits 1 for a file that does not exist and 2 for a usage error", async () => {
    expect((await runMandate(["validate", "test/fixtures/nope.yaml"])).code).toBe(1);
    const usage = await runMandate(["validate"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing argument");
  });

  it("keeps the demo relationships of npm start identical to drive.validation.yaml", () => {
    const lines = (text: string) =>
      text
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("//"));
    const validation = parseDocument(readFileSync(join(ROOT, "schema/drive.validation.yaml"), "utf8")).get("relationships");
    expect(lines(readFileSync(join(ROOT, "schema/drive.relationships"), "utf8"))).toEqual(lines(String(validation)));
  });
});

describe("mandate schema validate", () => {
  it("prints file:line:column diagnostics for a broken schema and exits 1", async () => {
    const run = await runMandate(["schema", "validate", "test/fixtures/broken.zed"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^test\/fixtures\/broken\.zed:5:29: .*"editor"/);
  });

  it("exits 0 for a schema that compiles", async () => {
    const run = await runMandate(["schema", "validate", "schema/drive.zed"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("schema/drive.zed: OK");
  });
});

describe("mandate", () => {
  it("prints help with exit 0, and rejects an unknown command with exit 2", async () => {
    const help = await runMandate(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: mandate COMMAND");
    const unknown = await runMandate(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
