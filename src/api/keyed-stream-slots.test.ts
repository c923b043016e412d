import { describe, expect, it } from "vitest";
import { KeyedStreamSlots } from "./keyed-stream-slots.ts";

describe("KeyedStreamSlots", () => {
  it("grants a key up to its maximum and refuses the next", () => {
    const slots = new KeyedStreamSlots(2);
    expect(slots.tryAcquire("ci")).toBeTypeOf("function");
    expect(slots.tryAcquire("ci")).toBeTypeOf("function");
    expect(slots.tryAcquire("ci")).toBeUndefined();
    expect(slots.openStreams("ci")).toBe(2);
  });

  it("grants a slot again once one is released", () => {
    const slots = new KeyedStreamSlots(1);
    const release = slots.tryAcquire("ci");
    release?.();
    expect(slots.tryAcquire("ci")).toBeTypeOf("function");
  });

  it("frees one slot however often its release is called", () => {
    const slots = new KeyedStreamSlots(3);
    const release = slots.tryAcquire("ci");
    slots.tryAcquire("ci");
    release?.();
    release?.();
    expect(slots.openStreams("ci")).toBe(1);
  });

  it("counts each key apart", () => {
    const slots = new KeyedStreamSlots(1);
    slots.tryAcquire("flooder");
    expect(slots.tryAcquire("flooder")).toBeUndefined();
    expect(slots.tryAcquire("neighbour")).toBeTypeOf("function");
  });

  it.each([0, -1, Number.NaN])("refuses a maximum of %d", (max) => {
    expect(() => new KeyedStreamSlots(max)).toThrow(RangeError);
  });
});
