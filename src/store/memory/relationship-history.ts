import type { Relationship, Revision } from "../../tuple/index.ts";
import type { RelationshipFilter, SubjectFilter } from "../store.ts";

// Every name and id is ASCII without NUL, so joining fields with NUL gives strings whose plain
// `<` order is the tuple order of QueryOptions (a shorter field sorts before any longer one that
// extends it), and "no subject relation" (the empty string) sorts before every relation.
// This is byte order, as Postgres gives with COLLATE "C".
const SEP = "\u0000";

/** bucketKey is the sort-key prefix shared by every relationship of one resource and relation. */
function bucketKey(resourceType: string, resourceId: string, relation: string): string {
  return resourceType + SEP + resourceId + SEP + relation;
}

/** sortKey orders relationships as QueryOptions documents; equal keys mean the same relationship. */
function sortKey(relationship: Relationship): string {
  const { resource, subject } = relationship;
  return bucketKey(resource.type, resource.id, relationship.relation) + SEP + subject.type + SEP + subject.id + SEP + (subject.relation ?? "");
}

function compareKeys(a: { readonly key: string }, b: { readonly key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Index of the first item whose key is > `key` (or >= when `inclusive`), in an array sorted by key. */
function searchKey(items: readonly { readonly key: string }[], key: string, inclusive: boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const midKey = (items[mid] as { readonly key: string }).key;
    if (midKey < key || (!inclusive && midKey === key)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * StoredVersion is one version of a relationship, live for revisions in [createdAt, deletedAt):
 * the same two columns the Postgres table keeps (DESIGN.md "Storage").
 */
interface StoredVersion {
  readonly relationship: Relationship;
  readonly createdAt: Revision;
  deletedAt: Revision | undefined;
  // Cached so that the hot read path compares numbers, not Dates.
  readonly expiresAtMs: number;
}

/** History holds every version of one relationship key, oldest first; their lifetimes never overlap. */
class History {
  readonly versions: StoredVersion[] = [];

  constructor(readonly key: string) {}

  /** current is the newest version if no revision has deleted it (it may have expired). */
  current(): StoredVersion | undefined {
    const newest = this.versions[this.versions.length - 1];
    return newest !== undefined && newest.deletedAt === undefined ? newest : undefined;
  }

  /** visibleAt is the version live at `revision` and unexpired at `nowMs`, if any. */
  visibleAt(revision: Revision, nowMs: number): Relationship | undefined {
    for (let i = this.versions.length - 1; i >= 0; i--) {
      const version = this.versions[i] as StoredVersion;
      if (version.createdAt > revision) continue;
      if (version.deletedAt !== undefined && version.deletedAt <= revision) return undefined;
      return version.expiresAtMs > nowMs ? version.relationship : undefined;
    }
    return undefined;
  }
}

/** Bucket is every history of one (resource type, resource id, relation), sorted by key when read. */
class Bucket {
  readonly histories: History[] = [];
  sorted = true;

  constructor(
    readonly key: string,
    readonly resourceId: string,
    readonly relation: string,
  ) {}

  ordered(): readonly History[] {
    if (!this.sorted) {
      // Appends since the last sort form a short unsorted tail; the engine's sort handles that cheaply.
      this.histories.sort(compareKeys);
      this.sorted = true;
    }
    return this.histories;
  }
}

/** ReadQuery is one validated read: which relationships, at which revision and wall-clock time. */
export interface ReadQuery {
  readonly filter: RelationshipFilter;
  readonly revision: Revision;
  readonly nowMs: number;
  readonly after?: Relationship | undefined;
  readonly limit?: number | undefined;
}

/**
 * RelationshipHistory keeps every version of every relationship ever written until `collect`
 * removes the versions no readable revision can see, indexed three ways:
 * - by relationship key, for writes;
 * - by (resource type, resource id, relation), the engine's hot lookup, so that such a read costs
 *   O(versions of the matching relationships);
 * - by (subject type, subject id), for reverse lookups.
 * Other filters walk the buckets in key order, starting at the first that can match.
 * Versions are never changed except to record the revision that deleted them, which is always
 * newer than any reader's revision, so readers at older revisions see a fixed state.
 */
export class RelationshipHistory {
  readonly #byKey = new Map<string, History>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #bucketOrder: Bucket[] = [];
  #bucketOrderSorted = true;
  readonly #bySubject = new Map<string, History[]>();

  /** isLive says whether `relationship`'s key is live and unexpired at `revision`. */
  isLive(relationship: Relationship, revision: Revision, nowMs: number): boolean {
    return this.#byKey.get(sortKey(relationship))?.visibleAt(revision, nowMs) !== undefined;
  }

  /**
   * put records `relationship` as created at `revision`, ending the current version of its key
   * there (if any), and returns the frozen copy it stored.
   */
  put(relationship: Relationship, revision: Revision): Relationship {
    const history = this.#historyFor(relationship);
    const current = history.current();
    if (current !== undefined) current.deletedAt = revision;
    const stored = freezeRelationship(relationship);
    history.versions.push({
      relationship: stored,
      createdAt: revision,
      deletedAt: undefined,
      expiresAtMs: stored.expiresAt === undefined ? Number.POSITIVE_INFINITY : stored.expiresAt.getTime(),
    });
    return stored;
  }

  /** remove ends the current version of `relationship`'s key at `revision` and returns it, or undefined if there is none. */
  remove(relationship: Relationship, revision: Revision): Relationship | undefined {
    const current = this.#byKey.get(sortKey(relationship))?.current();
    if (current === undefined) return undefined;
    current.deletedAt = revision;
    return current.relationship;
  }

  /**
   * collect removes every version deleted at `cutoff` or earlier (invisible at `cutoff` and every
   * later revision), every version never deleted that was created at `cutoff` or earlier and
   * expired at `expiredByMs` or earlier (invisible to every reader whose clock is past that), and
   * the keys left without versions; returns how many versions it removed. An expired version
   * created after `cutoff` stays (a watch from `cutoff` replays its creation), as does one whose
   * deletion came after `cutoff` (a watch replays the deletion), until a later collection.
   */
  collect(cutoff: Revision, expiredByMs: number): number {
    let removed = 0;
    const isCollectable = (version: StoredVersion): boolean =>
      version.deletedAt === undefined ? version.createdAt <= cutoff && version.expiresAtMs <= expiredByMs : version.deletedAt <= cutoff;
    for (const [key, history] of this.#byKey) {
      const before = history.versions.length;
      keepOnly(history.versions, (version) => !isCollectable(version));
      removed += before - history.versions.length;
      if (history.versions.length === 0) this.#byKey.delete(key);
    }
    if (removed === 0) return 0;
    const isKept = (history: History): boolean => history.versions.length > 0;
    for (const [key, bucket] of this.#buckets) {
      keepOnly(bucket.histories, isKept);
      if (bucket.histories.length === 0) this.#buckets.delete(key);
    }
    keepOnly(this.#bucketOrder, (bucket) => bucket.histories.length > 0);
    for (const [key, histories] of this.#bySubject) {
      keepOnly(histories, isKept);
      if (histories.length === 0) this.#bySubject.delete(key);
    }
    return removed;
  }

  /** query returns the relationships matching `query`, in QueryOptions order. */
  query(query: ReadQuery): Relationship[] {
    const { filter } = query;
    const afterKey = query.after === undefined ? undefined : sortKey(query.after);
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const results: Relationship[] = [];
    if (limit <= 0) return results;

    if (filter.resourceType !== undefined && filter.resourceId !== undefined && filter.relation !== undefined) {
      const bucket = this.#buckets.get(bucketKey(filter.resourceType, filter.resourceId, filter.relation));
      if (bucket !== undefined) this.#scanBucket(bucket, query, afterKey, limit, results);
      return results;
    }

    if (filter.resourceId === undefined && filter.subject?.id !== undefined) {
      const candidates = this.#bySubject.get(filter.subject.type + SEP + filter.subject.id) ?? [];
      const matched: History[] = [];
      for (const history of candidates) {
        if (afterKey !== undefined && history.key <= afterKey) continue;
        const relationship = history.visibleAt(query.revision, query.nowMs);
        if (relationship !== undefined && matchesFilter(relationship, filter)) matched.push(history);
      }
      matched.sort(compareKeys);
      for (const history of matched.slice(0, limit)) {
        results.push(history.visibleAt(query.revision, query.nowMs) as Relationship);
      }
      return results;
    }

    const prefix = rangePrefix(filter);
    const order = this.#orderedBuckets();
    const afterBucket = query.after === undefined ? "" : bucketKey(query.after.resource.type, query.after.resource.id, query.after.relation);
    for (let i = searchKey(order, prefix > afterBucket ? prefix : afterBucket, true); i < order.length; i++) {
      const bucket = order[i] as Bucket;
      if (!bucket.key.startsWith(prefix)) break;
      if (filter.relation !== undefined && bucket.relation !== filter.relation) continue;
      if (filter.resourceId !== undefined && bucket.resourceId !== filter.resourceId) continue;
      if (filter.resourceIdPrefix !== undefined && !bucket.resourceId.startsWith(filter.resourceIdPrefix)) continue;
      if (this.#scanBucket(bucket, query, afterKey, limit, results)) break;
    }
    return results;
  }

  // Appends the bucket's matches to `results`; returns true once `limit` is reached.
  #scanBucket(bucket: Bucket, query: ReadQuery, afterKey: string | undefined, limit: number, results: Relationship[]): boolean {
    const histories = bucket.ordered();
    const subject = query.filter.subject;
    // Keys in a bucket are ordered by subject type, then id, so a subject filter narrows the walk
    // to one range: a check of one subject costs a binary search, not a pass over the bucket.
    const prefix = bucket.key + SEP + (subject === undefined ? "" : subject.type + SEP + (subject.id === undefined ? "" : subject.id + SEP));
    let start = searchKey(histories, prefix, true);
    if (afterKey !== undefined && afterKey > prefix) start = Math.max(start, searchKey(histories, afterKey, false));
    for (let i = start; i < histories.length; i++) {
      const history = histories[i] as History;
      if (!history.key.startsWith(prefix)) break;
      const relationship = history.visibleAt(query.revision, query.nowMs);
      if (relationship === undefined || (subject !== undefined && !matchesSubject(relationship, subject))) continue;
      results.push(relationship);
      if (results.length >= limit) return true;
    }
    return false;
  }

  #orderedBuckets(): readonly Bucket[] {
    if (!this.#bucketOrderSorted) {
      this.#bucketOrder.sort(compareKeys);
      this.#bucketOrderSorted = true;
    }
    return this.#bucketOrder;
  }

  #historyFor(relationship: Relationship): History {
    const key = sortKey(relationship);
    const existing = this.#byKey.get(key);
    if (existing !== undefined) return existing;

    const history = new History(key);
    this.#byKey.set(key, history);
    const { resource, subject } = relationship;
    const resourceKey = bucketKey(resource.type, resource.id, relationship.relation);
    let bucket = this.#buckets.get(resourceKey);
    if (bucket === undefined) {
      bucket = new Bucket(resourceKey, resource.id, relationship.relation);
      this.#buckets.set(resourceKey, bucket);
      this.#bucketOrder.push(bucket);
      this.#bucketOrderSorted = false;
    }
    bucket.histories.push(history);
    bucket.sorted = false;
    const subjectKey = subject.type + SEP + subject.id;
    const bySubject = this.#bySubject.get(subjectKey);
    if (bySubject === undefined) this.#bySubject.set(subjectKey, [history]);
    else bySubject.push(history);
    return history;
  }
}

// Removes in place, keeping order, every item of `items` that `keep` rejects.
function keepOnly<T>(items: T[], keep: (item: T) => boolean): void {
  let kept = 0;
  for (const item of items) if (keep(item)) items[kept++] = item;
  items.length = kept;
}

// The first key a matching bucket can have: resource fields fix a prefix only from the left.
function rangePrefix(filter: RelationshipFilter): string {
  if (filter.resourceType === undefined) return "";
  if (filter.resourceId !== undefined) return filter.resourceType + SEP + filter.resourceId + SEP;
  return filter.resourceType + SEP + (filter.resourceIdPrefix ?? "");
}

/** matchesFilter says whether `relationship` satisfies every field set in `filter`. */
function matchesFilter(relationship: Relationship, filter: RelationshipFilter): boolean {
  const { resource } = relationship;
  if (filter.resourceType !== undefined && resource.type !== filter.resourceType) return false;
  if (filter.resourceId !== undefined && resource.id !== filter.resourceId) return false;
  if (filter.resourceIdPrefix !== undefined && !resource.id.startsWith(filter.resourceIdPrefix)) return false;
  if (filter.relation !== undefined && relationship.relation !== filter.relation) return false;
  return filter.subject === undefined || matchesSubject(relationship, filter.subject);
}

function matchesSubject(relationship: Relationship, filter: SubjectFilter): boolean {
  const { subject } = relationship;
  if (subject.type !== filter.type) return false;
  // A filter id of "*" matches only wildcard subjects, as in SpiceDB, not every id.
  if (filter.id !== undefined && subject.id !== filter.id) return false;
  if (filter.relation === undefined) return true;
  if (filter.relation === null) return subject.relation === undefined;
  return subject.relation === filter.relation;
}

// Readers share the stored objects, so they are copied from the caller's and frozen (the Date of
// an expiry is copied but cannot be frozen; callers must not mutate it).
function freezeRelationship(relationship: Relationship): Relationship {
  const { resource, subject, caveat, expiresAt } = relationship;
  return Object.freeze({
    resource: Object.freeze({ type: resource.type, id: resource.id }),
    relation: relationship.relation,
    subject: Object.freeze(
      subject.relation === undefined ? { type: subject.type, id: subject.id } : { type: subject.type, id: subject.id, relation: subject.relation },
    ),
    ...(caveat === undefined ? {} : { caveat: Object.freeze({ name: caveat.name, context: deepFreeze(structuredClone(caveat.context)) }) }),
    ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt.getTime()) }),
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
