import { describe, expect, it } from "vitest";
import { InvalidArgumentError, parseRelationship } from "../tuple/index.ts";
import { compileSchema } from "../schema/index.ts";
import type { Schema } from "../schema/index.ts";
import { CelCaveatEvaluator, evaluateCaveat } from "./caveat-evaluator.ts";
import { CaveatEvaluationError } from "./errors.ts";
import { sortedMissingParameters } from "./membership.ts";

type Context = Record<string, unknown>;

// A schema with one caveat `c(PARAMETERS) { EXPRESSION }`.
function schemaWith(parameters: string, expression: string): Schema {
  return compileSchema(`caveat c(${parameters}) {\n  ${expression}\n}\ndefinition user {}\ndefinition doc {\n  relation viewer: user with c\n}`);
}

// The answer as one string: "allowed", "denied" or "conditional[a,b]".
function answer(parameters: string, expression: string, stored: Context, request: Context | undefined): string {
  const membership = evaluateCaveat(schemaWith(parameters, expression), { name: "c", context: stored }, request);
  const missing = sortedMissingParameters(membership);
  return missing === undefined ? membership.permissionship : `conditional[${missing.join(",")}]`;
}

describe("evaluateCaveat over every parameter type", () => {
  it.each([
    ["int", "i int", "i > 2", { i: 3 }, "allowed"],
    ["int from a numeric string", "i int", "i > 2", { i: "3" }, "allowed"],
    ["int below", "i int", "i > 2", { i: 2 }, "denied"],
    ["int arithmetic", "i int", "i * 2 + 1 == 7", { i: 3 }, "allowed"],
    ["uint equal to an int literal (SpiceDB declares uint as int)", "u uint", "u == 5", { u: 5 }, "allowed"],
    ["uint compared", "u uint", "u > 1", { u: 0 }, "denied"],
    ["double", "d double", "d >= 1.5", { d: 1.5 }, "allowed"],
    ["double from an integral JSON number", "d double", "d == 2.0", { d: 2 }, "allowed"],
    ["bool", "b bool", "!b", { b: false }, "allowed"],
    ["string", "s string", 's.startsWith("ab") && s.endsWith("z")', { s: "abcz" }, "allowed"],
    ["string matches", "s string", 's.matches("^a+$")', { s: "aab" }, "denied"],
    ["bytes from base64", "by bytes", 'by == b"hi"', { by: "aGk=" }, "allowed"],
    ["bytes size", "by bytes", "size(by) == 3", { by: "aGk=" }, "denied"],
    ["duration", "du duration", 'du > duration("1h")', { du: "90m" }, "allowed"],
    ["negative duration", "du duration", 'du < duration("0s")', { du: "-1.5s" }, "allowed"],
    ["duration getter", "du duration", "du.getMinutes() == 90", { du: "1h30m" }, "allowed"],
    ["timestamp", "t timestamp", 't < timestamp("2030-01-01T00:00:00Z")', { t: "2026-11-28T10:00:00Z" }, "allowed"],
    ["timestamp with offset", "t timestamp", 't == timestamp("2026-11-28T08:00:00Z")', { t: "2026-11-28T10:00:00+02:00" }, "allowed"],
    ["timestamp getter", "t timestamp", "t.getFullYear() == 2026", { t: "2026-11-28T10:00:00Z" }, "allowed"],
    ["timestamp plus duration", "t timestamp, du duration", 't + du > timestamp("2026-11-28T11:00:00Z")', { t: "2026-11-28T10:00:00Z", du: "2h" }, "allowed"],
    ["list of ints", "l list<int>", "2 in l", { l: [1, 2] }, "allowed"],
    ["list of strings exists", "l list<string>", 'l.exists(x, x == "b")', { l: ["a"] }, "denied"],
    ["map by index", "m map<string>", 'm["k"] == "v"', { m: { k: "v" } }, "allowed"],
    ["map by field", "m map<int>", "m.k > 1", { m: { k: 2 } }, "allowed"],
    ["map key presence", "m map<int>", '"k" in m', { m: {} }, "denied"],
    ["nested list", "l list<list<int>>", "l[1][0] == 3", { l: [[1], [3]] }, "allowed"],
    ["any number equal to an int (heterogeneous equality)", "a any", "a == 1", { a: 1 }, "allowed"],
    ["any object field", "a any", 'a.x == "y"', { a: { x: "y" } }, "allowed"],
    ["any null (a value, not an absence)", "a any", "a == null", { a: null }, "allowed"],
    ["any of another type than compared with", "a any", "a == 1", { a: "x" }, "denied"],
    ["ipaddress in_cidr", "ip ipaddress", 'ip.in_cidr("10.0.0.0/8")', { ip: "10.1.2.3" }, "allowed"],
    ["ipaddress outside the cidr", "ip ipaddress", 'ip.in_cidr("10.0.0.0/8")', { ip: "192.168.0.1" }, "denied"],
    ["IPv6 in_cidr", "ip ipaddress", 'ip.in_cidr("2001:db8::/32")', { ip: "2001:db8::1" }, "allowed"],
    ["ipaddresses equal in different spellings", "a ipaddress, b ipaddress", "a == b", { a: "2001:DB8::1", b: "2001:db8:0::1" }, "allowed"],
  ])("%s: %s `%s` with %j is %s", (_, parameters, expression, context, expected) => {
    expect(answer(parameters, expression, context, undefined)).toBe(expected);
    // The same values given in the request's context instead of the relationship's.
    expect(answer(parameters, expression, {}, context)).toBe(expected);
  });
});

describe("partial evaluation", () => {
  it.each([
    ["a || b with a true", "a bool, b bool", "a || b", { a: true }, "allowed"],
    ["a || b with a false", "a bool, b bool", "a || b", { a: false }, "conditional[b]"],
    ["a || b with b true", "a bool, b bool", "a || b", { b: true }, "allowed"],
    ["a || b with neither", "a bool, b bool", "a || b", {}, "conditional[a,b]"],
    ["a && b with a false", "a bool, b bool", "a && b", { a: false }, "denied"],
    ["a && b with b false", "a bool, b bool", "a && b", { b: false }, "denied"],
    ["a && b with a true", "a bool, b bool", "a && b", { a: true }, "conditional[b]"],
    ["a && b with neither", "a bool, b bool", "a && b", {}, "conditional[a,b]"],
    ["(a && b) || c with none", "a bool, b bool, c bool", "(a && b) || c", {}, "conditional[a,b,c]"],
    ["(a && b) || c with a false", "a bool, b bool, c bool", "(a && b) || c", { a: false }, "conditional[c]"],
    ["!a with none", "a bool", "!a", {}, "conditional[a]"],
    ["a ternary on a missing condition", "c bool, x int, y int", "c ? x > 1 : y > 1", { x: 5 }, "conditional[c]"],
    ["a ternary on a known condition", "c bool, x int, y int", "c ? x > 1 : y > 1", { c: true }, "conditional[x]"],
    ["a ternary decided", "c bool, x int, y int", "c ? x > 1 : y > 1", { c: false, y: 5 }, "allowed"],
    ["a comparison of a missing parameter", "i int, j int", "i > 2 && j > 2", { i: 3 }, "conditional[j]"],
    ["a macro over a missing parameter", "l list<int>, x int", "l.exists(e, e == x)", { l: [1, 2] }, "conditional[x]"],
    ["a missing list in a macro", "l list<int>, x int", "l.exists(e, e == x)", { x: 1 }, "conditional[l]"],
    ["false && an error", "a bool, i int", "a && 10 / i == 1", { a: false, i: 0 }, "denied"],
    ["true || an error", "a bool, i int", "a || 10 / i == 1", { a: true, i: 0 }, "allowed"],
    ["an error || a missing parameter (unknown wins, as in cel-go)", "a bool, i int", "10 / i == 1 || a", { i: 0 }, "conditional[a]"],
    ["an error && false", "a bool, i int", "10 / i == 1 && a", { i: 0, a: false }, "denied"],
  ])("%s: `%s` with %j is %s", (_, parameters, expression, context, expected) => {
    expect(answer(parameters, expression, context, undefined)).toBe(expected);
  });
});

describe("context precedence", () => {
  it.each([
    ["the stored value wins over the request's", { i: 1 }, { i: 5 }, "denied"],
    ["a request value fills what the relationship lacks", { j: 5 }, { i: 5 }, "allowed"],
    ["request keys the caveat does not declare are ignored", { j: 5 }, { i: 5, other: "x" }, "allowed"],
    ["a badly typed request value the stored context overrides is never read", { i: 5, j: 5 }, { i: "not a number" }, "allowed"],
    ["no request context leaves the missing parameter unknown", { j: 5 }, undefined, "conditional[i]"],
  ])("%s", (_, stored, request, expected) => {
    expect(answer("i int, j int", "i > 2 && j > 2", stored, request)).toBe(expected);
  });
});

describe("errors", () => {
  it.each([
    ["an int", "i int", "i > 2", { i: "abc" }, "context.i"],
    ["a fractional int", "i int", "i > 2", { i: 1.5 }, "context.i"],
    ["a timestamp", "t timestamp", 't > timestamp("2000-01-01T00:00:00Z")', { t: "yesterday" }, "context.t"],
    ["a list element", "l list<int>", "1 in l", { l: [1, true] }, "context.l[1]"],
    ["an ipaddress", "ip ipaddress", 'ip.in_cidr("10.0.0.0/8")', { ip: "10.0.0" }, "context.ip"],
  ])("rejects a request context value of the wrong type for %s (%s `%s` with %j)", (_, parameters, expression, request, field) => {
    const run = (): unknown => answer(parameters, expression, {}, request);
    expect(run).toThrow(InvalidArgumentError);
    expect(run).toThrow(expect.objectContaining({ field, message: expect.stringContaining("caveat `c`") }));
  });

  it.each([
    ["division by zero", "i int", "10 / i == 1", { i: 0 }, "divide by zero"],
    ["modulo by zero", "i int", "10 % i == 1", { i: 0 }, "zero"],
    ["integer overflow", "i int", "i * 2 > 0", { i: 2 ** 62 }, "overflow"],
    ["a failed conversion", "s string", "int(s) > 0", { s: "abc" }, ""],
    ["an invalid CIDR", "ip ipaddress", 'ip.in_cidr("nonsense")', { ip: "10.0.0.1" }, "invalid CIDR string: `nonsense`"],
    ["a missing map key", "m map<int>", 'm["absent"] > 0', { m: {} }, "absent"],
    ["an index out of range", "l list<int>", "l[3] > 0", { l: [1] }, ""],
    ["uint arithmetic with an int (no overload, as in cel-go)", "u uint", "u + 1 > 0", { u: 1 }, "overload"],
  ])("throws CaveatEvaluationError on %s", (_, parameters, expression, context, message) => {
    const run = (): unknown => answer(parameters, expression, context, undefined);
    expect(run).toThrow(CaveatEvaluationError);
    expect(run).toThrow(expect.objectContaining({ code: "invalid_argument", caveatName: "c", message: expect.stringContaining(message) }));
  });
});

describe("CelCaveatEvaluator", () => {
  const schema = schemaWith("i int", "i > 2");
  const evaluator = new CelCaveatEvaluator(schema);

  it.each([
    ["a relationship without a caveat", "doc:d#viewer@user:ann", undefined, {}, "allowed"],
    ["a caveat that holds", "doc:d#viewer@user:ann", { name: "c", context: { i: 3 } }, {}, "allowed"],
    ["a caveat that fails", "doc:d#viewer@user:ann", { name: "c", context: {} }, { i: 1 }, "denied"],
    ["a caveat missing its parameter", "doc:d#viewer@user:ann", { name: "c", context: {} }, undefined, "conditional"],
  ])("answers %s", (_, text, caveat, request, permissionship) => {
    const relationship = { ...parseRelationship(text), caveat };
    expect(evaluator.evaluate(relationship, request).permissionship).toBe(permissionship);
  });
});
