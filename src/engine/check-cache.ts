import { LRUCache } from "lru-cache";
import type { Revision } from "../tuple/index.ts";
import type { Permissionship } from "./engine-types.ts";

/**
 * CachedCheck is a remembered answer. `revision` (C) is the revision it was computed at;
 * `depthRequired` the dispatch levels its computation used (a top-level answer of the plain walk,
 * whose depth is not known, records maxDepth: it is reused only at the top of a check).
 */
export interface CachedCheck {
  readonly permissionship: Permissionship;
  readonly missingParameters?: readonly string[] | undefined;
  readonly revision: Revision;
  readonly depthRequired: number;
}

/**
 * CheckCache remembers check and subproblem answers across requests, bounded to `maxEntries`
 * (least recently used first out).
 *
 * Why a revision-stamped entry may answer at another revision (our "quantization" of revisions).
 * An answer depends only on the relationships of the stored relations its permission can reach
 * (SchemaDependencies) and, at most, on the request's caveat context (part of the key). Let H be
 * the newest revision at which any of those relations changed, as the index knows it
 * (GraphIndexView.lastChangedAt, maximized over them: the "horizon"). Over [H, index.revision]
 * they are identical at every revision, so an entry computed at C answers for X whenever H <= C
 * and H <= X <= index.revision. A newer write to a dependency moves H past C and retires the
 * entry; writes elsewhere do not; a revision the index has not reached is never answered, because
 * changes there are not yet known. So every consistency mode keeps its meaning: an answer for X is
 * the answer at X, and minimize_latency, at_least_as_fresh and fully_consistent requests share
 * entries as long as nothing relevant was written.
 */
export class CheckCache {
  readonly #entries: LRUCache<string, CachedCheck>;

  /** Throws RangeError unless `maxEntries` is a positive integer (a disabled cache is no CheckCache). */
  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`CheckCache: maxEntries must be a positive integer, got ${maxEntries}`);
    this.#entries = new LRUCache<string, CachedCheck>({ max: maxEntries });
  }

  /** size is the number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * get returns the entry for `key` if it answers at revision `at`, given the dependencies'
   * `horizon` and the revision the index reflects (see the class comment); otherwise undefined.
   */
  get(key: string, at: Revision, horizon: Revision, indexRevision: Revision): CachedCheck | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (horizon <= entry.revision && horizon <= at && at <= indexRevision) return entry;
    return undefined;
  }

  /** set remembers `entry` under `key`, replacing any older one. */
  set(key: string, entry: CachedCheck): void {
    this.#entries.set(key, entry);
  }

  /** clear forgets every entry (e.g. when the schema changes). */
  clear(): void {
    this.#entries.clear();
  }
}
