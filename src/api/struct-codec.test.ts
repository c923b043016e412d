import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../tuple/index.ts";
import { fromWireStruct, fromWireTimestamp, toWireStruct, toWireTimestamp } from "./struct-codec.ts";
import { loadMandatePackage } from "./mandate-proto.ts";
import type { WireStruct } from "./wire-types.ts";

interface SerializingMethod {
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): { context?: WireStruct | null };
}

describe("struct codec", () => {
  it("round-trips JSON through google.protobuf.Struct on the wire", () => {
    const context = { ip: "10.0.0.1", n: 3.5, ok: true, none: null, tags: ["a", 1], nested: { deep: { x: "y" } } };
    // Serialize through the real method so that the decoded Struct is exactly what a server receives.
    const service = loadMandatePackage()["mandate.v1.PermissionsService"] as unknown as Record<string, SerializingMethod>;
    const check = service["CheckPermission"];
    const decoded = check?.requestDeserialize(check.requestSerialize({ context: toWireStruct(context) }));
    expect(fromWireStruct(decoded?.context, "context")).toEqual(context);
  });

  it("reads an absent struct as the empty object", () => {
    expect(fromWireStruct(null, "context")).toEqual({});
  });

  it("rejects a Value with no kind, naming the key", () => {
    expect(() => fromWireStruct({ fields: { ip: {} } }, "context")).toThrow(/^context\.ip: /);
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => toWireStruct({ f: () => 1 })).toThrow(InvalidArgumentError);
  });

  it.each(["2030-01-01T00:00:00.000Z", "1969-12-31T23:59:59.250Z", "2026-11-28T14:07:09.123Z"])("round-trips the timestamp %s", (iso) => {
    expect(fromWireTimestamp(toWireTimestamp(new Date(iso)), "t").toISOString()).toBe(iso);
  });

  it("rejects out-of-range nanos naming the field", () => {
    expect(() => fromWireTimestamp({ seconds: 0, nanos: 2_000_000_000 }, "updates[0].relationship.optional_expires_at")).toThrow(
      /^updates\[0\]\.relationship\.optional_expires_at: /,
    );
  });
});

describe("struct codec with the key __proto__", () => {
  it("keeps `__proto__` as an ordinary key through the wire and back", () => {
    const context = JSON.parse('{"__proto__": 1, "nested": {"__proto__": {"x": "y"}}}') as Record<string, unknown>;
    const service = loadMandatePackage()["mandate.v1.PermissionsService"] as unknown as Record<string, SerializingMethod>;
    const check = service["CheckPermission"];
    const decoded = check?.requestDeserialize(check.requestSerialize({ context: toWireStruct(context) }));
    const back = fromWireStruct(decoded?.context, "context");
    expect(Object.keys(back)).toEqual(["__proto__", "nested"]);
    expect(JSON.stringify(back)).toBe('{"__proto__":1,"nested":{"__proto__":{"x":"y"}}}');
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });
});
