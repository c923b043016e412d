import { BugError, WILDCARD_ID, assertNever } from "../tuple/index.ts";
import type { Relationship, Revision, SubjectRef } from "../tuple/index.ts";
import { compileSchema } from "../schema/index.ts";
import type { Schema } from "../schema/index.ts";
import type { ChangeSet } from "../store/index.ts";
import { ClosedRelations, relationKey, subjectGroupKey } from "./closed-relations.ts";
import type { GraphIndexStats, GraphIndexView, IdSet } from "./graph-types.ts";
import { MembershipClosure } from "./membership-closure.ts";
import type { ClosureEdges } from "./membership-closure.ts";
import { MutableIdSet } from "./mutable-id-set.ts";
import { ObjectInterner } from "./object-interner.ts";
import { PostingEntry } from "./posting-entry.ts";

/** BROKEN_REVISION is the revision of an index that a failed apply left half-changed: below every real revision. */
export const BROKEN_REVISION: Revision = -1;

/**
 * GraphIndex is the graph index itself: the GraphIndexView the engine reads, and the mutations
 * that only src/graph calls. Its life: construct at the revision of a load, `addLoaded` every
 * relationship live there, `finishLoad` (which builds the closure), then `apply` each later change
 * set in revision order.
 *
 * Layout (numbers are interned object numbers, see ObjectInterner):
 * - forward: resource type → relation → resource number → PostingEntry;
 * - reverse: subject group key (`user`, `group#member`) → `type#relation` → subject number → the
 *   resource numbers holding that subject in a plain relationship;
 * - wildcard holders: subject type T → `type#relation` → the resources holding plain `T:*`;
 * - the membership closure over closed relations (MembershipClosure): userset edges only, as a
 *   wildcard matches the checked subject's own type and nothing reached on the way (memberships).
 *
 * A relation is closed only while none of its postings holds a special (caveated or expiring)
 * relationship, whatever its schema says: the closure cannot see those, and a schema that forbids
 * them may still meet them (it was written after them, or a bug paired the wrong revisions). The
 * index counts special relationships per relation, and when a relation whose schema forbids them
 * starts or stops holding some, it recomputes the closed relations and rebuilds the closure at the
 * end of that change set (a rebuild, but only on such a disagreement; relations whose schema allows
 * specials are never closed, so their counts change nothing).
 */
export class GraphIndex implements GraphIndexView {
  #revision: Revision;
  #schema: Schema | undefined;
  #closed: ClosedRelations;
  readonly #builtAt: Revision;
  #buildMs = 0;
  #loading = true;
  #plainCount = 0;
  #specialCount = 0;
  // A relation that decides closedness started or stopped holding specials: #closed is stale.
  #closedStale = false;
  readonly #objects = new ObjectInterner();
  readonly #forward = new Map<string, Map<string, (PostingEntry | undefined)[]>>();
  readonly #reverse = new Map<string, Map<string, (MutableIdSet | undefined)[]>>();
  readonly #wildcardHolders = new Map<string, Map<string, MutableIdSet>>();
  // `type#relation` → the resources holding some special relationship in it (absent: none, so
  // a key's presence is also whether the relation holds specials at all).
  readonly #specialHolders = new Map<string, MutableIdSet>();
  readonly #lastChanged = new Map<string, Revision>();
  readonly #closure: MembershipClosure;

  /** The index starts empty at `revision` (the revision its load reads), in loading mode. */
  constructor(revision: Revision, schema: Schema | undefined) {
    this.#revision = revision;
    this.#builtAt = revision;
    this.#schema = schema;
    this.#closed = new ClosedRelations(schema);
    this.#closure = new MembershipClosure(this.#closureEdges());
  }

  /** revision is the revision the index reflects, or BROKEN_REVISION once an apply failed half-way (see apply). */
  get revision(): Revision {
    return this.#revision;
  }

  get schema(): Schema | undefined {
    return this.#schema;
  }

  /** addLoaded adds one relationship live at the load's revision (before finishLoad). */
  addLoaded(relationship: Relationship): void {
    if (!this.#loading) throw new BugError("addLoaded after finishLoad: later relationships come through apply");
    this.#add(relationship);
  }

  /** finishLoad ends the load: builds the closure and records how long the load took. */
  finishLoad(buildMs: number): void {
    this.#loading = false;
    this.#buildMs = buildMs;
    this.#closed = this.#closedRelations();
    this.#closedStale = false;
    this.#closure.rebuild();
  }

  /**
   * apply applies the change set committed at `changeSet.revision`, newer than the index's, in one
   * synchronous step. A change set with `schemaChanged` carries the schema text written at its
   * revision (compiled here, before anything changes; the closure is rebuilt for it); without the
   * text it throws BugError. If applying fails half-way (a bug), the index no longer equals any
   * revision: its revision becomes BROKEN_REVISION, which no read asks for, so nothing is answered
   * from it until the follower has loaded a fresh one.
   */
  apply(changeSet: ChangeSet): void {
    if (this.#loading) throw new BugError("apply before finishLoad");
    if (changeSet.revision <= this.#revision) {
      throw new BugError(`change set of revision ${changeSet.revision} applied to an index at revision ${this.#revision}`);
    }
    let schema = this.#schema;
    if (changeSet.schemaChanged) {
      if (changeSet.schema === undefined) throw new BugError(`schema change at revision ${changeSet.revision} came without the schema text written at it`);
      schema = compileSchema(changeSet.schema);
    }
    try {
      this.#applyChanges(changeSet, schema);
    } catch (error) {
      this.#revision = BROKEN_REVISION;
      throw error;
    }
    this.#revision = changeSet.revision;
  }

  #applyChanges(changeSet: ChangeSet, schema: Schema | undefined): void {
    for (const { operation, relationship } of changeSet.changes) {
      switch (operation) {
        case "touch":
          this.#touch(relationship);
          break;
        case "delete":
          this.#remove(relationship);
          break;
        default:
          assertNever(operation, "change operation");
      }
      this.#lastChanged.set(relationKey(relationship.resource.type, relationship.relation), changeSet.revision);
    }
    if (schema !== this.#schema) {
      this.#schema = schema;
      this.#closedStale = true;
    }
    if (this.#closedStale) {
      this.#closed = this.#closedRelations();
      this.#closedStale = false;
      this.#closure.rebuild();
    }
  }

  numberOf(type: string, id: string): number | undefined {
    return this.#objects.numberOf(type, id);
  }

  idOf(type: string, n: number): string {
    return this.#objects.idOf(type, n);
  }

  idHashes(type: string, numbers: Uint32Array): Uint32Array {
    return this.#objects.hashesOf(type, numbers);
  }

  posting(resourceType: string, resourceNumber: number, relation: string): PostingEntry | undefined {
    return this.#forward.get(resourceType)?.get(relation)?.[resourceNumber];
  }

  resourcesWithSpecials(resourceType: string, relation: string): IdSet | undefined {
    return this.#specialHolders.get(relationKey(resourceType, relation));
  }

  /**
   * resourcesWithSubject: see GraphIndexView. Asked for a wildcard subject (`user:*`), it answers
   * the resources holding that wildcard literally.
   */
  resourcesWithSubject(subject: SubjectRef, resourceType: string, relation: string): IdSet | undefined {
    const key = relationKey(resourceType, relation);
    if (subject.id === WILDCARD_ID) return subject.relation === undefined ? this.#wildcardHolders.get(subject.type)?.get(key) : undefined;
    const n = this.#objects.numberOf(subject.type, subject.id);
    if (n === undefined) return undefined;
    return this.#reverse.get(subjectGroupKey(subject.type, subject.relation))?.get(key)?.[n];
  }

  reverseTable(subjectType: string, subjectRelation: string | undefined, resourceType: string, relation: string): ReadonlyArray<IdSet | undefined> | undefined {
    return this.#reverse.get(subjectGroupKey(subjectType, subjectRelation))?.get(relationKey(resourceType, relation));
  }

  isClosed(type: string, relation: string): boolean {
    return this.#closed.isClosed(relationKey(type, relation));
  }

  /**
   * memberships: see GraphIndexView. The subject's direct holders are the closed usersets holding
   * it exactly (the reverse index) and those holding its type's wildcard; each brings its stored
   * ancestors. A wildcard is not an edge of the closure: the plain walk checks the same subject all
   * the way down, so `T:*` matches only when the subject itself is of type T, never because some
   * userset of type T was passed on the way. A userset subject that no relationship ever named
   * has no number, so it cannot appear in the result (nor in any posting).
   */
  memberships(subject: SubjectRef): ReadonlyMap<string, IdSet> {
    const result = new Map<string, MutableIdSet>();
    const join = (key: string, n: number): void => {
      let set = result.get(key);
      if (set === undefined) result.set(key, (set = new MutableIdSet()));
      // A node already in the result came with its ancestors (or within a node's, which hold its own).
      if (!set.add(n)) return;
      for (const [ancestorKey, ancestors] of this.#closure.ancestorsOf(key, n) ?? []) {
        let into = result.get(ancestorKey);
        if (into === undefined) result.set(ancestorKey, (into = new MutableIdSet()));
        into.addAll(ancestors);
      }
    };

    const n = subject.id === WILDCARD_ID ? undefined : this.#objects.numberOf(subject.type, subject.id);
    if (n !== undefined) {
      const groupKey = subjectGroupKey(subject.type, subject.relation);
      if (subject.relation !== undefined && this.#closed.isClosed(groupKey)) join(groupKey, n);
      for (const [key, bySubject] of this.#reverse.get(groupKey) ?? []) {
        if (!this.#closed.isClosed(key)) continue;
        for (const x of bySubject[n]?.values() ?? []) join(key, x);
      }
    }
    for (const [key, holders] of this.#wildcardHolders.get(subject.type) ?? []) {
      if (!this.#closed.allowsWildcard(key, subject.type)) continue;
      for (const x of holders.values()) join(key, x);
    }
    return result;
  }

  lastChangedAt(resourceType: string, relation: string): Revision {
    return this.#lastChanged.get(relationKey(resourceType, relation)) ?? this.#builtAt;
  }

  stats(): GraphIndexStats {
    return {
      revision: this.#revision,
      relationships: this.#plainCount + this.#specialCount,
      specialRelationships: this.#specialCount,
      objects: this.#objects.size,
      closedRelations: this.#closed.size,
      buildMs: this.#buildMs,
    };
  }

  // A touch creates or replaces. Re-touching a plain relationship as plain changes nothing, and is
  // kept from removing and re-adding its closure edge (a removal recomputes descendants).
  #touch(relationship: Relationship): void {
    if (!isSpecial(relationship) && this.#holdsPlain(relationship)) return;
    this.#remove(relationship);
    this.#add(relationship);
  }

  #holdsPlain({ resource, relation, subject }: Relationship): boolean {
    const r = this.#objects.numberOf(resource.type, resource.id);
    const entry = r === undefined ? undefined : this.posting(resource.type, r, relation);
    if (entry === undefined) return false;
    if (subject.id === WILDCARD_ID) return entry.wildcards.has(subject.type);
    const s = this.#objects.numberOf(subject.type, subject.id);
    return s !== undefined && (entry.groups.get(subjectGroupKey(subject.type, subject.relation))?.has(s) ?? false);
  }

  #add(relationship: Relationship): void {
    const { resource, relation, subject } = relationship;
    const r = this.#objects.intern(resource.type, resource.id);
    const entry = this.#entryForUpdate(resource.type, relation, r);
    const key = relationKey(resource.type, relation);
    if (isSpecial(relationship)) {
      entry.addSpecial(relationship);
      // Interned so that every object some relationship names has a number (lookups rely on it).
      if (subject.id !== WILDCARD_ID) this.#objects.intern(subject.type, subject.id);
      const hadSpecials = this.#specialHolders.has(key);
      setFor(this.#specialHolders, key).add(r);
      this.#specialCount++;
      if (!hadSpecials) this.#specialsStartedOrStopped(key);
      return;
    }
    if (subject.id === WILDCARD_ID) {
      if (!entry.addWildcard(subject.type)) return;
      setIn(this.#wildcardHolders, subject.type, key).add(r);
      this.#plainCount++;
      return;
    }
    const s = this.#objects.intern(subject.type, subject.id);
    const groupKey = subjectGroupKey(subject.type, subject.relation);
    if (!entry.addPlain(groupKey, s)) return;
    this.#plainCount++;
    const bySubject = mapIn(this.#reverse, groupKey, key);
    (bySubject[s] ??= new MutableIdSet()).add(r);
    if (!this.#loading && subject.relation !== undefined && this.#closed.allowsUserset(key, groupKey)) {
      this.#closure.edgeAdded(key, r, groupKey, s);
    }
  }

  #remove({ resource, relation, subject }: Relationship): void {
    const r = this.#objects.numberOf(resource.type, resource.id);
    const postings = this.#forward.get(resource.type)?.get(relation);
    const entry = r === undefined ? undefined : postings?.[r];
    if (r === undefined || postings === undefined || entry === undefined) return;
    const key = relationKey(resource.type, relation);
    if (entry.removeSpecial(subject)) {
      if (entry.special.length === 0) {
        const holders = this.#specialHolders.get(key);
        holders?.delete(r);
        if (holders?.size === 0) {
          this.#specialHolders.delete(key);
          this.#specialsStartedOrStopped(key);
        }
      }
      this.#specialCount--;
    } else if (subject.id === WILDCARD_ID) {
      if (entry.removeWildcard(subject.type)) {
        this.#plainCount--;
        const holders = this.#wildcardHolders.get(subject.type);
        holders?.get(key)?.delete(r);
        if (holders?.get(key)?.size === 0) holders.delete(key);
      }
    } else {
      const s = this.#objects.numberOf(subject.type, subject.id);
      const groupKey = subjectGroupKey(subject.type, subject.relation);
      if (s !== undefined && entry.removePlain(groupKey, s)) {
        this.#plainCount--;
        const bySubject = this.#reverse.get(groupKey)?.get(key);
        const resources = bySubject?.[s];
        if (bySubject === undefined || resources === undefined) throw new BugError(`reverse index lacks ${groupKey} ${s} → ${key} ${r}`);
        resources.delete(r);
        if (resources.size === 0) bySubject[s] = undefined;
        if (subject.relation !== undefined && this.#closed.allowsUserset(key, groupKey)) this.#closure.edgeRemoved(key, r, groupKey, s);
      }
    }
    if (entry.isEmpty) postings[r] = undefined;
  }

  // The closed relations of the index's schema, given the specials it holds now.
  #closedRelations(): ClosedRelations {
    return new ClosedRelations(this.#schema, (key) => this.#specialHolders.has(key));
  }

  // A relation started or stopped holding specials: that alone can open or close a relation
  // (during a load, finishLoad computes the closed relations once at the end).
  #specialsStartedOrStopped(key: string): void {
    if (!this.#loading && this.#closed.dependsOnSpecials(key)) this.#closedStale = true;
  }

  #entryForUpdate(resourceType: string, relation: string, r: number): PostingEntry {
    let byRelation = this.#forward.get(resourceType);
    if (byRelation === undefined) this.#forward.set(resourceType, (byRelation = new Map()));
    let postings = byRelation.get(relation);
    if (postings === undefined) byRelation.set(relation, (postings = []));
    return (postings[r] ??= new PostingEntry());
  }

  // The closure's view of the edges: plain userset relationships its schema allows.
  #closureEdges(): ClosureEdges {
    return {
      forEachChild: (key, n, visit) => {
        const entry = this.posting(typeOfKey(key), n, key.slice(key.indexOf("#") + 1));
        for (const [groupKey, set] of entry?.groups ?? []) {
          if (!this.#closed.allowsUserset(key, groupKey)) continue;
          for (const m of set.values()) visit(groupKey, m);
        }
      },
      forEachParent: (key, n, visit) => {
        for (const [parentKey, bySubject] of this.#reverse.get(key) ?? []) {
          if (!this.#closed.allowsUserset(parentKey, key)) continue;
          for (const x of bySubject[n]?.values() ?? []) visit(parentKey, x);
        }
      },
      forEachNodeWithParents: (visit) => {
        for (const [groupKey, byRelation] of this.#reverse) {
          for (const [parentKey, bySubject] of byRelation) {
            if (!this.#closed.allowsUserset(parentKey, groupKey)) continue;
            bySubject.forEach((resources, s) => {
              if (resources !== undefined) visit(groupKey, s);
            });
          }
        }
      },
    };
  }
}

/** isSpecial: a caveat or an expiry keeps a relationship out of the plain sets (see Posting). */
function isSpecial(relationship: Relationship): boolean {
  return relationship.caveat !== undefined || relationship.expiresAt !== undefined;
}

function typeOfKey(key: string): string {
  const at = key.indexOf("#");
  return at < 0 ? key : key.slice(0, at);
}

function mapIn<V>(outer: Map<string, Map<string, V[]>>, a: string, b: string): V[] {
  let inner = outer.get(a);
  if (inner === undefined) outer.set(a, (inner = new Map()));
  let value = inner.get(b);
  if (value === undefined) inner.set(b, (value = []));
  return value;
}

function setIn(outer: Map<string, Map<string, MutableIdSet>>, a: string, b: string): MutableIdSet {
  let inner = outer.get(a);
  if (inner === undefined) outer.set(a, (inner = new Map()));
  let value = inner.get(b);
  if (value === undefined) inner.set(b, (value = new MutableIdSet()));
  return value;
}

function setFor(sets: Map<string, MutableIdSet>, key: string): MutableIdSet {
  let value = sets.get(key);
  if (value === undefined) sets.set(key, (value = new MutableIdSet()));
  return value;
}
