import { describe, expect, it } from "vitest";
import { ARRAY_THRESHOLD, BITMAP_THRESHOLD, MutableIdSet } from "./mutable-id-set.ts";
import type { IdSet } from "./graph-types.ts";

function range(from: number, to: number, step = 1): number[] {
  return Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);
}

describe("MutableIdSet", () => {
  it("keeps a small set sorted, without duplicates, as an array", () => {
    const set = new MutableIdSet([5, 1, 3]);
    expect(set.add(3)).toBe(false);
    expect(set.add(2)).toBe(true);
    expect([...set.values()]).toEqual([1, 2, 3, 5]);
    expect(set.size).toBe(4);
    expect(set.has(2)).toBe(true);
    expect(set.has(4)).toBe(false);
    expect(set.isBitmap).toBe(false);
    expect(set.delete(4)).toBe(false);
    expect(set.delete(1)).toBe(true);
    expect([...set.values()]).toEqual([2, 3, 5]);
  });

  it("turns into a bitmap past the threshold and back into an array well under it", () => {
    const set = new MutableIdSet(range(0, BITMAP_THRESHOLD));
    expect(set.isBitmap).toBe(false);
    set.add(1_000_000);
    expect(set.isBitmap).toBe(true);
    expect(set.size).toBe(BITMAP_THRESHOLD + 1);
    expect(set.has(1_000_000)).toBe(true);
    expect(set.add(1_000_000)).toBe(false);
    // Between the two thresholds it stays a bitmap, so that one size does not flip on every change.
    for (const n of range(0, BITMAP_THRESHOLD - ARRAY_THRESHOLD + 1)) set.delete(n);
    expect(set.isBitmap).toBe(true);
    set.delete(1_000_000);
    expect(set.isBitmap).toBe(false);
    expect([...set.values()]).toEqual(range(BITMAP_THRESHOLD - ARRAY_THRESHOLD + 1, BITMAP_THRESHOLD));
    expect(set.size).toBe(ARRAY_THRESHOLD - 1);
    expect(set.delete(1_000_000)).toBe(false);
  });

  const small = (values: number[]): MutableIdSet => new MutableIdSet(values);
  const big = (values: number[]): MutableIdSet => new MutableIdSet([...values, ...range(10_000, 10_000 + BITMAP_THRESHOLD)]);

  it.each([
    ["array", "array", small, small],
    ["array", "bitmap", small, big],
    ["bitmap", "array", big, small],
    ["bitmap", "bitmap", big, big],
  ])("intersects a %s with a %s", (_a, _b, makeA, makeB) => {
    expect(makeA([1, 3, 5]).intersects(makeB([2, 4, 5]))).toBe(true);
    expect(makeA([1, 3, 5]).intersects(makeB([0, 2, 4, 6]))).toBe(makeA === big && makeB === big);
    expect(makeA([7]).intersects(makeB([7]))).toBe(true);
  });

  it("does not mistake the unused tails of two arrays for a common number", () => {
    const a = new MutableIdSet([1, 3, 5]);
    const b = new MutableIdSet([2, 4, 6]);
    expect(a.intersects(b)).toBe(false);
    expect([...a.values()]).toEqual([1, 3, 5]);
    expect(a.size).toBe(3);
  });

  it("intersects nothing when either side is empty, and works with a foreign IdSet", () => {
    expect(new MutableIdSet().intersects(new MutableIdSet([1]))).toBe(false);
    expect(new MutableIdSet([1]).intersects(new MutableIdSet())).toBe(false);
    const foreign: IdSet = { size: 1, has: (n) => n === 9, intersects: () => true, values: () => [9].values() };
    expect(new MutableIdSet([9]).intersects(foreign)).toBe(true);
    expect(big([]).intersects(foreign)).toBe(false);
  });

  it.each([
    ["array into array", small([1, 2]), small([2, 3])],
    ["bitmap into array", small([1, 2]), big([2, 3])],
    ["array into bitmap", big([1, 2]), small([2, 3])],
    ["bitmap into bitmap", big([1, 2]), big([2, 3])],
  ])("adds all of another set: %s", (_name, into, from) => {
    const expected = new Set([...into.values(), ...from.values()]);
    into.addAll(from);
    expect([...into.values()]).toEqual([...expected].sort((a, b) => a - b));
    expect(into.size).toBe(expected.size);
  });

  it("grows an array into a bitmap when adding all of a large array", () => {
    const set = new MutableIdSet(range(0, 40));
    set.addAll(new MutableIdSet(range(40, 80)));
    expect(set.isBitmap).toBe(true);
    expect(set.size).toBe(80);
  });

  it("agrees with a JavaScript Set over random changes (seeded)", () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const set = new MutableIdSet();
    const model = new Set<number>();
    let largest = 0;
    for (let step = 0; step < 5000; step++) {
      const n = Math.floor(random() * 200);
      // Growing first, shrinking after: every representation and both conversions are visited.
      if (random() < (step < 2500 ? 0.6 : 0.1)) {
        expect(set.add(n)).toBe(!model.has(n));
        model.add(n);
      } else {
        expect(set.delete(n)).toBe(model.has(n));
        model.delete(n);
      }
      expect(set.size, `seed 12345, step ${step}`).toBe(model.size);
      expect(set.has(n), `seed 12345, step ${step}`).toBe(model.has(n));
      largest = Math.max(largest, set.size);
    }
    expect([...set.values()]).toEqual([...model].sort((a, b) => a - b));
    expect(largest).toBeGreaterThan(BITMAP_THRESHOLD);
    expect(set.size).toBeLessThan(ARRAY_THRESHOLD);
  });
});
