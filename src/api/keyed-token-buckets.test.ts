import { describe, expect, it } from "vitest";
import { KeyedTokenBuckets } from "./keyed-token-buckets.ts";

// A clock the test moves by hand (milliseconds).
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function takeMany(buckets: KeyedTokenBuckets, key: string, times: number): number {
  let taken = 0;
  for (let i = 0; i < times; i++) if (buckets.tryTake(key)) taken++;
  return taken;
}

describe("KeyedTokenBuckets", () => {
  it.each([
    [10, 10],
    [10, 25],
    [1, 3],
  ])("at %d per second with a burst of %d, lets a new key take exactly the burst at once", (rate, burst) => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets(rate, burst, clock.now);
    expect(takeMany(buckets, "ci", burst + 50)).toBe(burst);
  });

  it.each([
    [100, 1],
    [500, 5],
    [1_000, 10],
    [60_000, 10],
  ])("after %d ms at 10 per second (burst 10), grants %d more", (elapsedMs, expected) => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets(10, 10, clock.now);
    takeMany(buckets, "ci", 10);
    clock.advance(elapsedMs);
    expect(takeMany(buckets, "ci", 100)).toBe(expected);
  });

  it("keeps each key's tokens apart: one key's flood leaves another key its full burst", () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets(5, 5, clock.now);
    expect(takeMany(buckets, "flooder", 1_000)).toBe(5);
    expect(takeMany(buckets, "neighbour", 5)).toBe(5);
  });

  it("does not charge a refused take", () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets(10, 1, clock.now);
    buckets.tryTake("ci");
    takeMany(buckets, "ci", 100);
    clock.advance(100);
    expect(buckets.tryTake("ci")).toBe(true);
  });

  it("does not drain a bucket when the clock steps back", () => {
    const clock = manualClock();
    clock.advance(10_000);
    const buckets = new KeyedTokenBuckets(10, 3, clock.now);
    buckets.tryTake("ci");
    clock.advance(-5_000);
    expect(takeMany(buckets, "ci", 10)).toBe(2);
  });

  it("forgets refilled keys once it tracks many, without changing any answer", () => {
    const clock = manualClock();
    const buckets = new KeyedTokenBuckets(1, 2, clock.now);
    for (let key = 0; key < 2_000; key++) buckets.tryTake(`key-${key}`);
    expect(takeMany(buckets, "key-1999", 5)).toBe(1);
    clock.advance(2_000);
    for (let key = 2_000; key < 4_000; key++) buckets.tryTake(`key-${key}`);
    expect(takeMany(buckets, "key-0", 5)).toBe(2);
  });

  it.each([
    [0, 1],
    [10, 0],
    [Number.NaN, 1],
  ])("refuses a rate of %d with a burst of %d", (rate, burst) => {
    expect(() => new KeyedTokenBuckets(rate, burst)).toThrow(RangeError);
  });
});
