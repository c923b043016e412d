import { describe, expect, it } from "vitest";
import { compileSchema, SchemaError } from "./index.ts";
import type { Delegation, Schema } from "./index.ts";

// Members of `definition agent` start on line 9 of the schema agent() builds.
const PREAMBLE = [
  "use expiration",
  'caveat on_ticket(ticket string) { ticket != "" }',
  "definition user {}",
  "definition document {",
  "  relation viewer: user",
  "  permission view = viewer",
  "}",
  "definition agent {",
];
const FIRST_MEMBER_LINE = PREAMBLE.length + 1;

function agent(...members: string[]): string {
  return [...PREAMBLE, ...members, "}"].join("\n");
}

function compileError(source: string): SchemaError {
  try {
    compileSchema(source, "case.zed");
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  throw new Error("expected the schema to be rejected");
}

function delegation(schema: Schema, type: string, name: string): Delegation {
  const found = schema.definitions.get(type)?.delegations.get(name);
  if (found === undefined) throw new Error(`no delegation ${type}#${name}`);
  return found;
}

const DAY = 24 * 60 * 60 * 1000;

/** END_OF_LINE points an expected error at the end of its line. */
const END_OF_LINE = Symbol("end of line");

// The 1-based column of the `occurrence`-th `text` in `line`, or of the end of the line.
function columnOf(line: string, at: string | readonly [string, number] | typeof END_OF_LINE): number {
  if (at === END_OF_LINE) return line.length + 1;
  const [text, occurrence] = typeof at === "string" ? [at, 0] : at;
  let index = line.indexOf(text);
  for (let i = 0; i < occurrence; i++) index = line.indexOf(text, index + 1);
  if (index < 0) throw new Error(`"${text}" is not in "${line}"`);
  return index + 1;
}

describe("delegation in the schema language", () => {
  it("compiles every option of the example of the spec", () => {
    const schema = compileSchema(
      agent(
        "  relation operator: user",
        "  /** acts_for: agents act for humans and for other agents. */",
        "  delegation acts_for: user | user with on_ticket | agent {",
        "    scope document#view | document#viewer | user#*",
        "    max_lifetime 30d",
        "    max_chain 2",
        "    ceiling",
        "  }",
      ),
    );
    expect(delegation(schema, "agent", "acts_for")).toEqual({
      name: "acts_for",
      comment: "acts_for: agents act for humans and for other agents.",
      actorType: "agent",
      principals: [{ type: "user", caveat: undefined }, { type: "user", caveat: "on_ticket" }, { type: "agent", caveat: undefined }],
      scope: [
        { type: "document", permission: "view" },
        { type: "document", permission: "viewer" },
        { type: "user", permission: "*" },
      ],
      maxLifetimeMs: 30 * DAY,
      maxChain: 2,
      ceiling: true,
    });
    expect(schema.definitions.get("agent")?.relations.has("acts_for")).toBe(false);
    expect(schema.definitions.get("agent")?.permissions.has("acts_for")).toBe(false);
  });

  it("defaults max_lifetime to 24h, max_chain to 1 and ceiling to off", () => {
    const schema = compileSchema(agent("  delegation acts_for: user { scope * }"));
    expect(delegation(schema, "agent", "acts_for")).toMatchObject({ scope: [{ type: "*", permission: "*" }], maxLifetimeMs: DAY, maxChain: 1, ceiling: false });
  });

  it("gives every definition a map of delegations, empty where it declares none", () => {
    const schema = compileSchema(agent("  delegation acts_for: user { scope * }"));
    expect([...schema.definitions.values()].map((definition) => [definition.name, [...definition.delegations.keys()]])).toEqual([
      ["user", []],
      ["document", []],
      ["agent", ["acts_for"]],
    ]);
  });

  it.each<[string, string[], Partial<Delegation>]>([
    ["options separated by `;` on one line, in any order", ["  delegation acts_for: user { ceiling; max_chain 16; scope document#* }"], { ceiling: true, maxChain: 16, scope: [{ type: "document", permission: "*" }] }],
    ["a block spread over lines with blank lines and comments", ["  delegation acts_for: user {", "", "    // why", "    max_lifetime 1h30m", "    scope document#view", "  }"], { maxLifetimeMs: 90 * 60 * 1000 }],
    ["a lifetime of every unit", ["  delegation acts_for: user { scope *; max_lifetime 2d12h30m15s }"], { maxLifetimeMs: 2.5 * DAY + 30 * 60 * 1000 + 15 * 1000 }],
    ["a lifetime in seconds and the longest allowed", ["  delegation acts_for: user { scope *; max_lifetime 3650d }"], { maxLifetimeMs: 3650 * DAY }],
    ["a principal of the actor's own type", ["  delegation acts_for: agent { scope * }"], { principals: [{ type: "agent", caveat: undefined }] }],
  ])("accepts %s", (_, members, expected) => {
    expect(delegation(compileSchema(agent(...members)), "agent", "acts_for")).toMatchObject(expected);
  });

  it("keeps `delegation` and the option words usable as names, as SpiceDB reserves none of them", () => {
    const source = [
      "definition user {}",
      "definition scope {",
      "  relation delegation: user",
      "  relation ceiling: user",
      "  relation max_chain: user",
      "  permission max_lifetime = delegation + ceiling + max_chain",
      "  delegation scope: user { scope scope#delegation | scope#max_lifetime }",
      "}",
    ].join("\n");
    expect(delegation(compileSchema(source), "scope", "scope").scope).toEqual([
      { type: "scope", permission: "delegation" },
      { type: "scope", permission: "max_lifetime" },
    ]);
  });

  it("reads scope entries of prefixed definitions", () => {
    const source = "definition acme/user {}\ndefinition acme/doc {\n  relation viewer: acme/user\n}\ndefinition bot {\n  delegation acts_for: acme/user { scope acme/doc#viewer }\n}";
    expect(delegation(compileSchema(source), "bot", "acts_for").scope).toEqual([{ type: "acme/doc", permission: "viewer" }]);
  });

  // [what, members of agent, index of the member line at fault, the text the error points at, message]
  it.each<[string, string[], number, string | readonly [string, number] | typeof END_OF_LINE, string]>([
    ["an unknown scope definition", ["  delegation acts_for: user {", "    scope doc#view", "  }"], 1, "doc", 'definition "doc" is not defined, in the scope of delegation "agent#acts_for"'],
    ["an unknown scope permission", ["  delegation acts_for: user {", "    scope document#edit", "  }"], 1, "edit", 'relation or permission "edit" is not defined on definition "document", in the scope of delegation "agent#acts_for"'],
    ["a scope naming a delegation", ["  delegation helps: user { scope * }", "  delegation acts_for: user {", "    scope agent#helps", "  }"], 2, "helps", '"agent#helps" is a delegation; a scope names what may be done on a resource'],
    ["`*` combined with other entries", ["  delegation acts_for: user {", "    scope * | document#view", "  }"], 1, "*", "`*` covers everything and cannot be combined with other scope entries"],
    ["a scope entry listed twice", ["  delegation acts_for: user {", "    scope document#view | document#view", "  }"], 1, ["document#view", 1], 'scope entry `document#view` is listed twice on delegation "agent#acts_for"'],
    ["a type-wide scope entry listed twice", ["  delegation acts_for: user {", "    scope document#* | user#* | document#*", "  }"], 1, ["document#*", 1], "scope entry `document#*` is listed twice"],
    ["a missing scope", ["  delegation acts_for: user {", "    max_chain 2", "  }"], 0, "acts_for", 'delegation "agent#acts_for" has no `scope`'],
    ["an empty block", ["  delegation acts_for: user {}"], 0, "acts_for", "has no `scope`"],
    ["an option given twice", ["  delegation acts_for: user {", "    scope *", "    max_chain 2", "    max_chain 3", "  }"], 3, "max_chain", "option `max_chain` is given twice in delegation \"agent#acts_for\" (first at 11:5)"],
    ["a scope given twice", ["  delegation acts_for: user {", "    scope *", "    scope document#view", "  }"], 2, "scope", "option `scope` is given twice"],
    ["an unknown option", ["  delegation acts_for: user {", "    scopes *", "  }"], 1, "scopes", 'unknown option "scopes" in delegation "acts_for"; the options are scope, max_lifetime, max_chain, ceiling (did you mean "scope"?)'],
    ["two options on one line", ["  delegation acts_for: user {", "    scope * max_chain 2", "  }"], 1, "max_chain", 'expected the end of the delegation option (a line break or `;`), found "max_chain"'],
    ["a duration with an unknown unit", ["  delegation acts_for: user {", "    scope *", "    max_lifetime 30x", "  }"], 2, "30x", 'max_lifetime "30x" of delegation "agent#acts_for" is not a valid duration'],
    ["a duration of zero", ["  delegation acts_for: user { scope *; max_lifetime 0s }"], 0, "0s", 'max_lifetime "0s"'],
    ["a fractional duration", ["  delegation acts_for: user { scope *; max_lifetime 1.5h }"], 0, "1.5h", 'max_lifetime "1.5h"'],
    ["a duration with units out of order", ["  delegation acts_for: user { scope *; max_lifetime 30m1h }"], 0, "30m1h", "largest unit first"],
    ["a duration without a unit", ["  delegation acts_for: user { scope *; max_lifetime 30 }"], 0, "30 ", 'max_lifetime "30"'],
    ["a duration over ten years", ["  delegation acts_for: user { scope *; max_lifetime 3651d }"], 0, "3651d", "at most 3650d"],
    ["a missing duration", ["  delegation acts_for: user { scope *; max_lifetime }"], 0, "}", "expected a duration: `max_lifetime 30d` or `1h30m`, found `}`"],
    ["max_chain 0", ["  delegation acts_for: user { scope *; max_chain 0 }"], 0, "0 ", 'max_chain "0" of delegation "agent#acts_for" is not an integer from 1 to 16'],
    ["max_chain 17", ["  delegation acts_for: user { scope *; max_chain 17 }"], 0, "17", 'max_chain "17"'],
    ["max_chain as a word", ["  delegation acts_for: user { scope *; max_chain two }"], 0, "two", 'max_chain "two"'],
    ["a negative max_chain", ["  delegation acts_for: user { scope *; max_chain -1 }"], 0, "-", "expected a number of hops: `max_chain 2`, found `-`"],
    ["a userset principal", ["  delegation acts_for: user#member { scope * }"], 0, "#", "a delegation acts for one object, not a userset: write `user` instead of `user#...`"],
    ["a wildcard principal", ["  delegation acts_for: user:* { scope * }"], 0, ":*", "a delegation acts for one object, not a wildcard"],
    ["a principal with expiration", ["  delegation acts_for: user with expiration { scope * }"], 0, "expiration", "delegation edges always expire (at most max_lifetime after they are granted): remove `with expiration`"],
    ["a principal with a caveat and expiration", ["  delegation acts_for: user with on_ticket and expiration { scope * }"], 0, "and", "remove `and expiration`"],
    ["an unknown principal type", ["  delegation acts_for: usr { scope * }"], 0, "usr", 'definition "usr" is not defined, in delegation "agent#acts_for" (did you mean "user"?)'],
    ["an unknown principal caveat", ["  delegation acts_for: user with on_tiket { scope * }"], 0, "on_tiket", 'caveat "on_tiket" is not defined, in delegation "agent#acts_for" (did you mean "on_ticket"?)'],
    ["a principal listed twice", ["  delegation acts_for: user with on_ticket | user with on_ticket { scope * }"], 0, ["user", 1], "principal type `user with on_ticket` is listed twice on delegation \"agent#acts_for\""],
    ["a delegation without a block", ["  delegation acts_for: user", "  relation other: user"], 0, END_OF_LINE, 'expected `{` after the principal types of delegation "acts_for"'],
    ["a delegation without principal types", ["  delegation acts_for { scope * }"], 0, "{", "expected `:` after `delegation acts_for`"],
    ["an invalid delegation name", ["  delegation ab: user { scope * }"], 0, "ab", 'delegation name "ab" is invalid'],
    ["a delegation named like a relation", ["  relation acts_for: user", "  delegation acts_for: user { scope * }"], 1, "acts_for", 'delegation "acts_for" is already declared as a relation on definition "agent" at 9:12 (relations, permissions and delegations share one namespace)'],
    ["a permission named like a delegation", ["  delegation acts_for: user { scope * }", "  permission acts_for = nil"], 1, "acts_for", 'permission "acts_for" is already declared as a delegation on definition "agent" at 9:14'],
    ["a permission referring to a delegation", ["  delegation acts_for: user { scope * }", "  permission act = acts_for"], 1, "acts_for", '"acts_for" is a delegation on definition "agent", which permission "act" cannot refer to; a delegation is not a set of subjects'],
    ["an arrow from a delegation", ["  delegation acts_for: agent { scope * }", "  permission act = acts_for->act"], 1, "acts_for", '"acts_for" is a delegation on definition "agent", which permission "act" cannot refer to'],
    ["an arrow to a delegation", ["  relation peer: agent", "  delegation acts_for: user { scope * }", "  permission act = peer.any(acts_for)"], 2, "acts_for", '"acts_for" is a delegation on definition "agent", which permission "act" cannot refer to'],
    ["a relation allowing a delegation as a userset", ["  relation peer: agent#acts_for", "  delegation acts_for: user { scope * }"], 0, "acts_for", "`agent#acts_for` is a delegation, which cannot be a subject type, in relation \"agent#peer\""],
  ])("rejects %s", (_, members, index, at, message) => {
    const column = columnOf(members[index] ?? "", at);
    const error = compileError(agent(...members));
    expect(error.diagnostics[0]).toMatchObject({ fileName: "case.zed", line: FIRST_MEMBER_LINE + index, column });
    expect(error.diagnostics[0]?.message).toContain(message);
  });

  it("reports every problem of a delegation at once", () => {
    const error = compileError(agent("  delegation acts_for: usr | user {", "    scope doc#view", "    max_lifetime 0s", "    max_chain 99", "  }"));
    expect(error.diagnostics.map((diagnostic) => `${diagnostic.line}:${diagnostic.column}`)).toEqual(["9:24", "10:11", "11:18", "12:15"]);
  });

  it.each<[string, string, number, number]>([
    ["a caveat named with the reserved prefix", 'caveat mandate/limit(num int) { num > 0 }\ndefinition user {}', 1, 8],
    ["the delegation caveat itself", 'definition user {}\ncaveat mandate/delegation(num int) { num > 0 }', 2, 8],
  ])("rejects %s", (_, source, line, column) => {
    const error = compileError(source);
    expect(error.diagnostics[0]).toMatchObject({ line, column });
    expect(error.diagnostics[0]?.message).toContain("is reserved: the prefix `mandate/` belongs to Mandate's own caveats");
  });
});
