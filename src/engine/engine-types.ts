import type { ObjectRef, SubjectRef } from "../tuple/index.ts";
import type { GraphIndexView } from "../graph/index.ts";
import type { BudgetCharge, BudgetOutcome } from "../store/index.ts";

/** Permissionship is the three-valued answer of a check (DESIGN.md, request semantics 3). */
export type Permissionship = "allowed" | "denied" | "conditional";

/**
 * CheckRequest asks whether `subject` has `permission` (a relation or permission name) on
 * `resource`. `context` is the caller's caveat context. With `onBehalfOf`, `subject` (an actor:
 * an object, no relation) acts for that principal through delegation edges (see delegation.ts):
 * the answer is the principal's, narrowed by the path's scopes, caveats and the actor's ceiling.
 */
export interface CheckRequest {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  readonly onBehalfOf?: ObjectRef | undefined;
}

/**
 * DelegationHop is one edge of a delegation path, actor first: `actor` acts for `principal` (the
 * request's principal: every hop of a chain names it) through `delegation`, the edge written by
 * `grantedBy` (the principal for the last hop, the next hop's actor otherwise). `inScope`: the
 * edge's scope covers the checked `type#permission`; `caveat`: its task caveat's answer
 * ("allowed" without one); `ceiling`: the actor's own answer where its delegation sets a ceiling.
 */
export interface DelegationHop {
  readonly actor: ObjectRef;
  readonly principal: ObjectRef;
  readonly grantedBy: ObjectRef;
  readonly delegation: string;
  readonly grantId: string;
  readonly scope: readonly string[];
  readonly notBefore: Date;
  readonly expiresAt: Date;
  readonly inScope: boolean;
  readonly caveat: Permissionship;
  readonly missingParameters?: readonly string[] | undefined;
  readonly ceiling?: Permissionship | undefined;
  readonly budget?: { readonly limit: number; readonly used: number } | undefined;
}

/**
 * DelegationExplanation says how a check with `onBehalfOf` was decided: the path used (actor
 * first; empty when no live path leads to the principal), the principal's own answer, and, set
 * exactly when the answer is DENIED, `reason` in one sentence: the first along the path ("no live
 * delegation ...", "... is outside the scope of ...", "the budget of ... is spent"), else the
 * principal's ("user:h, on whose behalf ... acts, does not have ...").
 */
export interface DelegationExplanation {
  readonly path: readonly DelegationHop[];
  readonly principal: Permissionship;
  readonly reason?: string | undefined;
}

/**
 * CheckTrace explains a decision: one node per (resource, relation-or-permission) visited, with
 * the operation that combined its children. `cycle` marks a node cut short because it was
 * already being evaluated higher up the same path. `label`, when set, is the part of the schema
 * the node evaluated, in schema syntax, where the operation alone does not say it: an arrow
 * (`parent->view`, `parent.all(view)`), or a permission that is just another name (`view`, for
 * `permission read = view`; its operation is then a union of that one child). An exclusion node
 * lists the base first, then every subtracted side of a chain `a - b - c` that was computed.
 */
export interface CheckTrace {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
  readonly operation: "relation" | "union" | "intersection" | "exclusion" | "arrow" | "nil" | "direct";
  readonly result: Permissionship;
  readonly cycle?: boolean | undefined;
  readonly label?: string | undefined;
  readonly children: readonly CheckTrace[];
}

/**
 * CheckResult is the answer of one check. `missingParameters` is set (non-empty) exactly when
 * `permissionship` is "conditional". `trace` is set when the request asked for one.
 */
export interface CheckResult {
  readonly permissionship: Permissionship;
  readonly missingParameters?: readonly string[] | undefined;
  readonly trace?: CheckTrace | undefined;
  /** delegation: set exactly when the request had `onBehalfOf`. */
  readonly delegation?: DelegationExplanation | undefined;
}

/**
 * ExpandTree is one level of a permission's rewrite tree, SpiceDB-style: leaves list the direct
 * subjects of a relation (usersets such as `group:eng#member` are left unexpanded), inner nodes
 * combine children with the permission's operators. Arrows become a union over the tupleset's
 * subjects of the target expanded on each.
 */
export type ExpandTree =
  | {
      readonly kind: "leaf";
      readonly resource: ObjectRef;
      readonly relation: string;
      readonly subjects: readonly SubjectRef[];
    }
  | {
      readonly kind: "union" | "intersection" | "exclusion";
      readonly resource: ObjectRef;
      readonly relation: string;
      readonly children: readonly ExpandTree[];
    };

/** BudgetCounter is the part of the store that keeps delegation budgets (see Store.chargeBudgets). */
export interface BudgetCounter {
  chargeBudgets(charges: readonly BudgetCharge[]): Promise<BudgetOutcome>;
  budgetUsage(grantIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

/** EngineOptions bound the work one request may do. */
export interface EngineOptions {
  /** maxDepth bounds recursion (dispatch hops); past it a check fails with DepthExceededError. Default 50. */
  readonly maxDepth: number;
  /**
   * maxDispatches bounds the subproblems one check (one item of a batch) may visit, memoized ones
   * included; past it the check fails with DispatchLimitExceededError. Default 100,000.
   */
  readonly maxDispatches: number;
  /**
   * maxExpandNodes bounds the nodes of one expand tree; past it the expand fails with
   * ExpandLimitExceededError. Default 10,000.
   */
  readonly maxExpandNodes: number;
  /**
   * cacheEntries bounds the cross-request cache of check answers and subproblems (least recently
   * used first out); 0 disables it. Used only by an engine given a graph index. Default 100,000.
   */
  readonly cacheEntries: number;
  /**
   * lookupCacheResults bounds the cross-request cache of what the index decided for lookups, in
   * objects over all entries (see LookupCache); 0 disables it, as does a cacheEntries of 0. Used
   * only by an engine given a graph index. Default 1,000,000 (about 8 MB of numbers and hashes).
   */
  readonly lookupCacheResults: number;
}

/**
 * EngineStats counts since the engine started. `cache`: top-level checks answered from the cache
 * (`hits`) or looked up in vain (`misses`), and the entries held (subproblems included);
 * `indexed`: checks the IndexedEvaluator answered; `fallbacks`: checks of an engine with an index
 * that the plain walk answered (traced checks and schemas the index does not follow included).
 * All zero for an engine without an index, but `lookups`.
 */
export interface EngineStats {
  readonly cache: { readonly hits: number; readonly misses: number; readonly entries: number };
  readonly indexed: number;
  readonly fallbacks: number;
  readonly lookups: LookupStats;
}

/**
 * LookupStats counts lookups by how their candidates were found: `fromIndex` set-at-a-time on the
 * graph index, `fromStore` by reading every candidate from the store (no usable index, or the
 * index gave up); `checkedCandidates` counts the candidates that needed a check (undecided by the
 * index: caveats, expiry; or every candidate of a lookup from the store).
 */
export interface LookupStats {
  readonly fromIndex: number;
  /** cacheHits: lookups whose index evaluation (the candidates, or that it gave up) came from the lookup cache. */
  readonly cacheHits: number;
  readonly fromStore: number;
  readonly checkedCandidates: number;
}

/**
 * EngineDependencies are the engine's optional collaborators: `index` (or `follower`), a graph
 * index following the same store as the readers the engine is given, turns on the fast path.
 */
export interface EngineDependencies {
  readonly index?: GraphIndexView | undefined;
  /** budgets counts uses of budgeted delegation edges (the store); without it, checks through such an edge fail. */
  readonly budgets?: BudgetCounter | undefined;
  /** follower: instead of `index`, whatever index it holds now (a GraphIndexFollower replaces its index when it reloads). */
  readonly follower?: { readonly index: GraphIndexView } | undefined;
}

/**
 * RequestOptions are per call: `trace` asks check for an explanation; `signal` aborts a check or
 * expand in progress (it then rejects with RequestAbortedError), e.g. when the client cancels.
 */
export interface RequestOptions {
  readonly trace?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}
