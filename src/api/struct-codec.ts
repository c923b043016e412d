import { InvalidArgumentError, assertNever } from "../tuple/index.ts";
import type { WireStruct, WireTimestamp, WireValue } from "./wire-types.ts";

/** JsonValue is what a google.protobuf.Value can hold. */
export type JsonValue = null | number | string | boolean | JsonValue[] | { [key: string]: JsonValue };

/** toWireStruct converts a plain JSON object to google.protobuf.Struct; non-JSON values throw. */
export function toWireStruct(object: Readonly<Record<string, unknown>>): WireStruct {
  const fields: Record<string, WireValue> = {};
  for (const [key, value] of Object.entries(object)) defineKey(fields, key, toWireValue(value, key));
  return { fields };
}

function toWireValue(value: unknown, path: string): WireValue {
  if (value === null) return { nullValue: "NULL_VALUE" };
  switch (typeof value) {
    case "number":
      return { numberValue: value };
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "object":
      if (Array.isArray(value)) return { listValue: { values: value.map((item, i) => toWireValue(item, `${path}[${i}]`)) } };
      return { structValue: toWireStruct(value as Record<string, unknown>) };
    default:
      throw new InvalidArgumentError(`${path}: a ${typeof value} cannot be sent in a google.protobuf.Struct`, { field: path });
  }
}

/**
 * fromWireStruct converts google.protobuf.Struct to a plain JSON object; a null or absent struct
 * is the empty object. Throws InvalidArgumentError naming `field` for a Value with no kind set.
 */
export function fromWireStruct(struct: WireStruct | null | undefined, field: string): Record<string, JsonValue> {
  const result: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) defineKey(result, key, fromWireValue(value, `${field}.${key}`));
  return result;
}

// Plain assignment of the key `__proto__` sets the object's prototype instead of adding a key, so
// a caveat context such as {"__proto__": 1} would silently lose it; defining the property keeps it
// as an ordinary own, enumerable key (JSON.stringify and Object.entries see it).
function defineKey<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function fromWireValue(value: WireValue, field: string): JsonValue {
  switch (value.kind) {
    case "nullValue":
      return null;
    case "numberValue":
      return value.numberValue ?? 0;
    case "stringValue":
      return value.stringValue ?? "";
    case "boolValue":
      return value.boolValue ?? false;
    case "structValue":
      return fromWireStruct(value.structValue, field);
    case "listValue":
      return (value.listValue?.values ?? []).map((item, i) => fromWireValue(item, `${field}[${i}]`));
    case undefined:
      throw new InvalidArgumentError(`${field}: google.protobuf.Value has no kind set`, { field });
    default:
      return assertNever(value.kind, "google.protobuf.Value kind");
  }
}

/** toWireTimestamp converts a Date to google.protobuf.Timestamp (millisecond precision). */
export function toWireTimestamp(date: Date): WireTimestamp {
  const millis = date.getTime();
  const seconds = Math.floor(millis / 1000);
  return { seconds, nanos: (millis - seconds * 1000) * 1_000_000 };
}

/** fromWireTimestamp converts google.protobuf.Timestamp to a Date; throws naming `field` if out of range. */
export function fromWireTimestamp(timestamp: WireTimestamp, field: string): Date {
  const seconds = Number(timestamp.seconds ?? 0);
  const nanos = timestamp.nanos ?? 0;
  const date = new Date(seconds * 1000 + Math.floor(nanos / 1_000_000));
  if (!Number.isFinite(seconds) || nanos < 0 || nanos > 999_999_999 || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`${field}: timestamp is out of range`, { field });
  }
  return date;
}
