import { objectIdHash } from "../tuple/index.ts";
import type { GraphIndexView } from "../graph/index.ts";

/**
 * compareLookupOrder orders ids by (objectIdHash, then code units): a total order that any server
 * computes alike from the id alone. Not alphabetical on purpose: sorting 100,000 strings takes
 * ~80 ms here, while the hashes, which the graph index keeps with every object, order them by
 * buckets (inLookupOrder) in a few.
 */
export function compareLookupOrder(a: string, b: string): number {
  const ha = objectIdHash(a);
  const hb = objectIdHash(b);
  if (ha !== hb) return ha < hb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** IdList is a list of object ids read by position, with their objectIdHash values (`hashes`, in position order). */
export interface IdList {
  readonly length: number;
  readonly hashes: Uint32Array;
  idAt(i: number): string;
  includes(id: string): boolean;
}

/** idList is an IdList over plain ids. */
export function idList(ids: readonly string[]): IdList {
  return {
    length: ids.length,
    hashes: Uint32Array.from(ids, objectIdHash),
    idAt: (i) => ids[i] as string,
    includes: (id) => ids.includes(id),
  };
}

/** numberList is an IdList over object numbers of `type` in `index`, ascending; ids are read only when asked. */
export function numberList(index: GraphIndexView, type: string, numbers: Uint32Array): IdList {
  return {
    length: numbers.length,
    hashes: index.idHashes(type, numbers),
    idAt: (i) => index.idOf(type, numbers[i] as number),
    includes: (id) => {
      const n = index.numberOf(type, id);
      return n !== undefined && numbers.includes(n);
    },
  };
}

// Buckets by the top bits of the hash: about one bucket per BUCKET_LOAD items, at most 2^16 (256:
// fastest to the first of 95,000 ids here, measured against 16 to 4,096).
const BUCKET_LOAD = 256;
const MAX_BUCKET_BITS = 16;
// A sort key packs (hash, position) into one double: 32 + POSITION_BITS bits, exact up to 2^53.
const POSITION_BITS = 21;
const POSITIONS = 2 ** POSITION_BITS;

/**
 * inLookupOrder yields the positions of `list` in lookup order of their ids, skipping those at or
 * before `after`. It orders lazily: one pass buckets the positions by hash, and each bucket is
 * sorted (a native sort of numbers) when reached, so the first position costs O(n) and no string
 * is read but to break a tie of hashes.
 */
export function* inLookupOrder(list: IdList, after?: string): Generator<number> {
  const { hashes } = list;
  // Without `after`, every position is kept, and position k is k.
  let kept: Uint32Array | undefined;
  if (after !== undefined) {
    const afterHash = objectIdHash(after);
    const positions: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const hash = hashes[i] as number;
      if (hash > afterHash || (hash === afterHash && list.idAt(i) > after)) positions.push(i);
    }
    kept = Uint32Array.from(positions);
  }
  const count = kept?.length ?? list.length;
  if (list.length > POSITIONS) {
    yield* Array.from(kept ?? hashes.keys()).sort((a, b) => compareAt(list, a, b));
    return;
  }
  const bits = Math.min(MAX_BUCKET_BITS, Math.max(0, Math.ceil(Math.log2(Math.max(1, count / BUCKET_LOAD)))));
  const shift = 32 - bits;
  // Counting sort of the sort keys into buckets by the top bits of their hash: count, then place.
  const starts = new Int32Array((1 << bits) + 1);
  for (let k = 0; k < count; k++) {
    const hash = hashes[kept === undefined ? k : (kept[k] as number)] as number;
    starts[(bits === 0 ? 0 : hash >>> shift) + 1]! += 1;
  }
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  const next = starts.slice(0, -1);
  const placed = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const position = kept === undefined ? k : (kept[k] as number);
    const hash = hashes[position] as number;
    placed[next[bits === 0 ? 0 : hash >>> shift]!++] = hash * POSITIONS + position;
  }
  for (let b = 0; b + 1 < starts.length; b++) {
    const bucket = placed.subarray(starts[b]!, starts[b + 1]!);
    bucket.sort();
    for (let i = 0; i < bucket.length; ) {
      // Positions of one hash come together; ids order them (two ids sharing a hash are rare).
      const hash = Math.floor(bucket[i]! / POSITIONS);
      let end = i + 1;
      if (end === bucket.length || Math.floor(bucket[end]! / POSITIONS) !== hash) {
        yield bucket[i]! % POSITIONS;
        i = end;
        continue;
      }
      while (end < bucket.length && Math.floor(bucket[end]! / POSITIONS) === hash) end++;
      yield* Array.from(bucket.subarray(i, end), (key) => key % POSITIONS).sort((a, b) => compareAt(list, a, b));
      i = end;
    }
  }
}

function compareAt(list: IdList, a: number, b: number): number {
  return compareListed(list, a, list, b);
}

/** compareListed is compareLookupOrder for the id at `i` of `left` and the id at `j` of `right`, using their kept hashes. */
export function compareListed(left: IdList, i: number, right: IdList, j: number): number {
  const hi = left.hashes[i] as number;
  const hj = right.hashes[j] as number;
  if (hi !== hj) return hi < hj ? -1 : 1;
  const ii = left.idAt(i);
  const ij = right.idAt(j);
  return ii < ij ? -1 : ii > ij ? 1 : 0;
}
