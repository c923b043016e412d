import { BugError, objectIdHash } from "../tuple/index.ts";

const MAX_OBJECTS_PER_TYPE = 2 ** 31 - 1;
const INITIAL_HASHES = 16;

/** TypeTable: one type's objects, by id and by number, with each id's hash (4 bytes an object). */
interface TypeTable {
  readonly numbers: Map<string, number>;
  readonly ids: string[];
  hashes: Uint32Array;
}

/**
 * ObjectInterner numbers object ids per type densely from 0, in order of first sight, so that
 * sets of objects are sets of small integers. Numbers are never reused or freed: a number may be
 * held by a cache or a set computed at an older revision, and it must keep naming the same object.
 */
export class ObjectInterner {
  readonly #byType = new Map<string, TypeTable>();
  #count = 0;

  /** size is how many objects were interned, over all types. */
  get size(): number {
    return this.#count;
  }

  /** intern returns the number of `type:id`, issuing the next one on first sight. */
  intern(type: string, id: string): number {
    let table = this.#byType.get(type);
    if (table === undefined) {
      table = { numbers: new Map(), ids: [], hashes: new Uint32Array(INITIAL_HASHES) };
      this.#byType.set(type, table);
    }
    let n = table.numbers.get(id);
    if (n === undefined) {
      n = table.ids.length;
      // MutableIdSet reserves 2^31 - 1 (and V8 keeps numbers below 2^31 unboxed); two billion
      // objects of one type do not fit in a process's memory anyway.
      if (n >= MAX_OBJECTS_PER_TYPE) throw new BugError(`more than ${MAX_OBJECTS_PER_TYPE} objects of type \`${type}\``);
      table.ids.push(id);
      table.numbers.set(id, n);
      if (n === table.hashes.length) {
        const grown = new Uint32Array(n * 2);
        grown.set(table.hashes);
        table.hashes = grown;
      }
      table.hashes[n] = objectIdHash(id);
      this.#count++;
    }
    return n;
  }

  numberOf(type: string, id: string): number | undefined {
    return this.#byType.get(type)?.numbers.get(id);
  }

  /** hashesOf is objectIdHash of the id of each of `numbers` (computed once, when interned), in their order (one table read for all). */
  hashesOf(type: string, numbers: Uint32Array): Uint32Array {
    const table = this.#byType.get(type);
    const hashes = new Uint32Array(numbers.length);
    for (let i = 0; i < numbers.length; i++) {
      const n = numbers[i] as number;
      if (table === undefined || n >= table.ids.length) throw new BugError(`object number ${n} of type \`${type}\` was never issued`);
      hashes[i] = table.hashes[n] as number;
    }
    return hashes;
  }

  idOf(type: string, n: number): string {
    const id = this.#byType.get(type)?.ids[n];
    if (id === undefined) throw new BugError(`object number ${n} of type \`${type}\` was never issued`);
    return id;
  }
}
