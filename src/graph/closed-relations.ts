import type { Schema } from "../schema/index.ts";

/**
 * ClosedRelations is the part of a schema the membership closure follows: the closed relations
 * (see GraphIndexView.isClosed), keyed `type#relation`, and for each the userset subject keys and
 * wildcard subject types its schema allows. The closure follows exactly the edges the plain walk
 * would: a userset subject is followed only where the relation allows its `type#relation`, a
 * wildcard matched only where the relation allows `type:*`.
 *
 * The closure ignores caveated and expiring relationships, so a relation is closed only while it
 * holds none: `holdsSpecial` names the relations that hold some although their schema allows none
 * (the schema and the data disagree, e.g. an index replaying history with a schema from another
 * revision); they are open, and so is every relation that names them.
 */
export class ClosedRelations {
  readonly #usersets = new Map<string, ReadonlySet<string>>();
  readonly #wildcards = new Map<string, ReadonlySet<string>>();
  // The relations whose schema allows no caveat or expiry: closed unless they hold special ones.
  readonly #unconditional = new Set<string>();

  constructor(schema: Schema | undefined, holdsSpecial: (key: string) => boolean = () => false) {
    if (schema === undefined) return;
    const candidates = new Map<string, { usersets: Set<string>; wildcards: Set<string> }>();
    for (const definition of schema.definitions.values()) {
      for (const relation of definition.relations.values()) {
        const unconditional = relation.allowedSubjects.every((allowed) => allowed.caveat === undefined && !allowed.expiration);
        if (!unconditional) continue;
        const key = relationKey(definition.name, relation.name);
        this.#unconditional.add(key);
        if (holdsSpecial(key)) continue;
        const usersets = new Set<string>();
        const wildcards = new Set<string>();
        for (const allowed of relation.allowedSubjects) {
          if (allowed.relation !== undefined) usersets.add(relationKey(allowed.type, allowed.relation));
          if (allowed.wildcard) wildcards.add(allowed.type);
        }
        candidates.set(key, { usersets, wildcards });
      }
    }
    // The greatest closed set: drop relations that name an open one until none does. A key that is
    // a permission or names nothing was never a candidate, so it drops its users at once.
    let dropped = true;
    while (dropped) {
      dropped = false;
      for (const [key, { usersets }] of candidates) {
        if ([...usersets].some((userset) => !candidates.has(userset))) {
          candidates.delete(key);
          dropped = true;
        }
      }
    }
    for (const [key, { usersets, wildcards }] of candidates) {
      this.#usersets.set(key, usersets);
      this.#wildcards.set(key, wildcards);
    }
  }

  /** size is the number of closed relations. */
  get size(): number {
    return this.#usersets.size;
  }

  /** keys lists the closed relation keys. */
  keys(): IterableIterator<string> {
    return this.#usersets.keys();
  }

  isClosed(key: string): boolean {
    return this.#usersets.has(key);
  }

  /**
   * dependsOnSpecials: whether relation `key` holding special relationships, or ceasing to, changes
   * the closed set (its schema allows none); for any other relation they are expected.
   */
  dependsOnSpecials(key: string): boolean {
    return this.#unconditional.has(key);
  }

  /** allowsUserset: closed relation `parentKey` may hold usersets `childKey` (then closed too). */
  allowsUserset(parentKey: string, childKey: string): boolean {
    return this.#usersets.get(parentKey)?.has(childKey) ?? false;
  }

  /** allowsWildcard: closed relation `key` may hold `subjectType:*`. */
  allowsWildcard(key: string, subjectType: string): boolean {
    return this.#wildcards.get(key)?.has(subjectType) ?? false;
  }
}

/** relationKey is `type#relation`, the key of a relation and of a subject group of usersets. */
export function relationKey(type: string, relation: string): string {
  return `${type}#${relation}`;
}

/** subjectGroupKey is the group a subject falls in: `user` for objects, `group#member` for usersets. */
export function subjectGroupKey(type: string, relation: string | undefined): string {
  return relation === undefined ? type : relationKey(type, relation);
}
