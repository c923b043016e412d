import { LRUCache } from "lru-cache";
import type { Revision } from "../tuple/index.ts";
import type { GraphIndexView } from "../graph/index.ts";
import { FALL_BACK } from "./fall-back.ts";
import type { Candidates } from "./lookup.ts";

/** Entry: candidates (or FALL_BACK: the index could not decide) computed at `computedAt` under the schema whose text is `schemaSource`. */
interface Entry {
  readonly schemaSource: string;
  readonly computedAt: Revision;
  readonly candidates: Candidates | typeof FALL_BACK;
}

/**
 * LookupCache remembers what the graph index decided for a lookup (the Candidates, before any
 * check of undecided ones), across requests, bounded to `maxResults` objects over all entries
 * (least recently used first out). Paging through a large lookup, or the same user's search page
 * asked again, then costs the ordering of the results, not their computation.
 *
 * Validity is CheckCache's (see there): an entry computed at C on an index answers a read at X
 * when no relation the permission depends on changed after C, as that same index object knows
 * it (`horizon` <= C; the caller has checked that the index answers X at all). Object numbers
 * belong to one index object, and a reload builds another: the cache empties when it is asked
 * about another index than before (which also lets the old one be collected). An entry of another
 * schema is never used. Undecided candidates are checked again on every request: their
 * answers depend on the caveat context and on the clock.
 */
export class LookupCache {
  readonly #entries: LRUCache<string, Entry>;
  #index: GraphIndexView | undefined;
  #hits = 0;

  /** Throws RangeError unless `maxResults` is a positive integer (a disabled cache is no LookupCache). */
  constructor(maxResults: number) {
    if (!Number.isInteger(maxResults) || maxResults < 1) throw new RangeError(`LookupCache: maxResults must be a positive integer, got ${maxResults}`);
    this.#entries = new LRUCache<string, Entry>({
      maxSize: maxResults,
      sizeCalculation: ({ candidates }) => (candidates === FALL_BACK ? 1 : 1 + candidates.allowed.length + candidates.undecided.length + candidates.denied.length),
    });
  }

  /** hits counts the lookups answered from the cache since construction. */
  get hits(): number {
    return this.#hits;
  }

  /**
   * through returns the candidates remembered under `key` if they still hold (see LookupCache),
   * else computes them with `compute` and remembers them. FALL_BACK is remembered too: the same
   * data gives the index the same reason to give up, and finding it again can cost a full
   * evaluation.
   */
  through<T extends Candidates>(key: string, index: GraphIndexView, schemaSource: string, horizon: Revision, compute: () => T | typeof FALL_BACK): T | typeof FALL_BACK {
    if (index !== this.#index) {
      this.#entries.clear();
      this.#index = index;
    }
    const known = this.#entries.get(key);
    if (known !== undefined && known.schemaSource === schemaSource && horizon <= known.computedAt) {
      this.#hits++;
      return known.candidates as T | typeof FALL_BACK;
    }
    const computedAt = index.revision;
    const candidates = compute();
    this.#entries.set(key, { schemaSource, computedAt, candidates });
    return candidates;
  }
}
