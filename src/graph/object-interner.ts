import { BugError } from "../tuple/index.ts";

const MAX_OBJECTS_PER_TYPE = 2 ** 31 - 1;

/**
 * ObjectInterner numbers object ids per type densely from 0, in order of first sight, so that
 * sets of objects are sets of small integers. Numbers are never reused or freed: a number may be
 * held by a cache or a set computed at an older revision, and it must keep naming the same object.
 */
export class ObjectInterner {
  readonly #byType = new Map<string, { readonly numbers: Map<string, number>; readonly ids: string[] }>();
  #count = 0;

  /** size is how many objects were interned, over all types. */
  get size(): number {
    return this.#count;
  }

  /** intern returns the number of `type:id`, issuing the next one on first sight. */
  intern(type: string, id: string): number {
    let table = this.#byType.get(type);
    if (table === undefined) {
      table = { numbers: new Map(), ids: [] };
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
      this.#count++;
    }
    return n;
  }

  numberOf(type: string, id: string): number | undefined {
    return this.#byType.get(type)?.numbers.get(id);
  }

  idOf(type: string, n: number): string {
    const id = this.#byType.get(type)?.ids[n];
    if (id === undefined) throw new BugError(`object number ${n} of type \`${type}\` was never issued`);
    return id;
  }
}
