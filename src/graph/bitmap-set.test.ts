import { describe, expect, it } from "vitest";
import { BitmapSet } from "./bitmap-set.ts";
import { MutableIdSet } from "./mutable-id-set.ts";

const setOf = (...numbers: number[]): BitmapSet => BitmapSet.of(new MutableIdSet(numbers));
const numbers = (set: BitmapSet): number[] => [...set.toUint32Array()];

describe("BitmapSet", () => {
  it("takes the numbers of any IdSet, whatever its representation", () => {
    const inline = new MutableIdSet([7]);
    const array = new MutableIdSet([3, 1, 2]);
    const bitmap = new MutableIdSet(Array.from({ length: 200 }, (_, i) => i * 2));
    expect(bitmap.isBitmap).toBe(true);
    const set = BitmapSet.empty();
    set.addAll(inline);
    set.addAll(array);
    set.addAll(bitmap);
    expect(set.size).toBe(203);
    expect([1, 3, 7, 398].every((n) => set.has(n))).toBe(true);
    expect(set.has(5)).toBe(false);
  });

  it("builds unions, intersections and differences without changing its operands", () => {
    const a = setOf(1, 2, 3, 10);
    const b = setOf(2, 3, 4);
    expect(numbers(a.or(b))).toEqual([1, 2, 3, 4, 10]);
    expect(numbers(a.and(b))).toEqual([2, 3]);
    expect(numbers(a.andNot(b))).toEqual([1, 10]);
    expect(numbers(a)).toEqual([1, 2, 3, 10]);
    expect(numbers(b)).toEqual([2, 3, 4]);
  });

  it("answers intersects for bitmaps and other sets alike", () => {
    const a = setOf(5, 9);
    expect(a.intersects(setOf(9))).toBe(true);
    expect(a.intersects(new MutableIdSet([1, 9]))).toBe(true);
    expect(a.intersects(new MutableIdSet([1, 2]))).toBe(false);
  });

  it.each([
    ["dense", 10_000, 20_000],
    ["sparse", 10_000, 2 ** 30],
  ])("takes many %s numbers added one by one, duplicates and disorder included", (_name, count, range) => {
    const added: number[] = [];
    let seed = 7;
    for (let i = 0; i < count; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      added.push(seed % range);
    }
    const set = BitmapSet.empty();
    for (const n of added) set.add(n);
    set.addAll(new MutableIdSet(added.slice(0, 50)));
    const expected = [...new Set(added)].sort((a, b) => a - b);
    expect(numbers(set)).toEqual(expected);
    expect(set.size).toBe(expected.length);
  });

  it("iterates in ascending order", () => {
    expect([...setOf(30, 4, 17).values()]).toEqual([4, 17, 30]);
  });
});
