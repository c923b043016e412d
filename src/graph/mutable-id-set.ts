import roaring from "roaring";
import type { IdSet } from "./graph-types.ts";

// roaring is CommonJS: its class is reached through the default export.
const { RoaringBitmap32 } = roaring;
type Bitmap = InstanceType<typeof RoaringBitmap32>;

/**
 * BITMAP_THRESHOLD is the size past which a set becomes a roaring bitmap. A small set costs about
 * 8 bytes a number (a packed JS array of small integers); a native bitmap about 400 bytes of RSS
 * plus 2 a number, so below ~70 numbers the array is the smaller, and up to this size a sorted
 * insert shifts little.
 */
export const BITMAP_THRESHOLD = 64;

/**
 * ARRAY_THRESHOLD is the size under which a bitmap turns back into an array. Half of
 * BITMAP_THRESHOLD, so that a set hovering around one size does not convert on every change.
 */
export const ARRAY_THRESHOLD = BITMAP_THRESHOLD / 2;

// FREE fills the unused tail of a set's array. It is above every object number (ObjectInterner
// issues fewer), so the array stays sorted and a binary search finds both numbers and the end.
const FREE = 2 ** 31 - 1;

// The empty array representation; an empty set never writes to it (it takes one number inline).
const NONE: readonly number[] = Object.freeze([]);

/**
 * MutableIdSet is the graph's IdSet. Its representation follows its size, to keep millions of
 * small postings small: one number is held inline; up to BITMAP_THRESHOLD numbers sorted in an
 * array whose capacity doubles from 2, with the tail filled with FREE (V8's own growth adds half
 * plus 16 slots, which for small sets doubles their size; copying on every insert instead leaves
 * so much garbage that the heap stays far larger than what it holds); past BITMAP_THRESHOLD a
 * roaring bitmap (and an array again under ARRAY_THRESHOLD). The object keeps its identity across
 * those changes, so that whoever holds it needs no update. Mutation is for src/graph only:
 * readers receive it as an IdSet.
 */
export class MutableIdSet implements IdSet {
  #values: number | number[] | Bitmap = NONE as number[];

  constructor(values: Iterable<number> = []) {
    for (const n of values) this.add(n);
  }

  get size(): number {
    const values = this.#values;
    if (typeof values === "number") return 1;
    return isArray(values) ? used(values) : values.size;
  }

  /** isBitmap tells which representation the set uses now (for tests and memory accounting). */
  get isBitmap(): boolean {
    return typeof this.#values === "object" && !isArray(this.#values);
  }

  has(n: number): boolean {
    const values = this.#values;
    if (typeof values === "number") return values === n;
    if (!isArray(values)) return values.has(n);
    return values[lowerBound(values, n)] === n;
  }

  intersects(other: IdSet): boolean {
    if (this.size === 0 || other.size === 0) return false;
    if (!(other instanceof MutableIdSet)) return someIn(this.values(), other);
    const mine = this.#values;
    const theirs = other.#values;
    if (typeof mine === "number") return other.has(mine);
    if (typeof theirs === "number") return this.has(theirs);
    if (isArray(mine)) {
      if (isArray(theirs)) return sortedArraysIntersect(mine, theirs);
      return arrayHasSomeOf(mine, other);
    }
    if (isArray(theirs)) return arrayHasSomeOf(theirs, this);
    return mine.intersects(theirs);
  }

  values(): IterableIterator<number> {
    const values = this.#values;
    if (typeof values === "number") return [values].values();
    return isArray(values) ? arrayValues(values) : values[Symbol.iterator]();
  }

  /** add inserts `n`; returns false if it was already there. */
  add(n: number): boolean {
    const values = this.#values;
    if (typeof values === "number") {
      if (values === n) return false;
      this.#values = values < n ? [values, n] : [n, values];
      return true;
    }
    if (!isArray(values)) return values.tryAdd(n);
    if (values.length === 0) {
      this.#values = n;
      return true;
    }
    const at = lowerBound(values, n);
    if (values[at] === n) return false;
    const size = used(values);
    if (size >= BITMAP_THRESHOLD) {
      const bitmap = new RoaringBitmap32(values.slice(0, size));
      bitmap.add(n);
      this.#values = bitmap;
      return true;
    }
    if (size < values.length) {
      values.copyWithin(at + 1, at, size);
      values[at] = n;
      return true;
    }
    const grown = padded(values.length * 2);
    for (let i = 0; i < at; i++) grown[i] = values[i] as number;
    grown[at] = n;
    for (let i = at; i < size; i++) grown[i + 1] = values[i] as number;
    this.#values = grown;
    return true;
  }

  /** delete removes `n`; returns false if it was not there. */
  delete(n: number): boolean {
    const values = this.#values;
    if (typeof values === "number") {
      if (values !== n) return false;
      this.#values = NONE as number[];
      return true;
    }
    if (isArray(values)) {
      const at = lowerBound(values, n);
      if (values[at] !== n) return false;
      const size = used(values);
      if (size === 2) {
        this.#values = values[1 - at] as number;
        return true;
      }
      values.copyWithin(at, at + 1, size);
      values[size - 1] = FREE;
      // A set that shrank to a quarter of its capacity gives half of it back.
      if (size - 1 <= values.length / 4) this.#values = values.slice(0, values.length / 2);
      return true;
    }
    if (!values.delete(n)) return false;
    if (values.size < ARRAY_THRESHOLD) {
      const array = padded(ARRAY_THRESHOLD);
      let i = 0;
      for (const m of values) array[i++] = m;
      this.#values = array;
    }
    return true;
  }

  /** addAll inserts every number of `other`. */
  addAll(other: IdSet): void {
    if (other instanceof MutableIdSet && typeof other.#values === "object" && !isArray(other.#values)) {
      const values = this.#values;
      let bitmap: Bitmap;
      if (typeof values === "number") bitmap = new RoaringBitmap32([values]);
      else if (isArray(values)) bitmap = new RoaringBitmap32(arrayValues(values));
      else bitmap = values;
      bitmap.orInPlace(other.#values);
      this.#values = bitmap;
      return;
    }
    for (const n of other.values()) this.add(n);
  }

  /**
   * addTo inserts this set's numbers into a BitmapSet's storage (in src/graph): a bitmap's by one
   * native union into `bitmap`, an array's or a single number by appending to `pending`.
   */
  addTo(bitmap: Bitmap, pending: { push(n: number): void; pushArray(values: readonly number[], count: number): void }): void {
    const values = this.#values;
    if (typeof values === "number") pending.push(values);
    else if (!isArray(values)) bitmap.orInPlace(values);
    else pending.pushArray(values, used(values));
  }
}

function isArray(values: number[] | Bitmap): values is number[] {
  return Array.isArray(values);
}

// How many numbers an array holds: the index of its first FREE slot.
function used(values: readonly number[]): number {
  return lowerBound(values, FREE);
}

function padded(capacity: number): number[] {
  const array = new Array<number>(capacity);
  for (let i = 0; i < capacity; i++) array[i] = FREE;
  return array;
}

function* arrayValues(values: readonly number[]): IterableIterator<number> {
  for (const n of values) {
    if (n === FREE) return;
    yield n;
  }
}

// The index of the first value >= n in a sorted array (its length if none).
function lowerBound(values: readonly number[], n: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((values[mid] as number) < n) low = mid + 1;
    else high = mid;
  }
  return low;
}

// A merge walk: both arrays are sorted and at most BITMAP_THRESHOLD long, FREE at their ends.
function sortedArraysIntersect(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  let j = 0;
  const aSize = used(a);
  const bSize = used(b);
  while (i < aSize && j < bSize) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}

function arrayHasSomeOf(values: readonly number[], set: IdSet): boolean {
  for (let i = 0; i < values.length && values[i] !== FREE; i++) if (set.has(values[i] as number)) return true;
  return false;
}

function someIn(values: Iterable<number>, set: IdSet): boolean {
  for (const n of values) if (set.has(n)) return true;
  return false;
}
