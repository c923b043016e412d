import { GIVE_UP } from "./fall-back.ts";

/** FixpointOptions: the value of a subproblem not computed yet, how to compare two values, and the work bound. */
export interface FixpointOptions<V> {
  readonly empty: V;
  /** same tells whether two values of one subproblem are equal; values only grow, so sizes may do. */
  readonly same: (a: V, b: V) => boolean;
  /** maxSolves bounds the subproblems computed (recomputations included); past it: GIVE_UP. */
  readonly maxSolves: number;
  /**
   * maxHeight bounds how deep subproblems nest (a remembered value counts the depth it took to
   * compute, wherever it is reused) and how many rounds a cycle iterates; past it: GIVE_UP. Given
   * the check's maxDepth, a lookup never answers from sets where a check of one of its objects
   * would have failed for depth: the checks of the fallback then fail the same way.
   */
  readonly maxHeight: number;
}

/** Frame is one subproblem in progress. */
interface Frame {
  /** height: how deep the subproblems below this one nest, itself included. */
  height: number;
  /** lowestCut: the lowest path position a cycle below this frame pointed at (Infinity: none). */
  lowestCut: number;
  /** subtractions: how many subtracted sides of exclusions enclosed this frame when it started. */
  readonly subtractions: number;
}

/**
 * FixpointSolver computes recursively defined values (sets of objects) as the least fixpoint, in
 * the semantics of a check's cycle cut: a subproblem met again on its own path counts as empty
 * there, and the values of a cycle are recomputed from those provisional ones until none changes
 * (every subproblem of one strongly connected component, iterated by the first of them entered).
 * That equals what a check answers for each object as long as values only grow when their inputs
 * grow, which holds for unions, intersections and arrows but not on the subtracted side of an
 * exclusion: a cycle reaching across one gives up (GIVE_UP), as IndexedEvaluator does. Final
 * values are remembered for the solver's life (one request at one revision).
 */
export class FixpointSolver<V> {
  readonly #options: FixpointOptions<V>;
  readonly #final = new Map<string, { readonly value: V; readonly height: number }>();
  readonly #provisional = new Map<string, V>();
  readonly #onPath = new Map<string, number>();
  readonly #frames: Frame[] = [];
  #subtractions = 0;
  #changes = 0;
  #solves = 0;

  constructor(options: FixpointOptions<V>) {
    this.#options = options;
  }

  /** solve is the value of subproblem `key`, computed by `compute` (which may solve others, and this one). */
  solve(key: string, compute: () => V): V {
    const { maxHeight, maxSolves } = this.#options;
    const own = this.#frames.length;
    const parent = this.#frames.at(-1);
    const known = this.#final.get(key);
    if (known !== undefined) {
      if (own + known.height > maxHeight) throw GIVE_UP;
      if (parent !== undefined && known.height + 1 > parent.height) parent.height = known.height + 1;
      return known.value;
    }
    const position = this.#onPath.get(key);
    if (position !== undefined) {
      if ((this.#frames[position]?.subtractions ?? 0) < this.#subtractions) throw GIVE_UP;
      if (parent !== undefined && position < parent.lowestCut) parent.lowestCut = position;
      return this.#provisional.get(key) ?? this.#options.empty;
    }
    if (own + 1 > maxHeight) throw GIVE_UP;
    const frame: Frame = { height: 1, lowestCut: Infinity, subtractions: this.#subtractions };
    this.#frames.push(frame);
    this.#onPath.set(key, own);
    let value: V;
    try {
      for (let round = 1; ; round++) {
        if (++this.#solves > maxSolves || round > maxHeight) throw GIVE_UP;
        const changesBefore = this.#changes;
        frame.lowestCut = Infinity;
        value = compute();
        if (frame.lowestCut !== Infinity) this.#remember(key, value);
        // Only the first subproblem of a cycle iterates; the others are recomputed by it.
        if (frame.lowestCut !== own || this.#changes === changesBefore) break;
      }
    } finally {
      this.#frames.pop();
      this.#onPath.delete(key);
    }
    if (frame.lowestCut >= own) {
      this.#final.set(key, { value, height: frame.height });
    } else if (parent !== undefined && frame.lowestCut < parent.lowestCut) {
      parent.lowestCut = frame.lowestCut;
    }
    if (parent !== undefined && frame.height + 1 > parent.height) parent.height = frame.height + 1;
    return value;
  }

  /**
   * deepen records that the subproblem being computed needed `levels` more levels of nesting than
   * the subproblems it solved (a walk that it made itself, e.g. one level of a hierarchy a round),
   * with the same bound: GIVE_UP past maxHeight.
   */
  deepen(levels: number): void {
    const own = this.#frames.length - 1;
    const frame = this.#frames[own];
    if (frame === undefined) return;
    frame.height += levels;
    if (own + frame.height > this.#options.maxHeight) throw GIVE_UP;
  }

  /** subtracting runs `evaluate` as the subtracted side of an exclusion. */
  subtracting<T>(evaluate: () => T): T {
    this.#subtractions++;
    try {
      return evaluate();
    } finally {
      this.#subtractions--;
    }
  }

  #remember(key: string, value: V): void {
    const before = this.#provisional.get(key) ?? this.#options.empty;
    if (!this.#options.same(before, value)) {
      this.#provisional.set(key, value);
      this.#changes++;
    }
  }
}
