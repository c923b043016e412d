import { describe, expect, it } from "vitest";
import { runValidation } from "./run-validation.ts";
import { parseValidationFile, ValidationFileError } from "./validation-file.ts";

const SCHEMA = `schema: |-
  definition user {}

  caveat on_shift(shift_active bool) {
    shift_active
  }

  definition group {
    relation member: user | group#member
  }

  definition document {
    relation viewer: user | user:* | group#member | user with on_shift
    relation banned: user
    permission view = viewer - banned
  }
`;

async function run(rest: string) {
  const file = parseValidationFile(SCHEMA + rest, "/work/test.yaml", () => "");
  return runValidation(file);
}

async function failuresOf(rest: string): Promise<string[]> {
  const report = await run(rest);
  return report.failures.map((f) => `${f.position.line}:${f.position.column}: ${f.message}`);
}

async function diagnosticsOf(rest: string): Promise<string[]> {
  try {
    await run(rest);
  } catch (error) {
    if (error instanceof ValidationFileError) return error.diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`);
    throw error;
  }
  throw new Error("expected a ValidationFileError");
}

const DATA = `relationships: |-
  group:eng#member@user:alice
  group:eng#member@group:ops#member
  group:ops#member@user:bob
  document:plan#viewer@group:eng#member
  document:plan#viewer@user:nurse[on_shift]
  document:plan#banned@user:bob
  document:public#viewer@user:*
  document:public#banned@user:mallory
`;

describe("runValidation", () => {
  it("passes a file whose assertions and expected subjects all hold", async () => {
    const report = await run(`${DATA}assertions:
  assertTrue:
    - document:plan#view@user:alice
    - document:public#view@user:anyone
  assertFalse:
    - document:plan#view@user:bob
    - document:public#view@user:mallory
  assertCaveated:
    - document:plan#view@user:nurse
validation:
  document:plan#view:
    - "[group:eng#member] is <document:plan#viewer>"
    - "[group:ops#member] is <group:eng#member>"
    - "[user:alice] is <group:eng#member>"
    - "[user:nurse[...]] is <document:plan#viewer>"
  document:public#view:
    - "[user:* - {user:mallory}] is <document:public#viewer>"
`);
    expect(report.failures).toEqual([]);
    expect(report.assertionCount).toBe(5);
    expect(report.validationCount).toBe(2);
  });

  it("reports each failed assertion at its line with what was expected and found", async () => {
    expect(
      await failuresOf(`${DATA}assertions:
  assertTrue:
    - document:plan#view@user:bob
  assertFalse:
    - document:plan#view@user:alice
  assertCaveated:
    - document:plan#view@user:alice
    - 'document:plan#view@user:nurse with {"unrelated": 1}'
`),
    ).toEqual([
      "28:7: assertTrue document:plan#view@user:bob: expected ALLOWED, found DENIED",
      "30:7: assertFalse document:plan#view@user:alice: expected DENIED, found ALLOWED",
      "32:7: assertCaveated document:plan#view@user:alice: expected CONDITIONAL, found ALLOWED",
    ]);
  });

  it("reports missing, unlisted, wrongly marked and wrongly excluded subjects of a validation key", async () => {
    expect(
      await failuresOf(`${DATA}validation:
  document:plan#view:
    - "[user:alice] is <group:eng#member>"
    - "[user:bob] is <group:ops#member>"
    - "[user:nurse] is <document:plan#viewer>"
  document:public#view:
    - "[user:*] is <document:public#viewer>"
`),
    ).toEqual([
      "27:3: validation document:plan#view: found subjects that are not listed: group:eng#member, group:ops#member",
      "29:7: validation document:plan#view: [user:bob] is <group:ops#member>: expected user:bob to have the permission, found it does not",
      "30:7: validation document:plan#view: [user:nurse] is <document:plan#viewer>: expected ALLOWED, found CONDITIONAL (marked [...])",
      "32:7: validation document:public#view: [user:*] is <document:public#viewer>: expected exclusions {}, found {user:mallory}",
    ]);
  });

  it("lets an allowed wildcard cover the subjects of its type, and only those, without listing them", async () => {
    const report = await run(`${DATA}  document:public#viewer@group:eng#member
validation:
  document:public#view:
    - "[group:eng#member] is <document:public#viewer>"
    - "[group:ops#member] is <group:eng#member>"
    - "[user:* - {user:mallory}] is <document:public#viewer>"
`);
    expect(report.failures).toEqual([]);
  });

  it("maps schema errors of an inline schema to positions in the yaml file", async () => {
    const file = parseValidationFile("schema: |-\n  definition user {}\n  definition document {\n    relation viewer: usr\n  }\n", "/work/t.yaml", () => "");
    await expect(runValidation(file)).rejects.toThrow(ValidationFileError);
    await expect(runValidation(file)).rejects.toMatchObject({
      diagnostics: [{ fileName: "/work/t.yaml", line: 4, column: 22, message: expect.stringContaining('"usr" is not defined') }],
    });
  });

  it("refuses relationships the schema does not allow, and duplicates, at their lines", async () => {
    expect(
      await diagnosticsOf(`relationships: |-
  document:plan#viewer@user:alice
  document:plan#view@user:alice
  document:plan#banned@group:eng#member
  document:plan#viewer@user:alice
`),
    ).toEqual([
      expect.stringMatching(/^19:3: document:plan#view@user:alice: .*is a permission/),
      expect.stringMatching(/^20:3: document:plan#banned@group:eng#member: /),
      "21:3: duplicate relationship document:plan#viewer@user:alice (first at line 18)",
    ]);
  });
});
