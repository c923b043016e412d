import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../tuple/index.ts";
import { compileSchema, SchemaError } from "./index.ts";
import type { PermissionExpression, Schema } from "./index.ts";
import { DRIVE_SCHEMA, INVALID_SCHEMAS, NESTED_TEAMS_SCHEMA, VALID_SCHEMAS } from "./schema-cases.fixture.ts";

function compileError(source: string, fileName?: string): SchemaError {
  try {
    compileSchema(source, fileName);
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  throw new Error("expected the schema to be rejected");
}

function permission(schema: Schema, definition: string, name: string): PermissionExpression {
  const found = schema.definitions.get(definition)?.permissions.get(name);
  if (found === undefined) throw new Error(`no permission ${definition}#${name}`);
  return found.expression;
}

const ref = (name: string): PermissionExpression => ({ kind: "computed", name });

describe("compileSchema", () => {
  it.each(VALID_SCHEMAS)("accepts $name", ({ source }) => {
    expect(compileSchema(source).source).toBe(source);
  });

  it.each(INVALID_SCHEMAS)("rejects $name, at line $line column $column", ({ source, line, column, message }) => {
    const error = compileError(source, "case.zed");
    expect(error.diagnostics[0]).toMatchObject({ fileName: "case.zed", line, column });
    expect(error.diagnostics[0]?.message).toContain(message);
    expect(error.message.split("\n")[0]).toBe(`case.zed:${line}:${column}: ${error.diagnostics[0]?.message}`);
  });

  it("throws a SchemaError that is an InvalidArgumentError on the field schema", () => {
    const error = compileError("definition us {}");
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.field).toBe("schema");
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toMatch(/^schema\.zed:1:12: /);
  });

  it("reports every type error at once, in source order", () => {
    const source = [
      "definition user {}",
      "definition folder {",
      "  relation owners: user",
      "  relation parent: fodler",
      "  permission edit = owner + parent->edit",
      "}",
      "definition drive {",
      "  relation owner: user with nope",
      "}",
    ].join("\n");
    const error = compileError(source, "drive.zed");
    expect(error.message.split("\n")).toEqual([
      'drive.zed:4:20: definition "fodler" is not defined, in relation "folder#parent" (did you mean "folder"?)',
      'drive.zed:5:21: relation or permission "owner" is not defined on definition "folder", in permission "edit" (did you mean "owners"?)',
      'drive.zed:8:29: caveat "nope" is not defined, in relation "drive#owner"',
    ]);
  });

  it("stops at the first syntax error", () => {
    const error = compileError("definition user {}\ndefinition doc {\n  relation a b\n  relation c d\n}");
    expect(error.diagnostics).toHaveLength(1);
  });
});

describe("operator precedence", () => {
  const schemaWith = (expression: string): Schema =>
    compileSchema(
      `definition user {}\ndefinition doc {\n  relation aaa: user\n  relation bbb: user\n  relation ccc: user\n  relation ddd: user\n  relation parent: doc\n  permission perm = ${expression}\n}`,
    );

  it.each<[string, PermissionExpression]>([
    ["aaa - bbb + ccc", { kind: "exclusion", base: ref("aaa"), subtract: { kind: "union", children: [ref("bbb"), ref("ccc")] } }],
    ["aaa & bbb + ccc", { kind: "intersection", children: [ref("aaa"), { kind: "union", children: [ref("bbb"), ref("ccc")] }] }],
    ["aaa + bbb & ccc", { kind: "intersection", children: [{ kind: "union", children: [ref("aaa"), ref("bbb")] }, ref("ccc")] }],
    ["aaa - bbb & ccc", { kind: "exclusion", base: ref("aaa"), subtract: { kind: "intersection", children: [ref("bbb"), ref("ccc")] } }],
    ["aaa & bbb - ccc", { kind: "exclusion", base: { kind: "intersection", children: [ref("aaa"), ref("bbb")] }, subtract: ref("ccc") }],
    ["aaa - bbb - ccc", { kind: "exclusion", base: { kind: "exclusion", base: ref("aaa"), subtract: ref("bbb") }, subtract: ref("ccc") }],
    ["(aaa - bbb) + ccc", { kind: "union", children: [{ kind: "exclusion", base: ref("aaa"), subtract: ref("bbb") }, ref("ccc")] }],
    ["aaa + bbb + ccc + ddd", { kind: "union", children: [ref("aaa"), ref("bbb"), ref("ccc"), ref("ddd")] }],
    ["aaa + (bbb + ccc) + ddd", { kind: "union", children: [ref("aaa"), ref("bbb"), ref("ccc"), ref("ddd")] }],
    ["aaa & (bbb & ccc)", { kind: "intersection", children: [ref("aaa"), ref("bbb"), ref("ccc")] }],
    ["aaa & (bbb + ccc) & ddd", { kind: "intersection", children: [ref("aaa"), { kind: "union", children: [ref("bbb"), ref("ccc")] }, ref("ddd")] }],
    [
      "parent->perm + aaa",
      { kind: "union", children: [{ kind: "arrow", tupleset: "parent", target: "perm", mode: "any" }, ref("aaa")] },
    ],
    ["parent.all(aaa) & nil", { kind: "intersection", children: [{ kind: "arrow", tupleset: "parent", target: "aaa", mode: "all" }, { kind: "nil" }] }],
    ["((aaa))", ref("aaa")],
  ])("parses `%s` as SpiceDB does", (expression, expected) => {
    expect(permission(schemaWith(expression), "doc", "perm")).toEqual(expected);
  });
});

describe("the compiled model", () => {
  const drive = compileSchema(DRIVE_SCHEMA, "drive.zed");

  it("keeps definitions, relations and permissions by name", () => {
    expect([...drive.definitions.keys()]).toEqual(["user", "service_account", "group", "organization", "folder", "document"]);
    const folder = drive.definitions.get("folder");
    expect([...(folder?.relations.keys() ?? [])]).toEqual(["org", "parent", "owner", "editor", "viewer"]);
    expect([...(folder?.permissions.keys() ?? [])]).toEqual(["edit", "view"]);
  });

  it("keeps every allowed subject type with its wildcard, caveat and expiration", () => {
    expect(drive.definitions.get("folder")?.relations.get("viewer")?.allowedSubjects).toEqual([
      { type: "user", relation: undefined, wildcard: false, caveat: undefined, expiration: false },
      { type: "user", relation: undefined, wildcard: true, caveat: undefined, expiration: false },
      { type: "group", relation: "member", wildcard: false, caveat: undefined, expiration: false },
      { type: "user", relation: undefined, wildcard: false, caveat: "only_on_weekdays", expiration: false },
      { type: "user", relation: undefined, wildcard: false, caveat: undefined, expiration: true },
      { type: "user", relation: undefined, wildcard: false, caveat: "ip_allowlist", expiration: true },
    ]);
  });

  it("keeps doc comments on definitions, relations, permissions and caveats, and only doc comments", () => {
    expect(drive.definitions.get("user")?.comment).toBe("user is a human.");
    expect(drive.definitions.get("group")?.comment).toBe("group is a set of users and nested groups.");
    expect(drive.definitions.get("service_account")?.comment).toBeUndefined();
    expect(drive.definitions.get("folder")?.relations.get("viewer")?.comment).toBe("viewer is who may see the folder.");
    expect(drive.definitions.get("document")?.permissions.get("view")?.comment).toBe("view is everyone who may read, minus the banned.");
    expect(drive.caveats.get("only_on_weekdays")?.comment).toBe("only_on_weekdays limits access to working days.");
    expect(drive.caveats.get("ip_allowlist")?.comment).toBeUndefined();
  });

  it("keeps caveat parameters with their types and the CEL text", () => {
    const caveat = drive.caveats.get("ip_allowlist");
    expect([...(caveat?.parameters ?? [])]).toEqual([
      ["user_ip", { kind: "ipaddress" }],
      ["allowed_ranges", { kind: "list", element: { kind: "string" } }],
      ["labels", { kind: "map", value: { kind: "int" } }],
    ]);
    expect(caveat?.expression).toBe('allowed_ranges.exists(r, user_ip.in_cidr(r)) && labels != {"}": 1}');
  });

  it("compiles arrows, exclusions and intersections of the drive schema", () => {
    expect(permission(drive, "document", "view")).toEqual({
      kind: "exclusion",
      base: { kind: "union", children: [ref("viewer"), ref("edit"), { kind: "arrow", tupleset: "folder", target: "view", mode: "any" }] },
      subtract: ref("banned"),
    });
    expect(permission(drive, "document", "delete")).toEqual({
      kind: "intersection",
      children: [ref("owner"), { kind: "arrow", tupleset: "folder", target: "edit", mode: "all" }],
    });
    expect(permission(drive, "folder", "view")).toEqual({
      kind: "union",
      children: [
        ref("viewer"),
        ref("edit"),
        { kind: "arrow", tupleset: "parent", target: "view", mode: "any" },
        { kind: "arrow", tupleset: "org", target: "browse", mode: "any" },
      ],
    });
  });

  it("compiles the nested-teams schema with a recursive arrow and nil", () => {
    const teams = compileSchema(NESTED_TEAMS_SCHEMA);
    expect(permission(teams, "team", "all_members")).toEqual({
      kind: "union",
      children: [ref("member"), { kind: "arrow", tupleset: "parent", target: "all_members", mode: "any" }],
    });
    expect(permission(teams, "project", "nobody")).toEqual({ kind: "nil" });
    expect(teams.definitions.get("project")?.relations.get("contributor")?.allowedSubjects.map((s) => s.relation)).toEqual([
      undefined,
      "member",
      "all_members",
    ]);
  });
});

describe("size limits", () => {
  const withPermission = (expression: string): string => `definition user {}\ndefinition doc {\n  relation viewer: user\n  permission view = ${expression}\n}`;

  it("rejects 3,000 nested parentheses with a SchemaError at the 101st, not a stack overflow", () => {
    const error = compileError(withPermission(`${"(".repeat(3000)}viewer${")".repeat(3000)}`), "deep.zed");
    expect(error.diagnostics).toEqual([{ fileName: "deep.zed", line: 4, column: 121, message: "expression nests deeper than 100 levels of parentheses" }]);
  });

  it("accepts exactly 100 nested parentheses", () => {
    expect(permission(compileSchema(withPermission(`${"(".repeat(100)}viewer${")".repeat(100)}`)), "doc", "view")).toEqual(ref("viewer"));
  });

  it.each(["-", "&", "+"])("rejects 20,000 operands joined by `%s` at the 1,001st", (operator) => {
    const error = compileError(withPermission(Array(20000).fill("viewer").join(` ${operator} `)));
    expect(error.diagnostics).toHaveLength(1);
    expect(error.diagnostics[0]).toMatchObject({ line: 4, column: 21 + 1000 * 9, message: "expression has more than 1000 operands; split it into several permissions" });
  });

  it("accepts 1,000 operands and counts an arrow as one", () => {
    const source = `definition user {}\ndefinition doc {\n  relation viewer: user\n  relation parent: doc\n  permission view = ${["parent->view", ...Array(999).fill("viewer")].join(" - ")}\n}`;
    expect(() => compileSchema(source)).not.toThrow();
  });

  it("rejects parameter types nested 3,000 deep", () => {
    const error = compileError(`caveat cav(num ${"list<".repeat(3000)}int${">".repeat(3000)}) { num == [] }`);
    expect(error.diagnostics[0]?.message).toBe("parameter type nests deeper than 100 levels");
  });

  it("checks a chain of 5,000 permissions and a chain of 5,000 relations without exhausting the stack", () => {
    const permissions = Array.from({ length: 5000 }, (_, i) => `  permission p${i + 100} = ${i === 4999 ? "p100" : `p${i + 101}`}`);
    const cycle = compileError(`definition user {}\ndefinition doc {\n${permissions.join("\n")}\n}`);
    expect(cycle.diagnostics[0]?.message).toContain("is defined only in terms of itself (p100 -> p101 -> p102");
    const grounded = permissions.slice(0, 4999).concat("  permission p5099 = viewer", "  relation viewer: user");
    expect(() => compileSchema(`definition user {}\ndefinition doc {\n${grounded.join("\n")}\n}`)).not.toThrow();
    const relations = Array.from({ length: 5000 }, (_, i) => `definition d${i + 100} {\n  relation rel: ${i === 4999 ? "user:*" : `d${i + 101}#rel`}\n}`);
    const wildcard = compileError(`definition user {}\n${relations.join("\n")}\ndefinition doc {\n  relation viewer: d100#rel\n}`);
    expect(wildcard.diagnostics[0]?.message).toContain("includes the wildcard `user:*`");
  });
});

describe("wildcards reached through subject relations", () => {
  it("finds a wildcard behind a subject relation listed after one that leads nowhere, and remembers neither walk wrongly", () => {
    const source = [
      "definition user {}",
      "definition team {\n  permission member = nil\n}",
      "definition group {\n  relation everyone: user:*\n  relation member: team#member | group#everyone\n}",
      "definition club {\n  relation member: team#member\n}",
      "definition doc {\n  relation viewer: club#member\n  relation editor: group#member\n}",
    ].join("\n");
    const error = compileError(source);
    expect(error.diagnostics.map((diagnostic) => diagnostic.message)).toEqual([
      '`group#member` cannot be a subject type of relation "doc#editor": relation "group#member" includes the wildcard `user:*` through relation "group#everyone", and wildcards cannot be included through a subject relation',
    ]);
  });
});
