import type { Relationship, SubjectRef } from "../tuple/index.ts";
import type { IdSet, Posting } from "./graph-types.ts";
import { MutableIdSet } from "./mutable-id-set.ts";

const NO_WILDCARDS: ReadonlySet<string> = new Set();
const NO_SPECIAL: readonly Relationship[] = Object.freeze([]);

/**
 * PostingEntry is the mutable Posting of one (resource, relation), and is its own `groups` map.
 * There are millions of postings and most hold one group of subjects and nothing else, so every
 * object counts: a Map costs ~180 bytes even with one entry, and a separate map object 30 more.
 * The first group is held inline, further ones in a flat [key, set, key, set, ...] array; the
 * wildcards and special relationships are created on first use.
 */
export class PostingEntry implements Posting, ReadonlyMap<string, IdSet> {
  #firstKey: string | undefined;
  #firstSet: MutableIdSet | undefined;
  #moreGroups: (string | MutableIdSet)[] | undefined;
  #wildcards: Set<string> | undefined;
  #special: Relationship[] | undefined;

  get groups(): ReadonlyMap<string, IdSet> {
    return this;
  }

  get wildcards(): ReadonlySet<string> {
    return this.#wildcards ?? NO_WILDCARDS;
  }

  get special(): readonly Relationship[] {
    return this.#special ?? NO_SPECIAL;
  }

  get isEmpty(): boolean {
    return this.#firstKey === undefined && this.#wildcards === undefined && this.#special === undefined;
  }

  /** addPlain adds subject number `n` to group `groupKey`; false if it was there. */
  addPlain(groupKey: string, n: number): boolean {
    let set = this.get(groupKey);
    if (set === undefined) {
      set = new MutableIdSet();
      if (this.#firstKey === undefined) {
        this.#firstKey = groupKey;
        this.#firstSet = set;
      } else {
        this.#moreGroups = [...(this.#moreGroups ?? []), groupKey, set];
      }
    }
    return set.add(n);
  }

  /** removePlain removes subject number `n` from group `groupKey`; false if it was not there. */
  removePlain(groupKey: string, n: number): boolean {
    const set = this.get(groupKey);
    if (set === undefined || !set.delete(n)) return false;
    if (set.size === 0) this.#dropGroup(groupKey);
    return true;
  }

  addWildcard(subjectType: string): boolean {
    this.#wildcards ??= new Set();
    if (this.#wildcards.has(subjectType)) return false;
    this.#wildcards.add(subjectType);
    return true;
  }

  removeWildcard(subjectType: string): boolean {
    if (this.#wildcards === undefined || !this.#wildcards.delete(subjectType)) return false;
    if (this.#wildcards.size === 0) this.#wildcards = undefined;
    return true;
  }

  /** addSpecial keeps a caveated or expiring relationship; its subject must not be held already. */
  addSpecial(relationship: Relationship): void {
    this.#special ??= [];
    this.#special.push(relationship);
  }

  /** removeSpecial drops the special relationship to `subject`; false if there was none. */
  removeSpecial(subject: SubjectRef): boolean {
    const special = this.#special;
    if (special === undefined) return false;
    const at = special.findIndex((relationship) => sameSubject(relationship.subject, subject));
    if (at < 0) return false;
    special.splice(at, 1);
    if (special.length === 0) this.#special = undefined;
    return true;
  }

  // ReadonlyMap<string, IdSet>: the groups.

  get size(): number {
    if (this.#firstKey === undefined) return 0;
    return 1 + (this.#moreGroups?.length ?? 0) / 2;
  }

  get(key: string): MutableIdSet | undefined {
    if (this.#firstKey === key) return this.#firstSet;
    const more = this.#moreGroups;
    if (more === undefined) return undefined;
    for (let i = 0; i < more.length; i += 2) {
      if (more[i] === key) return more[i + 1] as MutableIdSet;
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[string, IdSet]> {
    if (this.#firstKey === undefined) return;
    yield [this.#firstKey, this.#firstSet as MutableIdSet];
    const more = this.#moreGroups ?? [];
    for (let i = 0; i < more.length; i += 2) yield [more[i] as string, more[i + 1] as MutableIdSet];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<IdSet> {
    for (const [, set] of this.entries()) yield set;
  }

  [Symbol.iterator](): MapIterator<[string, IdSet]> {
    return this.entries();
  }

  forEach(callback: (value: IdSet, key: string, map: ReadonlyMap<string, IdSet>) => void, thisArg?: unknown): void {
    for (const [key, set] of this.entries()) callback.call(thisArg, set, key, this);
  }

  #dropGroup(key: string): void {
    const more = this.#moreGroups;
    if (this.#firstKey === key) {
      // The next group, if any, moves inline.
      this.#firstKey = more?.[0] as string | undefined;
      this.#firstSet = more?.[1] as MutableIdSet | undefined;
      this.#moreGroups = more === undefined || more.length <= 2 ? undefined : more.slice(2);
      return;
    }
    if (more === undefined) return;
    const at = more.indexOf(key);
    const rest = more.filter((_, i) => i !== at && i !== at + 1);
    this.#moreGroups = rest.length === 0 ? undefined : rest;
  }
}

function sameSubject(a: SubjectRef, b: SubjectRef): boolean {
  return a.type === b.type && a.id === b.id && a.relation === b.relation;
}
