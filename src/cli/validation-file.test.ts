import { describe, expect, it } from "vitest";
import { parseAssertionText, parseExpectedSubject, parseValidationFile, ValidationFileError } from "./validation-file.ts";
import { grantFieldPosition } from "./validation-grants.ts";

const noFiles = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

function diagnosticsOf(text: string, readFile = noFiles): string[] {
  try {
    parseValidationFile(text, "/work/test.yaml", readFile);
  } catch (error) {
    if (error instanceof ValidationFileError) return error.diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`);
    throw error;
  }
  return [];
}

describe("parseValidationFile", () => {
  it("reads an inline schema, relationships and assertions with their positions", () => {
    const file = parseValidationFile(
      [
        "schema: |-",
        "  definition user {}",
        "relationships: |-",
        "  // a comment line is skipped",
        "  document:1#viewer@user:ann",
        "",
        "  document:1#viewer@user:bob",
        "assertions:",
        "  assertTrue:",
        "    - document:1#view@user:ann",
        "  assertCaveated:",
        '    - \'document:1#view@user:bob with {"ip": "10.0.0.1"}\'',
      ].join("\n"),
      "/work/test.yaml",
      noFiles,
    );
    expect(file.schema.text).toBe("definition user {}");
    expect(file.schema.positionOf(1, 12)).toEqual({ fileName: "/work/test.yaml", line: 2, column: 14 });
    expect(file.relationships.map((r) => [r.relationship.subject.id, r.position.line, r.position.column])).toEqual([
      ["ann", 5, 3],
      ["bob", 7, 3],
    ]);
    expect(file.assertions.map((a) => [a.kind, a.subject.id, a.position.line, a.position.column, a.context])).toEqual([
      ["assertTrue", "ann", 10, 7, undefined],
      ["assertCaveated", "bob", 12, 7, { ip: "10.0.0.1" }],
    ]);
  });

  it("loads schemaFile relative to the validation file and reports positions in the schema file", () => {
    const read: string[] = [];
    const file = parseValidationFile("schemaFile: ../schemas/app.zed\n", "/work/files/test.yaml", (path) => {
      read.push(path);
      return "definition user {}";
    });
    expect(read).toEqual(["/work/schemas/app.zed"]);
    expect(file.schema.positionOf(3, 4)).toEqual({ fileName: "/work/schemas/app.zed", line: 3, column: 4 });
  });

  it("reads the validation block as expected subjects", () => {
    const file = parseValidationFile(
      [
        "schema: definition user {}",
        "validation:",
        "  document:1#view:",
        '    - "[user:ann] is <document:1#viewer>"',
        '    - "[user:* - {user:bob, user:eve}] is <document:1#viewer>"',
        '    - "[user:carol[...]] is <document:1#viewer>"',
        "  document:2#view: []",
      ].join("\n"),
      "/work/test.yaml",
      noFiles,
    );
    expect(file.validation.map((v) => [v.key, v.position.line, v.subjects.length])).toEqual([
      ["document:1#view", 3, 3],
      ["document:2#view", 7, 0],
    ]);
    expect(file.validation[0]?.subjects.map((s) => [s.subject.id, s.conditional, s.excluded.map((e) => e.id), s.position.line])).toEqual([
      ["ann", false, [], 4],
      ["*", false, ["bob", "eve"], 5],
      ["carol", true, [], 6],
    ]);
  });

  it.each([
    ["a file that is not a mapping", "- a\n- b\n", ["1:1: a validation file must be a YAML mapping with a schema: or schemaFile: key"]],
    ["a missing schema", "relationships: ''\n", ["1:1: missing schema: (inline schema text) or schemaFile: (path to a schema)"]],
    ["an unknown top-level key", "schema: x\nasserts: {}\n", ['2:1: unknown key "asserts"; expected one of schema, schemaFile, at, relationships, delegations, assertions, validation']],
    [
      "a malformed relationship",
      "schema: x\nrelationships: |-\n  document:1#viewer@user:ann\n  document:1viewer@user:bob\n",
      ['4:3: relationship: "document:1viewer@user:bob" is missing the #relation after the resource'],
    ],
    [
      "an unknown assertion block",
      "schema: x\nassertions:\n  assertMaybe: []\n",
      ['3:3: unknown assertion block "assertMaybe"; expected assertTrue, assertFalse, assertCaveated'],
    ],
    ["a YAML syntax error", "schema: [unclosed\n", [expect.stringMatching(/^2:1: /)]],
  ])("reports %s with its position", (_name, text, expected) => {
    expect(diagnosticsOf(text)).toEqual(expected);
  });

  it("reports every problem, not only the first", () => {
    const text = "schema: x\nrelationships: |-\n  bad one\n  bad two\nassertions:\n  assertTrue:\n    - nope\n";
    expect(diagnosticsOf(text).map((d) => d.split(":").slice(0, 2).join(":"))).toEqual(["3:3", "4:3", "7:7"]);
  });

  it("reports an unreadable schemaFile at the schemaFile key's value", () => {
    const diagnostics = diagnosticsOf("\nschemaFile: missing.zed\n", () => {
      throw new Error("ENOENT");
    });
    expect(diagnostics).toEqual(["2:13: schemaFile: cannot read /work/missing.zed: ENOENT"]);
  });
});

describe("the delegations block", () => {
  const GRANTS = [
    "schema: definition user {}",
    "at: 2026-01-15T09:00:00Z",
    "delegations:",
    "  - actor: agent:planner",
    "    principal: user:ann",
    "    scope: [repository#read, repository#push]",
    "    expires_in: 1d2h",
    "    caveat: 'on_ticket:{\"ticket\": \"T-42\"}'",
    "  - actor: agent:coder",
    "    principal: user:ann",
    "    delegation: acts_for",
    "    via: agent:planner",
    '    scope: "*"',
    "    not_before: 2026-01-15T10:00:00Z",
    "    expires_at: 2026-01-15T12:00:00+01:00",
    "    granted_at: 2026-01-14T00:00:00Z",
    "    budget: 5",
    "    used: 2",
  ].join("\n");

  it("reads the run's clock and each grant, in order, with the positions of its fields", () => {
    const file = parseValidationFile(GRANTS, "/work/test.yaml", noFiles);
    expect(file.at).toEqual(new Date("2026-01-15T09:00:00Z"));
    const [planner, coder] = file.delegations;
    expect(planner).toMatchObject({
      request: {
        actor: { type: "agent", id: "planner" },
        principal: { type: "user", id: "ann" },
        scope: ["repository#read", "repository#push"],
        caveat: { name: "on_ticket", context: { ticket: "T-42" } },
      },
      expiresInMs: 26 * 3_600_000,
      grantedAt: undefined,
      used: 0,
      position: { line: 4, column: 5 },
    });
    expect(coder).toMatchObject({
      request: {
        delegation: "acts_for",
        via: { type: "agent", id: "planner" },
        scope: ["*"],
        notBefore: new Date("2026-01-15T10:00:00Z"),
        expiresAt: new Date("2026-01-15T11:00:00Z"),
        budget: 5,
      },
      expiresInMs: undefined,
      grantedAt: new Date("2026-01-14T00:00:00Z"),
      used: 2,
    });
    expect(grantFieldPosition(planner!, "grant.scope[1]")).toMatchObject({ line: 6, column: 30 });
    expect(grantFieldPosition(planner!, "expires_at")).toMatchObject({ line: 7, column: 17 });
    expect(grantFieldPosition(planner!, "grant.caveat.context.ticket")).toMatchObject({ line: 8, column: 13 });
    expect(grantFieldPosition(planner!, "chain")).toMatchObject({ line: 4, column: 5 });
  });

  it("reads a file without delegations as no grants and no clock", () => {
    const file = parseValidationFile("schema: definition user {}\n", "/work/test.yaml", noFiles);
    expect([file.at, file.delegations]).toEqual([undefined, []]);
  });

  const grant = (...lines: string[]) => ["schema: x", "delegations:", "  - actor: agent:a", ...lines.map((line) => `    ${line}`)].join("\n");
  it.each([
    ["a delegations block that is not a list", "schema: x\ndelegations: {}\n", ["2:14: delegations: must be a list of grants, each a mapping with actor:, principal: and scope:"]],
    ["a grant that is not a mapping", "schema: x\ndelegations:\n  - agent:a\n", ["3:5: delegations: each grant must be a mapping with actor:, principal: and scope:"]],
    ["a grant without principal and scope", grant(), ["3:5: a grant needs principal:", "3:5: a grant needs scope:"]],
    ["an unknown grant key", grant("principal: user:ann", "scope: [d#v]", "expires: 2h"), ['6:5: unknown grant key "expires"; expected one of actor, principal, delegation, via, scope, not_before, expires_at, expires_in, granted_at, caveat, budget, used']],
    ["a wildcard principal", grant("principal: user:*", "scope: [d#v]"), [expect.stringMatching(/^4:16: principal\.id: /)]],
    ["a scope entry that is not a string", grant("principal: user:ann", "scope: [d#v, 3]"), ['5:18: scope[1]: must be a string such as repository#read, repository#* or "*"']],
    ["a time that is not RFC 3339", grant("principal: user:ann", "scope: [d#v]", "expires_at: tomorrow"), ['6:17: expires_at: "tomorrow" is not an RFC 3339 time such as 2026-01-15T09:00:00Z']],
    ["a duration in the wrong units", grant("principal: user:ann", "scope: [d#v]", "expires_in: 2w"), ['6:17: expires_in: "2w" is not a duration such as 8h, 30m or 1d12h']],
    [
      "both expires_at and expires_in",
      grant("principal: user:ann", "scope: [d#v]", "expires_at: 2026-01-15T10:00:00Z", "expires_in: 2h"),
      ["7:17: expires_in: give expires_at or expires_in, not both"],
    ],
    ["a caveat context that is not JSON", grant("principal: user:ann", "scope: [d#v]", "caveat: 'on_ticket:{ticket}'"), [expect.stringMatching(/^6:13: caveat: the context after "on_ticket:" is not valid JSON/)]],
    ["a key without a value", grant("principal: user:ann", "scope: [d#v]", "via:"), ["6:5: via: has no value"]],
    ["a budget of zero", grant("principal: user:ann", "scope: [d#v]", "budget: 0"), ["6:13: budget: must be an integer of at least 1"]],
    ["uses without a budget", grant("principal: user:ann", "scope: [d#v]", "used: 1"), ["6:11: used: 1 needs a budget: of at least 1"]],
    ["more uses than the budget", grant("principal: user:ann", "scope: [d#v]", "budget: 2", "used: 3"), ["7:11: used: 3 needs a budget: of at least 3"]],
    ["a clock that is not RFC 3339", "schema: x\nat: 2026-01-15\n", ['2:5: at: "2026-01-15" is not an RFC 3339 time such as 2026-01-15T09:00:00Z']],
  ])("reports %s with its position", (_name, text, expected) => {
    expect(diagnosticsOf(text)).toEqual(expected);
  });
});

describe("parseAssertionText", () => {
  it("splits the check from its JSON context", () => {
    const parsed = parseAssertionText('document:1#view@group:eng#member with {"tags": ["a"]}');
    expect(parsed.resource).toEqual({ type: "document", id: "1" });
    expect(parsed.permission).toBe("view");
    expect(parsed.subject).toEqual({ type: "group", id: "eng", relation: "member" });
    expect(parsed.context).toEqual({ tags: ["a"] });
  });

  it.each([
    ["document:1#view@agent:bot on behalf of user:ann", { type: "user", id: "ann" }, undefined],
    ['document:1#view@agent:bot  on behalf of  user:ann with {"current_ticket": "T-1"}', { type: "user", id: "ann" }, { current_ticket: "T-1" }],
    ['document:1#view@agent:bot with {"note": "not on behalf of user:ann"}', undefined, { note: "not on behalf of user:ann" }],
  ])("reads the principal an actor acts for in %s", (text, onBehalfOf, context) => {
    const parsed = parseAssertionText(text);
    expect(parsed.subject).toEqual({ type: "agent", id: "bot" });
    expect(parsed.onBehalfOf).toEqual(onBehalfOf);
    expect(parsed.context).toEqual(context);
  });

  it.each([
    ["document:1#view@group:eng#member on behalf of user:ann", /the subject is an actor: an object such as agent:copilot/],
    ["document:1#view@agent:* on behalf of user:ann", /the subject is an actor/],
    ["document:1#view@agent:bot on behalf of user:*", /on behalf of\.id: /],
    ["document:1#view@agent:bot on behalf of ann", /on behalf of: "ann" is not of the form type:id/],
    ["document:1#view@user:ann with {1}", /is not valid JSON/],
    ["document:1#view@user:ann[cav]", /caveats and expirations belong on relationships/],
    ["document:1@user:ann", /missing the #relation/],
  ])("rejects %s", (text, message) => {
    expect(() => parseAssertionText(text)).toThrow(message);
  });
});

describe("parseExpectedSubject", () => {
  it.each([
    ["[user:ann]", { id: "ann", conditional: false, excluded: 0 }],
    ["[group:eng#member] is <document:1#viewer>", { id: "eng", conditional: false, excluded: 0 }],
    ["[user:ann[...]] is <document:1#viewer>", { id: "ann", conditional: true, excluded: 0 }],
    ["[user:* - {user:bob}] is <document:1#viewer>", { id: "*", conditional: false, excluded: 1 }],
  ])("parses %s", (text, expected) => {
    const parsed = parseExpectedSubject(text);
    expect({ id: parsed.subject.id, conditional: parsed.conditional, excluded: parsed.excluded.length }).toEqual(expected);
  });

  it.each([
    ["user:ann is <document:1#viewer>", /must start with the subject in brackets/],
    ["[user:ann] was <document:1#viewer>", /only "is <...>" may follow/],
    ["[user:ann - {user:bob}]", /only a wildcard/],
  ])("rejects %s", (text, message) => {
    expect(() => parseExpectedSubject(text)).toThrow(message);
  });
});
