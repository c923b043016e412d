import { describe, expect, it } from "vitest";
import { InvalidArgumentError, parseRelationship } from "../tuple/index.ts";
import { compileSchema, formatIpAddress, ipInCidr, parseDuration, parseIpAddress, parseTimestamp, validateCaveatContext, validateRelationship } from "./index.ts";

const schema = compileSchema(`
caveat typed(i int, u uint, d double, b bool, s string, by bytes, du duration, t timestamp, ip ipaddress, l list<int>, m map<string>, a any, ll list<list<string>>) {
  i > 0 && u > 0 && d > 0.0 && b && s != "" && size(by) > 0 && du > duration("0s") &&
  t > timestamp("2000-01-01T00:00:00Z") && ip.in_cidr("10.0.0.0/8") && size(l) > 0 && size(m) > 0 && a != null && size(ll) > 0
}
caveat other(x int) { x > 1 }
definition user {}
definition document {
  relation viewer: user with typed | user with other
}`);
const typed = schema.caveats.get("typed");
if (typed === undefined) throw new Error("fixture has no caveat `typed`");

describe("validateCaveatContext", () => {
  it.each([
    ["an int", { i: 42 }],
    ["a negative int", { i: -7 }],
    ["an int as a numeric string (as SpiceDB accepts)", { i: "42" }],
    ["a uint", { u: 0 }],
    ["a double", { d: 1.5 }],
    ["a whole double", { d: 2 }],
    ["a bool", { b: false }],
    ["a string", { s: "" }],
    ["base64 bytes", { by: "aGk=" }],
    ["empty bytes", { by: "" }],
    ["a duration in hours and minutes", { du: "1h30m" }],
    ["a fractional negative duration", { du: "-1.5s" }],
    ["a zero duration", { du: "0" }],
    ["a UTC timestamp", { t: "2026-11-28T10:00:00Z" }],
    ["a timestamp with fraction and offset", { t: "2026-11-28T10:00:00.123+02:00" }],
    ["an IPv4 address", { ip: "10.1.2.3" }],
    ["an IPv6 address", { ip: "2001:db8::1" }],
    ["a list of ints", { l: [1, 2, 3] }],
    ["a map of strings", { m: { a: "x", b: "y" } }],
    ["anything as any", { a: { nested: [1, null, "x"] } }],
    ["null as any", { a: null }],
    ["a nested list", { ll: [["a"], []] }],
    ["an empty context", {}],
  ])("accepts %s", (_, context) => {
    expect(() => validateCaveatContext(typed, context, "context")).not.toThrow();
  });

  it.each([
    ["an undeclared parameter", { nope: 1 }, "context.nope", "has no parameter `nope`"],
    ["a fractional int", { i: 1.5 }, "context.i", "integral"],
    ["an int beyond 64 bits", { i: 2 ** 64 }, "context.i", "64 bits"],
    ["a string that is no number for an int", { i: "abc" }, "context.i", "expected an int"],
    ["a boolean for an int", { i: true }, "context.i", "got boolean true"],
    ["a negative uint", { u: -1 }, "context.u", "not negative"],
    ["a number for a bool", { b: 1 }, "context.b", "expected a bool"],
    ["a number for a string", { s: 3 }, "context.s", "expected a string"],
    ["null for a string", { s: null }, "context.s", "got null"],
    ["bytes that are not base64", { by: "not base64!" }, "context.by", "base64"],
    ["bytes without padding", { by: "aGk" }, "context.by", "base64"],
    ["a duration in days", { du: "1d" }, "context.du", "duration"],
    ["a duration without unit", { du: "10" }, "context.du", "duration"],
    ["a date without time", { t: "2026-11-28" }, "context.t", "RFC 3339"],
    ["February 30th", { t: "2026-02-30T00:00:00Z" }, "context.t", "RFC 3339"],
    ["a timestamp without zone", { t: "2026-11-28T10:00:00" }, "context.t", "RFC 3339"],
    ["an IPv4 address with leading zeros", { ip: "010.1.2.3" }, "context.ip", "IPv4 or IPv6"],
    ["a CIDR for an address", { ip: "10.0.0.0/8" }, "context.ip", "IPv4 or IPv6"],
    ["a string for a list", { l: "1,2" }, "context.l", "expected a list"],
    ["a wrong list element", { l: [1, "x"] }, "context.l[1]", "expected an int"],
    ["a list for a map", { m: ["x"] }, "context.m", "expected a map"],
    ["a wrong map value", { m: { a: 1 } }, "context.m.a", "expected a string"],
    ["a wrong nested list element", { ll: [["a"], [2]] }, "context.ll[1][0]", "expected a string"],
  ])("rejects %s naming %s", (_, context, field, message) => {
    expect(() => validateCaveatContext(typed, context, "context")).toThrow(InvalidArgumentError);
    expect(() => validateCaveatContext(typed, context, "context")).toThrow(expect.objectContaining({ field, message: expect.stringContaining(message) }));
    expect(() => validateCaveatContext(typed, context, "context")).toThrow(new RegExp(`^${field.replace(/[.[\]]/g, "\\$&")}: `));
  });
});

describe("validateRelationship with a caveat context", () => {
  const base = parseRelationship("document:readme#viewer@user:ann");
  it.each([
    ["a wrong type", { name: "typed", context: { i: "x" } }, "relationship.caveat.context.i"],
    ["an undeclared key", { name: "typed", context: { other: 1 } }, "relationship.caveat.context.other"],
    ["a parameter of another caveat", { name: "other", context: { i: 1 } }, "relationship.caveat.context.i"],
  ])("rejects a stored context with %s, as SpiceDB does on write", (_, caveat, field) => {
    expect(() => validateRelationship(schema, { ...base, caveat })).toThrow(expect.objectContaining({ code: "invalid_argument", field }));
  });

  it("accepts a partial stored context", () => {
    expect(() => validateRelationship(schema, { ...base, caveat: { name: "typed", context: { i: 3 } } })).not.toThrow();
  });
});

describe("duration, timestamp and address parsing", () => {
  it.each([
    ["1h30m", 5_400_000_000_000n],
    ["1.5s", 1_500_000_000n],
    [".5ms", 500_000n],
    ["-300ms", -300_000_000n],
    ["1us", 1_000n],
    ["1µs", 1_000n],
    ["2562047h47m16.854775807s", 2n ** 63n - 1n],
    ["2562047h47m16.854775808s", undefined],
    ["1d", undefined],
    ["", undefined],
    [".s", undefined],
  ])("reads the duration %j as %s ns", (text, nanos) => {
    expect(parseDuration(text)).toBe(nanos);
  });

  it.each([
    ["1970-01-01T00:00:00Z", 0n, 0],
    ["1970-01-01T01:00:00+01:00", 0n, 0],
    ["0001-01-01T00:00:00Z", -62135596800n, 0],
    ["2024-02-29T12:00:00.5Z", 1709208000n, 500_000_000],
  ])("reads the timestamp %s", (text, seconds, nanos) => {
    expect(parseTimestamp(text)).toEqual({ seconds, nanos });
  });

  it.each([
    ["10.1.2.3", "10.0.0.0/8", true],
    ["10.1.2.3", "10.1.2.3/32", true],
    ["10.1.2.3", "11.0.0.0/8", false],
    ["10.1.2.3", "0.0.0.0/0", true],
    ["2001:db8::1", "2001:db8::/32", true],
    ["2001:db9::1", "2001:db8::/32", false],
    ["::ffff:10.1.2.3", "10.0.0.0/8", false],
    ["10.1.2.3", "::/0", false],
    ["fe80::1%eth0", "fe80::/10", false],
    ["10.1.2.3", "10.0.0.0/33", undefined],
    ["10.1.2.3", "10.0.0.0", undefined],
    ["10.1.2.3", "10.0.0.0/08", undefined],
  ])("%s in_cidr %s is %s", (address, cidr, inside) => {
    const ip = parseIpAddress(address);
    if (ip === undefined) throw new Error(`fixture address ${address} does not parse`);
    expect(ipInCidr(ip, cidr)).toBe(inside);
  });

  it.each([
    ["2001:DB8:0::1", "2001:db8:0:0:0:0:0:1"],
    ["::", "0:0:0:0:0:0:0:0"],
    ["::ffff:1.2.3.4", "0:0:0:0:0:ffff:102:304"],
    ["1.2.3.4", "1.2.3.4"],
  ])("writes %s canonically as %s", (address, canonical) => {
    const ip = parseIpAddress(address);
    expect(ip === undefined ? undefined : formatIpAddress(ip)).toBe(canonical);
  });

  it.each(["1.2.3", "1.2.3.256", "1:2:3:4:5:6:7:8:9", "1::2::3", "fe80::1%", "gggg::1"])("rejects the address %s", (address) => {
    expect(parseIpAddress(address)).toBeUndefined();
  });
});
