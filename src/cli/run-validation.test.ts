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

// Line 1 is `schema: |-`; the data of each case starts on line 24.
const DELEGATION_SCHEMA = `schema: |-
  caveat on_ticket(ticket string, current_ticket string) {
    ticket == current_ticket
  }

  definition user {}

  definition document {
    relation viewer: user | agent
    relation editor: user | agent
    permission edit = editor
    permission view = viewer + edit
  }

  definition agent {
    delegation acts_for: user | user with on_ticket {
      scope document#view | document#edit
      max_lifetime 8h
      max_chain 2
      ceiling
    }
  }
at: 2026-01-15T09:00:00Z
`;

const AGENT_DATA = `relationships: |-
  document:plan#editor@user:ann
  document:plan#editor@agent:a1
  document:plan#editor@agent:a2
  document:plan#viewer@agent:a3
delegations:
  - actor: agent:a1
    principal: user:ann
    scope: [document#view, document#edit]
  - actor: agent:a2
    principal: user:ann
    via: agent:a1
    scope: [document#view]
    expires_in: 2h
  - actor: agent:a3
    principal: user:ann
    scope: [document#view]
    caveat: 'on_ticket:{"ticket": "T-1"}'
`;

async function runDelegated(rest: string, options: { readonly now?: Date } = {}) {
  const file = parseValidationFile(DELEGATION_SCHEMA + rest, "/work/test.yaml", () => "");
  return runValidation(file, options);
}

async function delegatedFailuresOf(rest: string, options: { readonly now?: Date } = {}): Promise<string[]> {
  const report = await runDelegated(rest, options);
  return report.failures.map((f) => `${f.position.line}:${f.position.column}: ${f.message}`);
}

async function delegatedDiagnosticsOf(rest: string): Promise<string[]> {
  try {
    await runDelegated(rest);
  } catch (error) {
    if (error instanceof ValidationFileError) return error.diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`);
    throw error;
  }
  throw new Error("expected a ValidationFileError");
}

describe("runValidation with delegations", () => {
  it("passes assertions on behalf of a principal, through grants applied in order", async () => {
    const report = await runDelegated(`${AGENT_DATA}assertions:
  assertTrue:
    - document:plan#edit@agent:a1 on behalf of user:ann
    - document:plan#view@agent:a2 on behalf of user:ann
    - 'document:plan#view@agent:a3 on behalf of user:ann with {"current_ticket": "T-1"}'
    - document:plan#edit@agent:a2
  assertFalse:
    - document:plan#edit@agent:a2 on behalf of user:ann
    - 'document:plan#view@agent:a3 on behalf of user:ann with {"current_ticket": "T-2"}'
    - document:plan#view@agent:a1 on behalf of user:bob
  assertCaveated:
    - document:plan#view@agent:a3 on behalf of user:ann
`);
    expect(report.failures).toEqual([]);
    expect(report.assertionCount).toBe(8);
  });

  it("reports a failed assertion on behalf of someone with the path it found, or why it was denied", async () => {
    expect(
      await delegatedFailuresOf(`${AGENT_DATA}assertions:
  assertTrue:
    - document:plan#edit@agent:a2 on behalf of user:ann
    - document:plan#view@agent:a3 on behalf of user:ann
  assertFalse:
    - document:plan#view@agent:a2 on behalf of user:ann
`),
    ).toEqual([
      "44:7: assertTrue document:plan#edit@agent:a2 on behalf of user:ann: expected ALLOWED, found DENIED: document#edit is outside the scope of agent:a2#acts_for@user:ann (document#view)",
      "45:7: assertTrue document:plan#view@agent:a3 on behalf of user:ann: expected ALLOWED, found CONDITIONAL through agent:a3 -> user:ann (missing context: current_ticket)",
      "47:7: assertFalse document:plan#view@agent:a2 on behalf of user:ann: expected DENIED, found ALLOWED through agent:a2 -> agent:a1 -> user:ann",
    ]);
  });

  const grants = (...lines: string[]) => `delegations:\n${lines.map((line) => `  ${line}`).join("\n")}\n`;
  it.each([
    [
      "a scope entry the delegation does not allow, at the entry",
      grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view, document#viewer]"),
      /^27:28: grant agent:a1 for user:ann: scope\[1\]: scope entry `document#viewer` is outside the scope of delegation `agent#acts_for`/,
    ],
    ["a principal type the delegation does not allow, at the principal", grants("- actor: agent:a1", "  principal: document:plan", "  scope: [document#view]"), /^26:16: grant agent:a1 for document:plan: principal: /],
    ["an expiry past max_lifetime, at expires_in", grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", "  expires_in: 9h"), /^28:17: .*max_lifetime/],
    ["a caveat context of the wrong type, at the caveat", grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", `  caveat: 'on_ticket:{"ticket": 1}'`), /^28:13: .*caveat\.context\.ticket/],
    ["passing on an edge the agent does not hold, at via", grants("- actor: agent:a2", "  principal: user:ann", "  via: agent:a1", "  scope: [document#view]"), /^27:10: grant agent:a2 for user:ann: via: agent:a1 has no live delegation/],
    [
      "a sub-delegation wider than its parent, at its scope",
      grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", "- actor: agent:a2", "  principal: user:ann", "  via: agent:a1", "  scope: [document#edit]"),
      /^31:12: grant agent:a2 for user:ann: scope: .*widens/,
    ],
    [
      "a chain longer than max_chain, at via",
      grants(
        "- actor: agent:a1",
        "  principal: user:ann",
        "  scope: [document#view]",
        "- actor: agent:a2",
        "  principal: user:ann",
        "  via: agent:a1",
        "  scope: [document#view]",
        "- actor: agent:a3",
        "  principal: user:ann",
        "  via: agent:a2",
        "  scope: [document#view]",
      ),
      /^34:10: grant agent:a3 for user:ann: via: the chain would have 3 hops, more than max_chain 2 allows/,
    ],
    [
      "the same edge granted twice, at the second grant",
      grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", "- actor: agent:a1", "  principal: user:ann", "  scope: [document#edit]"),
      /^28:5: grant agent:a1 for user:ann: a second grant of the edge agent:a1#acts_for@user:ann \(first at line 25\) would replace the first$/,
    ],
    ["a grant after the run's clock, at granted_at", grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", "  granted_at: 2026-01-15T10:00:00Z"), /^28:17: .*is after the run's clock \(at: 2026-01-15T09:00:00.000Z\)/],
    [
      "grant times going back, at the later grant's granted_at",
      grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", "- actor: agent:a2", "  principal: user:ann", "  scope: [document#view]", "  granted_at: 2026-01-15T08:00:00Z"),
      /^31:17: grant agent:a2 for user:ann: granted_at .* is before the previous grant's .*; grants are applied in file order/,
    ],
  ])("refuses %s", async (_name, rest, expected) => {
    expect(await delegatedDiagnosticsOf(rest)).toEqual([expect.stringMatching(expected)]);
  });

  it("reports refused relationships and refused grants together, in file order", async () => {
    const diagnostics = await delegatedDiagnosticsOf(`relationships: |-
  document:plan#owner@user:ann
${grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#destroy]")}`);
    expect(diagnostics.map((d) => d.split(": ")[0])).toEqual(["25:3", "29:13"]);
  });

  it("judges expiry at the run's clock: an edge granted earlier may have expired by then", async () => {
    const report = await runDelegated(`relationships: |-
  document:plan#viewer@user:ann
  document:plan#viewer@agent:old
  document:plan#viewer@agent:new
${grants(
  "- actor: agent:old",
  "  principal: user:ann",
  "  scope: [document#view]",
  "  granted_at: 2026-01-15T00:00:00Z",
  "- actor: agent:new",
  "  principal: user:ann",
  "  scope: [document#view]",
  "  granted_at: 2026-01-15T02:00:00Z",
  "- actor: agent:later",
  "  principal: user:ann",
  "  scope: [document#view]",
  "  not_before: 2026-01-15T10:00:00Z",
)}assertions:
  assertTrue:
    - document:plan#view@agent:new on behalf of user:ann
  assertFalse:
    - document:plan#view@agent:old on behalf of user:ann
    - document:plan#view@agent:later on behalf of user:ann
`);
    expect(report.failures).toEqual([]);
  });

  it("runs at the time it is given when the file sets no clock", async () => {
    const file = parseValidationFile(
      `${DELEGATION_SCHEMA.replace("at: 2026-01-15T09:00:00Z\n", "")}relationships: |-
  document:plan#viewer@user:ann
  document:plan#viewer@agent:a1
${grants("- actor: agent:a1", "  principal: user:ann", "  scope: [document#view]", "  expires_at: 2030-01-01T08:00:00Z")}assertions:
  assertTrue:
    - document:plan#view@agent:a1 on behalf of user:ann
`,
      "/work/test.yaml",
      () => "",
    );
    expect((await runValidation(file, { now: new Date("2030-01-01T01:00:00Z") })).failures).toEqual([]);
    await expect(runValidation(file, { now: new Date("2029-12-31T23:00:00Z") })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ message: expect.stringMatching(/max_lifetime/) })],
    });
  });

  it("gives every check the budgets the file sets, whatever the checks before it spent", async () => {
    expect(
      await delegatedFailuresOf(`relationships: |-
  document:plan#viewer@user:ann
  document:plan#viewer@agent:a1
  document:plan#viewer@agent:a2
${grants(
  "- actor: agent:a1",
  "  principal: user:ann",
  "  scope: [document#view]",
  "  budget: 1",
  "- actor: agent:a2",
  "  principal: user:ann",
  "  scope: [document#view]",
  "  budget: 3",
  "  used: 3",
)}assertions:
  assertTrue:
    - document:plan#view@agent:a1 on behalf of user:ann
    - document:plan#view@agent:a1 on behalf of user:ann
    - document:plan#view@agent:a2 on behalf of user:ann
`),
    ).toEqual([
      "42:7: assertTrue document:plan#view@agent:a2 on behalf of user:ann: expected ALLOWED, found DENIED: the budget of agent:a2#acts_for@user:ann is spent (3 allowed checks)",
    ]);
  });
});
