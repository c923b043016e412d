import { describe, expect, it } from "vitest";
import { formatExpression, formatSchema, randomSchema, recursesThroughSubtraction } from "./random-schema.ts";
import type { ExpressionSpec, SchemaSpec } from "./random-schema.ts";
import { SeededRandom } from "./seeded-random.ts";

const schemas = Array.from({ length: 200 }, (_, i) => randomSchema(new SeededRandom(1000 + i)));
const texts = schemas.map(formatSchema);

const computed = (name: string): ExpressionSpec => ({ kind: "computed", name });

describe("randomSchema", () => {
  it("draws the same schema from the same seed", () => {
    expect(formatSchema(randomSchema(new SeededRandom(7)))).toBe(formatSchema(randomSchema(new SeededRandom(7))));
  });

  it("draws user plus two to four definitions with names of at least three characters", () => {
    for (const schema of schemas) {
      expect(schema.definitions[0]?.name).toBe("user");
      expect(schema.definitions.length).toBeGreaterThanOrEqual(3);
      expect(schema.definitions.length).toBeLessThanOrEqual(5);
      for (const d of schema.definitions) {
        expect(d.name.length).toBeGreaterThanOrEqual(3);
        for (const name of [...d.relations.map((r) => r.name), ...d.permissions.map((p) => p.name)]) expect(name.length).toBeGreaterThanOrEqual(3);
      }
    }
  });

  it.each([
    ["a union", /permission \w+ = .*\+/],
    ["an intersection", /permission \w+ = .*&/],
    ["an exclusion", /permission \w+ = .* - /],
    ["parentheses", /permission \w+ = .*\(/],
    ["an arrow", /->/],
    [".any()", /\.any\(/],
    [".all()", /\.all\(/],
    ["nil", /\bnil\b/],
    ["a wildcard", /user:\*/],
    ["a userset subject type", /relation \w+: .*\w#\w/],
    ["a relation allowing its own userset", /definition (\w+) \{[^}]*relation (\w+): [^\n]*\b\1#\2\b/],
  ])("uses %s in some schemas", (_, pattern) => {
    expect(texts.some((t) => pattern.test(t))).toBe(true);
  });

  it("never puts a userset on a relation that allows a wildcard", () => {
    for (const schema of schemas) {
      for (const d of schema.definitions) {
        for (const r of d.relations) {
          for (const a of r.allowed.filter((x) => x.relation !== undefined)) {
            const target = schema.definitions.find((x) => x.name === a.type)?.relations.find((x) => x.name === a.relation);
            expect(target?.allowed.some((x) => x.wildcard) ?? false).toBe(false);
          }
        }
      }
    }
  });

  it("never draws recursion through the subtracted side of an exclusion", () => {
    expect(schemas.some(recursesThroughSubtraction)).toBe(false);
  });
});

describe("recursesThroughSubtraction", () => {
  const withView = (expression: ExpressionSpec): SchemaSpec => ({
    definitions: [
      { name: "user", relations: [], permissions: [] },
      {
        name: "folder",
        relations: [
          { name: "parent", allowed: [{ type: "folder", wildcard: false }] },
          { name: "viewer", allowed: [{ type: "user", wildcard: false }] },
        ],
        permissions: [{ name: "view", expression }],
      },
    ],
  });
  const recursion: ExpressionSpec = { kind: "arrow", tupleset: "parent", target: "view", syntax: "->" };

  it.each<[string, ExpressionSpec, boolean]>([
    ["viewer + parent->view", { kind: "union", children: [computed("viewer"), recursion], parenthesized: false }, false],
    ["parent->view", recursion, false],
    ["parent->view - viewer", { kind: "exclusion", base: recursion, subtract: computed("viewer"), parenthesized: false }, false],
    ["viewer - parent->view", { kind: "exclusion", base: computed("viewer"), subtract: recursion, parenthesized: false }, true],
    ["viewer - (nil + parent->view)", { kind: "exclusion", base: computed("viewer"), subtract: { kind: "union", children: [{ kind: "nil" }, recursion], parenthesized: true }, parenthesized: false }, true],
  ])("judges whether `%s` recurses through a subtraction: %s", (_, expression, expected) => {
    expect(recursesThroughSubtraction(withView(expression))).toBe(expected);
  });
});

describe("formatExpression", () => {
  it.each<[string, ExpressionSpec]>([
    ["aaa - (bbb - ccc)", { kind: "exclusion", base: computed("aaa"), subtract: { kind: "exclusion", base: computed("bbb"), subtract: computed("ccc"), parenthesized: false }, parenthesized: false }],
    ["aaa - bbb - ccc", { kind: "exclusion", base: { kind: "exclusion", base: computed("aaa"), subtract: computed("bbb"), parenthesized: false }, subtract: computed("ccc"), parenthesized: false }],
    ["aaa & bbb + ccc", { kind: "intersection", children: [computed("aaa"), { kind: "union", children: [computed("bbb"), computed("ccc")], parenthesized: false }], parenthesized: false }],
    ["aaa + (bbb & ccc)", { kind: "union", children: [computed("aaa"), { kind: "intersection", children: [computed("bbb"), computed("ccc")], parenthesized: false }], parenthesized: false }],
    ["aaa - bbb + ccc", { kind: "exclusion", base: computed("aaa"), subtract: { kind: "union", children: [computed("bbb"), computed("ccc")], parenthesized: false }, parenthesized: false }],
    ["par.all(view)", { kind: "arrow", tupleset: "par", target: "view", syntax: "all" }],
  ])("prints `%s` with only the parentheses precedence needs", (expected, expression) => {
    expect(formatExpression(expression)).toBe(expected);
  });
});
