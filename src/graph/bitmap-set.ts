import roaring from "roaring";
import type { IdSet } from "./graph-types.ts";
import { MutableIdSet } from "./mutable-id-set.ts";

// roaring is CommonJS: its class is reached through the default export.
const { RoaringBitmap32 } = roaring;
type Bitmap = InstanceType<typeof RoaringBitmap32>;

/**
 * BitmapSet is a set of object numbers for set-at-a-time computations over the index (lookups):
 * a roaring bitmap with unions, intersections and differences that build new sets and leave their
 * operands alone. Unlike the index's own sets it is meant to be large and short-lived.
 */
export class BitmapSet implements IdSet {
  readonly #full: Bitmap;
  // Numbers added one by one or from small sets wait here and enter the bitmap in one native call
  // when the set is next read: a call per number costs about a microsecond, and a join adds
  // numbers from thousands of small sets.
  readonly #pending = new PendingNumbers();

  private constructor(bitmap: Bitmap) {
    this.#full = bitmap;
  }

  get #bitmap(): Bitmap {
    this.#pending.drainInto(this.#full);
    return this.#full;
  }

  /** empty is a new empty set. */
  static empty(): BitmapSet {
    return new BitmapSet(new RoaringBitmap32());
  }

  /** of is a new set holding the numbers of `set` (none when undefined). */
  static of(set: IdSet | undefined): BitmapSet {
    const result = BitmapSet.empty();
    if (set !== undefined) result.addAll(set);
    return result;
  }

  get size(): number {
    return this.#bitmap.size;
  }

  has(n: number): boolean {
    return this.#bitmap.has(n);
  }

  intersects(other: IdSet): boolean {
    if (other instanceof BitmapSet) return this.#bitmap.intersects(other.#bitmap);
    for (const n of other.values()) if (this.#bitmap.has(n)) return true;
    return false;
  }

  values(): IterableIterator<number> {
    return this.#bitmap[Symbol.iterator]();
  }

  /** toUint32Array is the numbers in ascending order (one native copy: far faster than a JS array of them). */
  toUint32Array(): Uint32Array {
    return this.#bitmap.toUint32Array();
  }

  /** add inserts `n` into this set. */
  add(n: number): void {
    this.#pending.push(n);
  }

  /** addAll inserts every number of `other` into this set. */
  addAll(other: IdSet): void {
    if (other instanceof BitmapSet) this.#full.orInPlace(other.#bitmap);
    else if (other instanceof MutableIdSet) other.addTo(this.#full, this.#pending);
    else for (const n of other.values()) this.#pending.push(n);
  }

  /** or is a new set: this one's numbers and `other`'s. */
  or(other: BitmapSet): BitmapSet {
    return new BitmapSet(RoaringBitmap32.or(this.#bitmap, other.#bitmap));
  }

  /** and is a new set: the numbers in both. */
  and(other: BitmapSet): BitmapSet {
    return new BitmapSet(RoaringBitmap32.and(this.#bitmap, other.#bitmap));
  }

  /** andNot is a new set: this one's numbers that `other` lacks. */
  andNot(other: BitmapSet): BitmapSet {
    return new BitmapSet(RoaringBitmap32.andNot(this.#bitmap, other.#bitmap));
  }
}

const INITIAL_PENDING = 64;

/** PendingNumbers is a growable buffer of numbers on their way into a bitmap (a typed array: one cheap native copy). */
class PendingNumbers {
  #buffer = new Uint32Array(INITIAL_PENDING);
  #count = 0;

  push(n: number): void {
    if (this.#count === this.#buffer.length) this.#grow(1);
    this.#buffer[this.#count++] = n;
  }

  /** pushArray appends the first `count` numbers of `values`. */
  pushArray(values: readonly number[], count: number): void {
    if (this.#count + count > this.#buffer.length) this.#grow(count);
    const buffer = this.#buffer;
    let at = this.#count;
    for (let i = 0; i < count; i++) buffer[at++] = values[i] as number;
    this.#count = at;
  }

  #grow(needed: number): void {
    const grown = new Uint32Array(Math.max(this.#buffer.length * 2, this.#count + needed));
    grown.set(this.#buffer.subarray(0, this.#count));
    this.#buffer = grown;
  }

  drainInto(bitmap: Bitmap): void {
    if (this.#count === 0) return;
    bitmap.addMany(this.#count >= DENSE_FROM ? sortedUnique(this.#buffer.subarray(0, this.#count)) : this.#buffer.subarray(0, this.#count));
    this.#count = 0;
  }
}

// Many pending numbers enter the bitmap sorted: roaring adds sorted numbers several times faster
// than scattered ones, and a dense bit array sorts and dedupes them in two linear passes.
const DENSE_FROM = 4_096;
// The bit array is used only while it is at most this many bits per pending number.
const MAX_BITS_PER_NUMBER = 64;

/** sortedUnique: `numbers` ascending, each once (through a bit array when they are dense enough, else a sort). */
function sortedUnique(numbers: Uint32Array): Uint32Array {
  let max = 0;
  for (let i = 0; i < numbers.length; i++) if ((numbers[i] as number) > max) max = numbers[i] as number;
  if (max / numbers.length > MAX_BITS_PER_NUMBER) return numbers.slice().sort();
  const words = new Uint32Array((max >>> 5) + 1);
  for (let i = 0; i < numbers.length; i++) {
    const n = numbers[i] as number;
    words[n >>> 5]! |= 1 << (n & 31);
  }
  const sorted = new Uint32Array(numbers.length);
  let count = 0;
  for (let w = 0; w < words.length; w++) {
    let word = words[w] as number;
    while (word !== 0) {
      const low = word & -word;
      sorted[count++] = (w << 5) + (31 - Math.clz32(low));
      word ^= low;
    }
  }
  return sorted.subarray(0, count);
}
