import { InvalidArgumentError, assertNever } from "../tuple/index.ts";
import { parseIpAddress } from "./ip-address.ts";
import type { CaveatDefinition, CaveatParameterType } from "./model.ts";

/**
 * validateCaveatContext checks a caveat context (JSON values as google.protobuf.Struct delivers
 * them) against the caveat's declared parameters, as SpiceDB's ConvertContextToParameters does
 * with ErrorForUnknownParameters on a write (measured against pkg/caveats/types): it throws
 * InvalidArgumentError naming `${field}.${parameter}` for a key the caveat does not declare or a
 * value that does not convert to the declared type:
 * - `int`: a number or a numeric string with an integral value within int64; `uint` the same and
 *   not negative; `double` any number or numeric string;
 * - `bool`, `string`: a JSON boolean, a string;
 * - `bytes`: standard base64 (with padding); `duration`: Go's duration syntax (`1h30m`, `1.5s`,
 *   `-300ms`); `timestamp`: RFC 3339 (`2026-11-28T10:00:00Z`, fractions and offsets allowed);
 * - `ipaddress`: an IPv4 or IPv6 address (see parseIpAddress);
 * - `list<T>`: an array of T; `map<T>`: an object whose values are T; `any`: anything.
 * `null` fits only `any`. Nested problems name their path: `context.tags[2]`, `context.limits.cpu`.
 */
export function validateCaveatContext(caveat: CaveatDefinition, context: Readonly<Record<string, unknown>>, field: string): void {
  for (const [name, value] of Object.entries(context)) {
    const type = caveat.parameters.get(name);
    const parameterField = `${field}.${name}`;
    if (type === undefined) {
      const declared = [...caveat.parameters.keys()].map((parameter) => `\`${parameter}\``).join(", ") || "none";
      throw new InvalidArgumentError(
        `${parameterField}: caveat \`${caveat.name}\` has no parameter \`${name}\` (its parameters: ${declared})`,
        { field: parameterField },
      );
    }
    validateCaveatValue(type, value, parameterField);
  }
}

/**
 * validateCaveatValue checks one value against a parameter type by the rules of
 * validateCaveatContext, throwing InvalidArgumentError naming `field` (or a path below it).
 */
export function validateCaveatValue(type: CaveatParameterType, value: unknown, field: string): void {
  const problem = (expected: string): never => {
    throw new InvalidArgumentError(`${field}: expected ${expected}, got ${describe(value)}`, { field });
  };
  switch (type.kind) {
    case "any":
      return;
    case "bool":
      if (typeof value !== "boolean") problem("a bool");
      return;
    case "string":
      if (typeof value !== "string") problem("a string");
      return;
    case "int":
    case "uint":
    case "double": {
      const number = caveatNumber(value);
      if (number === undefined) return problem(`${article(type.kind)} (a number or a numeric string)`);
      if (type.kind === "double") return;
      if (!Number.isInteger(number)) problem(`${article(type.kind)} (an integral number)`);
      if (type.kind === "uint" && number < 0) problem("a uint (not negative)");
      if (BigInt(number) > INT64_MAX || BigInt(number) < INT64_MIN) problem(`${article(type.kind)} within 64 bits`);
      return;
    }
    case "bytes":
      if (typeof value !== "string" || decodeBase64(value) === undefined) problem("bytes as a standard base64 string");
      return;
    case "duration":
      if (typeof value !== "string" || parseDuration(value) === undefined) problem("a duration string such as `1h30m` or `1.5s`");
      return;
    case "timestamp":
      if (typeof value !== "string" || parseTimestamp(value) === undefined) problem("an RFC 3339 timestamp such as `2026-11-28T10:00:00Z`");
      return;
    case "ipaddress":
      if (typeof value !== "string" || parseIpAddress(value) === undefined) problem("an IPv4 or IPv6 address string");
      return;
    case "list":
      if (!Array.isArray(value)) return problem("a list");
      value.forEach((element: unknown, index) => validateCaveatValue(type.element, element, `${field}[${index}]`));
      return;
    case "map":
      if (!isPlainObject(value)) return problem("a map (a JSON object)");
      for (const [key, element] of Object.entries(value)) validateCaveatValue(type.value, element, `${field}.${key}`);
      return;
    default:
      return assertNever(type, "caveat parameter type");
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * caveatNumber reads a JSON number, or a numeric string (SpiceDB accepts `"42"` for an `int`, as
 * Go's big.ParseFloat reads it), as a finite number; undefined for anything else.
 */
export function caveatNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** decodeBase64 decodes standard base64 with padding (Go's base64.StdEncoding), or returns undefined. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  // Go rejects non-zero padding bits; re-encoding must give the text back.
  return bytes.toString("base64") === text ? new Uint8Array(bytes) : undefined;
}

const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["µs", 1_000n],
  ["μs", 1_000n],
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

/**
 * parseDuration reads Go's duration syntax (time.ParseDuration, which SpiceDB uses): `0`, or an
 * optional sign then one or more `<decimal><unit>` with units ns, us (µs), ms, s, m, h. It returns
 * nanoseconds, or undefined when the text is malformed or beyond int64 nanoseconds (±292 years).
 */
export function parseDuration(text: string): bigint | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") return undefined;
  let total = 0n;
  const component = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (rest !== "") {
    const match = component.exec(rest);
    if (match === null) return undefined;
    const [whole, integral = "", fraction, unitText = ""] = match;
    if (integral === "" && (fraction === undefined || fraction === "")) return undefined;
    const unit = DURATION_UNITS.get(unitText);
    if (unit === undefined) return undefined;
    total += BigInt(integral || "0") * unit;
    if (fraction !== undefined && fraction !== "") {
      // Go keeps the fraction's value truncated to whole nanoseconds.
      total += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    }
    if (total > INT64_MAX + (negative ? 1n : 0n)) return undefined;
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** Timestamp is an instant as whole seconds since the Unix epoch and nanoseconds within the second. */
export interface Timestamp {
  readonly seconds: bigint;
  readonly nanos: number;
}

/**
 * parseTimestamp reads an RFC 3339 timestamp as Go's time.Parse(time.RFC3339) does: a four-digit
 * year, `T`, seconds with an optional fraction (up to 9 digits), and `Z` or a `±hh:mm` offset; the
 * date and time fields must be in range (no leap second). Undefined when malformed.
 */
export function parseTimestamp(text: string): Timestamp | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = "", zone = "Z"] = match.map((part) => part ?? "");
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const offsetHours = Number(zone.slice(1, 3));
    const offsetMins = Number(zone.slice(4, 6));
    if (offsetHours > 24 || offsetMins > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // setUTCFullYear, unlike Date.UTC, does not read years 0..99 as 1900..1999.
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, 0);
  const seconds = BigInt(utc.getTime() / 1000) - BigInt(offsetMinutes * 60);
  return { seconds, nanos: Number(fraction.padEnd(9, "0")) };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function article(kind: string): string {
  return kind === "int" ? "an int" : `a ${kind}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
