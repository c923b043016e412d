import { MutableIdSet } from "./mutable-id-set.ts";

/**
 * ClosureEdges is how the closure reads the direct edges between nodes (usersets `T:x#R` of closed
 * relations) from the index's postings. An edge parent → child is a plain relationship
 * `parent@child` that the parent's relation allows (see ClosedRelations.allowsUserset). Nodes are
 * named by their relation key (`group#member`) and object number.
 */
export interface ClosureEdges {
  forEachChild(key: string, n: number, visit: (childKey: string, m: number) => void): void;
  forEachParent(key: string, n: number, visit: (parentKey: string, x: number) => void): void;
  /** forEachNodeWithParents visits every node that is the child of at least one edge. */
  forEachNodeWithParents(visit: (key: string, n: number) => void): void;
}

/** Ancestors is a node's flattened ancestors, by relation key. */
type Ancestors = ReadonlyMap<string, MutableIdSet>;

// Nodes are packed into one number: the index of their key times 2^32 plus the object number, so
// that sets of nodes are plain Sets of numbers (both parts stay far below 2^53).
const KEY_STRIDE = 2 ** 32;

/**
 * MembershipClosure keeps, for every node with at least one parent, its ANCESTORS: every node that
 * contains it directly or through a chain of edges, itself excluded (a node with no parent has
 * none, and stores nothing). Cycles are plain reachability, the least fixpoint.
 *
 * Descendants are not stored: an edge change finds them by walking the postings downwards, the
 * same O(|descendants|) that reading stored ones would take, without their memory.
 *
 * - Adding parent → child: every descendant of the child (itself included) gains the parent and
 *   the parent's ancestors; the walk stops at nodes that already have the parent, because
 *   ancestors are transitively closed (P ∈ ANC(d) implies ANC(P) ⊆ ANC(d)).
 * - Removing parent → child: only the child and its descendants D can lose ancestors (a path
 *   upwards through the removed edge passes through the child), and only the parent and its
 *   ancestors A can be lost. For each node of D an upward walk finds which of A it still reaches:
 *   it expands the nodes of D and takes the stored ancestors of nodes outside D as they are (none
 *   of those can reach D). Cost: for each node of D, its parents within D's upward subgraph
 *   (every parent is listed, a document shared with a group included) plus, for each parent
 *   outside D, the smaller of |its ancestors ∩ keys of A| and |A| set lookups; nothing is
 *   rebuilt, the lost ancestors are deleted in place.
 */
export class MembershipClosure {
  readonly #edges: ClosureEdges;
  readonly #keyIndex = new Map<string, number>();
  readonly #keys: string[] = [];
  readonly #ancestors = new Map<number, Map<string, MutableIdSet>>();

  constructor(edges: ClosureEdges) {
    this.#edges = edges;
  }

  /** ancestorsOf is the flattened ancestors of node `key`/`n`, undefined when it has none. */
  ancestorsOf(key: string, n: number): Ancestors | undefined {
    const index = this.#keyIndex.get(key);
    return index === undefined ? undefined : this.#ancestors.get(index * KEY_STRIDE + n);
  }

  /** rebuild recomputes every node's ancestors from the edges. */
  rebuild(): void {
    this.#ancestors.clear();
    const all = new Set<number>();
    this.#edges.forEachNodeWithParents((key, n) => all.add(this.#node(key, n)));
    this.#recompute(all);
  }

  /** edgeAdded updates the closure after the edge parent → child appeared. */
  edgeAdded(parentKey: string, p: number, childKey: string, c: number): void {
    const parent = this.#node(parentKey, p);
    const gained = new Map<string, MutableIdSet>([[parentKey, new MutableIdSet([p])]]);
    for (const [key, set] of this.#ancestors.get(parent) ?? []) {
      let into = gained.get(key);
      if (into === undefined) gained.set(key, (into = new MutableIdSet()));
      into.addAll(set);
    }
    const seen = new Set<number>();
    const queue = [this.#node(childKey, c)];
    for (let node = queue.pop(); node !== undefined; node = queue.pop()) {
      if (seen.has(node)) continue;
      seen.add(node);
      if (node === parent || this.#has(node, parentKey, p)) continue;
      const ancestors = this.#ancestorsForUpdate(node);
      for (const [key, set] of gained) {
        let into = ancestors.get(key);
        if (into === undefined) ancestors.set(key, (into = new MutableIdSet()));
        into.addAll(set);
      }
      // A cycle through the parent brings the node among its own ancestors: they exclude it.
      this.#dropSelf(node, ancestors);
      if (ancestors.size === 0) this.#ancestors.delete(node);
      this.#forEachChildNode(node, (child) => queue.push(child));
    }
  }

  /** edgeRemoved updates the closure after the edge parent → child disappeared. */
  edgeRemoved(parentKey: string, p: number, childKey: string, c: number): void {
    // Only the parent and its ancestors can be lost, and only by the child and its descendants.
    const candidates = new Map<string, MutableIdSet>([[parentKey, new MutableIdSet([p])]]);
    for (const [key, set] of this.#ancestors.get(this.#node(parentKey, p)) ?? []) {
      let into = candidates.get(key);
      if (into === undefined) candidates.set(key, (into = new MutableIdSet()));
      into.addAll(set);
    }
    const affected = this.#descendants(this.#node(childKey, c));
    for (const start of affected) {
      const kept = this.#reachableAmong(start, affected, candidates);
      const ancestors = this.#ancestors.get(start);
      if (ancestors === undefined) continue;
      for (const [key, set] of candidates) {
        const held = ancestors.get(key);
        if (held === undefined) continue;
        const stay = kept.get(key);
        for (const n of set.values()) if (!stay?.has(n)) held.delete(n);
        if (held.size === 0) ancestors.delete(key);
      }
      if (ancestors.size === 0) this.#ancestors.delete(start);
    }
  }

  // The node and every node below it.
  #descendants(start: number): Set<number> {
    const found = new Set<number>();
    const queue = [start];
    for (let node = queue.pop(); node !== undefined; node = queue.pop()) {
      if (found.has(node)) continue;
      found.add(node);
      this.#forEachChildNode(node, (child) => queue.push(child));
    }
    return found;
  }

  // The candidates still reachable upwards from `start`: the walk expands the nodes of `affected`
  // (whose stored ancestors may be stale) and takes the stored ancestors of the others as they
  // are. It updates nothing, so it may run for each node of `affected` in turn, in any order.
  #reachableAmong(start: number, affected: ReadonlySet<number>, candidates: ReadonlyMap<string, MutableIdSet>): Map<string, MutableIdSet> {
    const kept = new Map<string, MutableIdSet>();
    this.#walkUp(
      start,
      affected,
      (parentKey, p) => {
        if (candidates.get(parentKey)?.has(p)) addTo(kept, parentKey, p);
      },
      (ancestors) => {
        for (const [key, candidateSet] of candidates) {
          const held = ancestors.get(key);
          if (held === undefined) continue;
          // Test the smaller set's numbers against the larger one.
          const [fewer, more] = held.size < candidateSet.size ? [held, candidateSet] : [candidateSet, held];
          for (const n of fewer.values()) if (more.has(n)) addTo(kept, key, n);
        }
      },
    );
    return kept;
  }

  // Recomputes from scratch the ancestors of every node of `affected`, trusting the stored
  // ancestors of the nodes outside it (none of which can reach a node of `affected` upwards).
  #recompute(affected: ReadonlySet<number>): void {
    const results = new Map<number, Map<string, MutableIdSet>>();
    for (const start of affected) {
      const result = new Map<string, MutableIdSet>();
      this.#walkUp(
        start,
        affected,
        (parentKey, p) => addTo(result, parentKey, p),
        (ancestors) => {
          for (const [key, set] of ancestors) {
            let into = result.get(key);
            if (into === undefined) result.set(key, (into = new MutableIdSet()));
            into.addAll(set);
          }
        },
      );
      this.#dropSelf(start, result);
      results.set(start, result);
    }
    // Written only now: the walks above read the old ancestors of nodes outside `affected` only.
    for (const [node, result] of results) {
      if (result.size === 0) this.#ancestors.delete(node);
      else this.#ancestors.set(node, result);
    }
  }

  /**
   * #walkUp visits, once each, the parents reachable upwards from `start` (`reached`), expanding
   * those in `affected` and, for each other one, handing its stored ancestors to `stored` instead
   * of going further (they are up to date outside `affected`).
   */
  #walkUp(
    start: number,
    affected: ReadonlySet<number>,
    reached: (parentKey: string, p: number) => void,
    stored: (ancestors: ReadonlyMap<string, MutableIdSet>) => void,
  ): void {
    const seen = new Set<number>([start]);
    const queue = [start];
    for (let node = queue.pop(); node !== undefined; node = queue.pop()) {
      this.#forEachParentNode(node, (parent, parentKey, p) => {
        if (seen.has(parent)) return;
        seen.add(parent);
        reached(parentKey, p);
        if (affected.has(parent)) {
          queue.push(parent);
          return;
        }
        const ancestors = this.#ancestors.get(parent);
        if (ancestors !== undefined) stored(ancestors);
      });
    }
  }

  #node(key: string, n: number): number {
    let index = this.#keyIndex.get(key);
    if (index === undefined) {
      index = this.#keys.length;
      this.#keys.push(key);
      this.#keyIndex.set(key, index);
    }
    return index * KEY_STRIDE + n;
  }

  #keyOf(node: number): string {
    return this.#keys[Math.floor(node / KEY_STRIDE)] as string;
  }

  #has(node: number, key: string, n: number): boolean {
    return this.#ancestors.get(node)?.get(key)?.has(n) ?? false;
  }

  #ancestorsForUpdate(node: number): Map<string, MutableIdSet> {
    let ancestors = this.#ancestors.get(node);
    if (ancestors === undefined) this.#ancestors.set(node, (ancestors = new Map()));
    return ancestors;
  }

  #dropSelf(node: number, ancestors: Map<string, MutableIdSet>): void {
    const key = this.#keyOf(node);
    const set = ancestors.get(key);
    if (set === undefined) return;
    set.delete(node % KEY_STRIDE);
    if (set.size === 0) ancestors.delete(key);
  }

  #forEachChildNode(node: number, visit: (child: number) => void): void {
    this.#edges.forEachChild(this.#keyOf(node), node % KEY_STRIDE, (childKey, m) => visit(this.#node(childKey, m)));
  }

  #forEachParentNode(node: number, visit: (parent: number, parentKey: string, p: number) => void): void {
    this.#edges.forEachParent(this.#keyOf(node), node % KEY_STRIDE, (parentKey, p) => visit(this.#node(parentKey, p), parentKey, p));
  }
}

function addTo(sets: Map<string, MutableIdSet>, key: string, n: number): void {
  let set = sets.get(key);
  if (set === undefined) sets.set(key, (set = new MutableIdSet()));
  set.add(n);
}
