import { celUint } from "@bufbuild/cel";
import type { CelInput } from "@bufbuild/cel";
import { BugError, assertNever } from "../tuple/index.ts";
import { caveatNumber, decodeBase64, formatIpAddress, parseDuration, parseIpAddress, parseTimestamp } from "../schema/index.ts";
import type { CaveatParameterType } from "../schema/index.ts";

/**
 * toCelValue converts one JSON context value to the CEL value of its declared parameter type, as
 * SpiceDB's parameter conversion does: `int` → bigint, `uint` → CelUint, `double` → number
 * (numeric strings accepted for all three), `bytes` (base64) → Uint8Array, `duration` and
 * `timestamp` → the google.protobuf messages, `list` / `map` element by element, `any` → the JSON
 * value as CEL sees JSON (numbers are doubles), and `ipaddress` → its canonical text (see
 * caveat-program.ts: the type checker keeps it apart from strings, so only `in_cidr` and equality
 * ever see it). The value must have passed validateCaveatValue: anything else is a BugError.
 */
export function toCelValue(type: CaveatParameterType, value: unknown): CelInput {
  const invalid = (): never => {
    throw new BugError(`caveat value of type ${type.kind} was not validated: ${JSON.stringify(value)}`);
  };
  switch (type.kind) {
    case "any":
      return jsonToCel(value);
    case "bool":
      return typeof value === "boolean" ? value : invalid();
    case "string":
      return typeof value === "string" ? value : invalid();
    case "int":
      return BigInt(caveatNumber(value) ?? invalid());
    case "uint":
      return celUint(BigInt(caveatNumber(value) ?? invalid()));
    case "double":
      return caveatNumber(value) ?? invalid();
    case "bytes":
      return (typeof value === "string" ? decodeBase64(value) : undefined) ?? invalid();
    case "duration": {
      const nanos = (typeof value === "string" ? parseDuration(value) : undefined) ?? invalid();
      // protobuf-es messages are plain objects tagged with $typeName; seconds and nanos share the sign.
      return { $typeName: "google.protobuf.Duration", seconds: nanos / 1_000_000_000n, nanos: Number(nanos % 1_000_000_000n) } as unknown as CelInput;
    }
    case "timestamp": {
      const timestamp = (typeof value === "string" ? parseTimestamp(value) : undefined) ?? invalid();
      return { $typeName: "google.protobuf.Timestamp", seconds: timestamp.seconds, nanos: timestamp.nanos } as unknown as CelInput;
    }
    case "ipaddress":
      return formatIpAddress((typeof value === "string" ? parseIpAddress(value) : undefined) ?? invalid());
    case "list":
      return Array.isArray(value) ? value.map((element: unknown) => toCelValue(type.element, element)) : invalid();
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) return invalid();
      return new Map(Object.entries(value).map(([key, element]) => [key, toCelValue(type.value, element)]));
    default:
      return assertNever(type, "caveat parameter type");
  }
}

// JSON as google.protobuf.Value reaches CEL: numbers are doubles, objects are string-keyed maps.
function jsonToCel(value: unknown): CelInput {
  if (value === null || typeof value === "boolean" || typeof value === "string" || typeof value === "number") return value;
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (typeof value === "object") return new Map(Object.entries(value).map(([key, element]) => [key, jsonToCel(element)]));
  throw new BugError(`caveat context holds a value JSON cannot: ${typeof value}`);
}
