import { describe, expect, it } from "vitest";
import { parseAssertionText, parseExpectedSubject, parseValidationFile, ValidationFileError } from "./validation-file.ts";

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
    ["an unknown top-level key", "schema: x\nasserts: {}\n", ['2:1: unknown key "asserts"; expected one of schema, schemaFile, relationships, assertions, validation']],
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

describe("parseAssertionText", () => {
  it("splits the check from its JSON context", () => {
    const parsed = parseAssertionText('document:1#view@group:eng#member with {"tags": ["a"]}');
    expect(parsed.resource).toEqual({ type: "document", id: "1" });
    expect(parsed.permission).toBe("view");
    expect(parsed.subject).toEqual({ type: "group", id: "eng", relation: "member" });
    expect(parsed.context).toEqual({ tags: ["a"] });
  });

  it.each([
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
