import { BugError } from "../tuple/index.ts";
import { isOnPath, subproblemKey } from "./dispatcher.ts";
import type { DispatchCheckRequest, DispatchCheckResult, Dispatcher } from "./dispatcher.ts";
import { DepthExceededError } from "./errors.ts";

/**
 * MemoEntry is a remembered answer. `cuts` is undefined for a final answer; for a provisional
 * DENIED it holds the in-progress subproblems the answer still assumes denied (see below).
 */
interface MemoEntry {
  readonly result: DispatchCheckResult;
  cuts: Set<string> | undefined;
}

/**
 * RequestMemoDispatcher remembers subproblem answers for the lifetime of one request (one check,
 * or every item of one batch), so that a subproblem reached along several paths is computed once,
 * cycles in the data included. A remembered answer is reused only where enough depth remains to
 * have computed it, so that memoization never turns a depth error into an answer; a depth failure
 * is remembered too, and reused where no more depth remains than when it failed.
 *
 * Why answers that met a cycle cut may be reused. The LocalDispatcher answers an ancestor met
 * again (a cycle) DENIED for that branch. Without a subtraction on the way, every operator is
 * monotone (union, intersection, arrows, caveat gates), and the schema's meaning is the least
 * fixpoint. Two facts follow, where "X with C pinned" is X's least-fixpoint value when the
 * subproblems C are forced to denied:
 * 1. An answer computed with cuts C is exactly X with C pinned (a minimal derivation of an allowed
 *    X never visits a node twice on one branch, so cutting repeats loses nothing else). Pinning
 *    only lowers values, so an ALLOWED answer is final whatever its cuts, and a DENIED answer
 *    stays DENIED under any superset of C: it is reused wherever every key of C is in progress on
 *    the current path (and so is pinned there too).
 * 2. When subproblem K finishes DENIED with cuts C_K (K with C_K pinned is denied), pinning K
 *    changes nothing once C_K is pinned, so an entry that assumed K denied now only assumes C_K:
 *    K is replaced by C_K in its cuts, and an entry left with no cuts is final.
 * In a depth-first evaluation every unresolved cut of an entry stays on the stack until it
 * finishes and is replaced, so a later visit always finds the entry reusable: each subproblem is
 * computed about once, instead of once per simple path through the cycle (exponential in a clique).
 * A CONDITIONAL answer with cuts is not reused (it may grow once the cut is resolved). Where a cut
 * reached the answer through the subtracted side of an exclusion (`cutThroughExclusion`, only in
 * schemas that recurse through a subtraction), monotonicity fails: such an answer is reused only
 * once it has no cuts left, and never resolves the entries that assumed it denied.
 */
export class RequestMemoDispatcher implements Dispatcher {
  readonly #maxDepth: number;
  readonly #memo = new Map<string, MemoEntry>();
  /** #dependents: cut key -> keys of provisional entries whose cuts include it. */
  readonly #dependents = new Map<string, Set<string>>();
  /** #failures: key -> the shallowest depth at which computing it exceeded maxDepth. */
  readonly #failures = new Map<string, { readonly depth: number; readonly error: DepthExceededError }>();
  #delegate: Dispatcher | undefined;

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
  }

  /** setDelegate sets the dispatcher that computes what is not remembered; call it once, before use. */
  setDelegate(delegate: Dispatcher): void {
    this.#delegate = delegate;
  }

  async dispatchCheck(request: DispatchCheckRequest): Promise<DispatchCheckResult> {
    if (this.#delegate === undefined) throw new BugError("RequestMemoDispatcher used before setDelegate");
    const key = subproblemKey(request);
    const failure = this.#failures.get(key);
    if (failure !== undefined && request.depth >= failure.depth) throw failure.error;
    const entry = this.#memo.get(key);
    if (entry !== undefined && this.#reusable(entry, request)) {
      // The entry's cuts, not the result's: resolution may have replaced or removed some.
      if (entry.cuts === undefined && entry.result.cycleCuts === undefined) return entry.result;
      return { ...entry.result, cycleCuts: entry.cuts === undefined ? undefined : new Set(entry.cuts) };
    }
    let result: DispatchCheckResult;
    try {
      result = await this.#delegate.dispatchCheck(request);
    } catch (error) {
      if (error instanceof DepthExceededError && (failure === undefined || request.depth < failure.depth)) {
        this.#failures.set(key, { depth: request.depth, error });
      }
      throw error;
    }
    return this.#remember(key, result);
  }

  #reusable(entry: MemoEntry, request: DispatchCheckRequest): boolean {
    if (request.depth - 1 + entry.result.depthRequired > this.#maxDepth) return false;
    if (entry.cuts === undefined) return true;
    for (const cut of entry.cuts) {
      if (!isOnPath(request.path, cut)) return false;
    }
    return true;
  }

  /** #remember stores what may be reused (see the class comment) and returns the answer to pass up. */
  #remember(key: string, result: DispatchCheckResult): DispatchCheckResult {
    const cuts = result.cycleCuts;
    const monotone = !result.cutThroughExclusion;
    if (cuts === undefined) {
      this.#memo.set(key, { result, cuts: undefined });
    } else if (monotone && result.membership.permissionship === "allowed") {
      // Final whatever the cuts (fact 1): the parent need not depend on them either.
      const final = { ...result, cycleCuts: undefined };
      this.#memo.set(key, { result: final, cuts: undefined });
      result = final;
    } else if (monotone && result.membership.permissionship === "denied") {
      const own = new Set(cuts);
      this.#memo.set(key, { result, cuts: own });
      for (const cut of own) this.#dependOn(cut, key);
    }
    if (monotone && result.membership.permissionship === "denied") this.#resolve(key, result.cycleCuts);
    return result;
  }

  /** #resolve applies fact 2: `key` finished DENIED assuming `cuts` denied. */
  #resolve(key: string, cuts: ReadonlySet<string> | undefined): void {
    const waiting = this.#dependents.get(key);
    if (waiting === undefined) return;
    this.#dependents.delete(key);
    for (const dependentKey of waiting) {
      const entry = this.#memo.get(dependentKey);
      if (entry?.cuts === undefined || !entry.cuts.delete(key)) continue;
      for (const cut of cuts ?? []) {
        entry.cuts.add(cut);
        this.#dependOn(cut, dependentKey);
      }
      if (entry.cuts.size === 0) entry.cuts = undefined;
    }
  }

  #dependOn(cut: string, dependentKey: string): void {
    let dependents = this.#dependents.get(cut);
    if (dependents === undefined) {
      dependents = new Set();
      this.#dependents.set(cut, dependents);
    }
    dependents.add(dependentKey);
  }
}
