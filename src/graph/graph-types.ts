import type { Relationship, Revision, SubjectRef } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";

/**
 * IdSet is a read-only set of interned object numbers of one object type (see GraphIndexView.numberOf).
 * Small sets and roaring bitmaps both implement it: a native roaring bitmap costs about 400 bytes
 * of RSS even when it holds one number (measured here, roaring 2.7), so most postings are small arrays.
 */
export interface IdSet {
  readonly size: number;
  has(n: number): boolean;
  /** intersects is true when some number is in both sets. */
  intersects(other: IdSet): boolean;
  /** values yields the numbers in ascending order. */
  values(): IterableIterator<number>;
}

/**
 * Posting is what the index holds for one (resource, relation): its live subjects.
 * - `groups`: by subject group key (`user` for plain objects, `group#member` for usersets), the
 *   numbers of the subject objects of plain relationships (no caveat, no expiry);
 * - `wildcards`: the subject types T of plain relationships `resource#relation@T:*`;
 * - `special`: the live relationships that carry a caveat or an expiry, as stored. They are in
 *   neither `groups` nor `wildcards`: an evaluator that cannot decide them must not guess (an
 *   expired one stays here until the store deletes it, see Store.garbageCollect).
 */
export interface Posting {
  readonly groups: ReadonlyMap<string, IdSet>;
  readonly wildcards: ReadonlySet<string>;
  readonly special: readonly Relationship[];
}

/**
 * GraphIndexView is the read side of the graph index: every live relationship of the store as of
 * `revision`, interned and grouped for set operations. Every method is synchronous and the index
 * changes only between calls into it from the event loop (a change set is applied in one
 * synchronous step), so a synchronous computation sees exactly one revision.
 */
export interface GraphIndexView {
  /** revision is the store revision the index reflects: every change set up to it is applied. */
  readonly revision: Revision;
  /**
   * schema is the compiled stored schema as of `revision` (undefined before one is written); the
   * closure follows it. Replaced by a new object, never mutated, when the schema changes.
   */
  readonly schema: Schema | undefined;

  /** numberOf is the interned number of object `type:id`, or undefined if no relationship ever named it. `*` is never interned. */
  numberOf(type: string, id: string): number | undefined;
  /** idOf is the object id of number `n` of `type` (throws BugError for a number never issued). */
  idOf(type: string, n: number): string;
  /**
   * idHashes are objectIdHash(idOf(type, n)) for each n of `numbers`, in order: kept with every
   * object, so that ordering objects by it reads no string.
   */
  idHashes(type: string, numbers: Uint32Array): Uint32Array;

  /** posting is what (resourceType:resourceNumber)#relation holds, or undefined if it holds nothing. */
  posting(resourceType: string, resourceNumber: number, relation: string): Posting | undefined;

  /**
   * resourcesWithSubject is the reverse index: the resources of `resourceType` whose `relation`
   * has `subject` as a plain relationship's exact subject (no wildcard expansion, no nesting).
   * `subject.relation` undefined means a plain object subject. Undefined when there are none.
   */
  resourcesWithSubject(subject: SubjectRef, resourceType: string, relation: string): IdSet | undefined;

  /**
   * reverseTable is the reverse index of one (subject type and relation, resource type and
   * relation), by subject number: entry n is resourcesWithSubject for `subjectType:x#subjectRelation`
   * where x has number n (undefined when none). For joins over many subjects at once; the table
   * is the index's own and changes with it: read it within one synchronous computation only.
   */
  reverseTable(subjectType: string, subjectRelation: string | undefined, resourceType: string, relation: string): ReadonlyArray<IdSet | undefined> | undefined;

  /**
   * resourcesWithSpecials are the resources of `resourceType` whose `relation` holds some special
   * (caveated or expiring) relationship (see Posting.special), or undefined if none does. Every
   * object a special relationship names as subject is interned (has a number), as are all others.
   */
  resourcesWithSpecials(resourceType: string, relation: string): IdSet | undefined;

  /**
   * isClosed tells whether relation `type#relation` is in the nested-membership closure: a relation
   * (not a permission) whose allowed subjects carry no caveat and no expiration, that holds no
   * caveated or expiring relationship (it could only if the schema and the data disagreed), and
   * whose userset subjects (`group#member`) all name relations that are themselves closed
   * (computed as the greatest such set, so `member: user | group#member` is closed).
   */
  isClosed(type: string, relation: string): boolean;

  /**
   * memberships is the Leopard-style closure for `subject`: for each closed relation key
   * (`type#relation`), the objects x such that `subject` is in `type:x#relation` through any chain
   * of closed relations, in the semantics of the plain walk (an exact subject, the subject type's
   * wildcard `T:*` (which matches usersets of T too), or a userset that in turn holds; a userset
   * subject `T:x#R` with T#R closed holds for itself). Cycles are fine (least fixpoint). The maps
   * returned are owned by the caller's read only: do not keep them past the current revision.
   */
  memberships(subject: SubjectRef): ReadonlyMap<string, IdSet>;

  /**
   * lastChangedAt is the newest revision at which some relationship of `resourceType#relation`
   * was created, replaced or deleted (caveated and expiring ones included), or the revision the
   * index was built at if none changed since. Cache validity is decided with it.
   */
  lastChangedAt(resourceType: string, relation: string): Revision;

  /** stats counts what the index holds. */
  stats(): GraphIndexStats;
}

/** GraphIndexStats: live relationships held (plain + special), interned objects, and when built. */
export interface GraphIndexStats {
  readonly revision: Revision;
  readonly relationships: number;
  readonly specialRelationships: number;
  readonly objects: number;
  readonly closedRelations: number;
  /** buildMs is how long the initial load from the store took. */
  readonly buildMs: number;
}
