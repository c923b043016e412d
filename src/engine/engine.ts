import { AuthzError, BugError, InvalidArgumentError } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { BudgetDispatcher } from "./budget-dispatcher.ts";
import { CelCaveatEvaluator, evaluateCaveat } from "./caveat-evaluator.ts";
import { checkDelegated } from "./delegated-check.ts";
import type { DelegatedCheckContext, DelegatedCheckRequest } from "./delegated-check.ts";
import { lookupResourcesDelegated } from "./delegated-lookup.ts";
import { contextKeyOf } from "./dispatcher.ts";
import type { DispatchCheckRequest, DispatchCheckResult } from "./dispatcher.ts";
import type {
  BudgetCounter,
  CheckRequest,
  CheckResult,
  DelegationExplanation,
  EngineDependencies,
  EngineOptions,
  EngineStats,
  ExpandTree,
  RequestOptions,
} from "./engine-types.ts";
import { RequestAbortedError } from "./errors.ts";
import { expandPermission } from "./expand.ts";
import { FastPath } from "./fast-path.ts";
import { LocalDispatcher } from "./local-dispatcher.ts";
import { lookupResources, lookupSubjects, resultsOrThrow } from "./lookup.ts";
import { LookupCache } from "./lookup-cache.ts";
import type { LookupContext } from "./lookup.ts";
import type { LookupOptions, LookupResourcesRequest, LookupResult, LookupSubjectsRequest, LookupSubjectsResult } from "./lookup-types.ts";
import { sortedMissingParameters } from "./membership.ts";
import { RequestMemoDispatcher } from "./request-memo-dispatcher.ts";
import { validateCheckRequest, validateLookupResourcesRequest, validateResourcePermission } from "./validate-request.ts";

/** DEFAULTS: SpiceDB's default dispatch depth; the next two bound pathological requests only. */
const DEFAULTS: EngineOptions = { maxDepth: 50, maxDispatches: 100_000, maxExpandNodes: 10_000, cacheEntries: 100_000, lookupCacheResults: 1_000_000 };

const NO_CHECK_STATS: Omit<EngineStats, "lookups"> = { cache: { hits: 0, misses: 0, entries: 0 }, indexed: 0, fallbacks: 0 };

/**
 * Engine answers Check, batch Check and Expand against a reader (one revision of the data) and a
 * compiled schema. Within one call, subproblems are memoized (see RequestMemoDispatcher). Given a
 * graph index (EngineDependencies), checks take the fast path (FastPath): answers from the index
 * and a cross-request cache where they equal the plain walk's, the plain walk otherwise; without
 * one, the engine keeps no state between calls. Expand and traced checks always walk the reader.
 */
export class Engine {
  readonly #options: EngineOptions;
  readonly #fastPath: FastPath | undefined;
  readonly #lookups = { fromIndex: 0, fromStore: 0, checkedCandidates: 0 };
  readonly #lookupCache: LookupCache | undefined;
  readonly #budgets: BudgetCounter | undefined;

  /**
   * Throws InvalidArgumentError (naming the option) unless every limit is a positive integer and
   * cacheEntries a non-negative one, or when both `index` and `follower` are given.
   */
  constructor(options: Partial<EngineOptions> = {}, dependencies: EngineDependencies = {}) {
    const merged = { ...DEFAULTS, ...options };
    for (const field of ["maxDepth", "maxDispatches", "maxExpandNodes"] as const) {
      const value = merged[field];
      if (!Number.isInteger(value) || value < 1) {
        throw new InvalidArgumentError(`${field}: must be a positive integer, got ${value}`, { field });
      }
    }
    for (const field of ["cacheEntries", "lookupCacheResults"] as const) {
      const value = merged[field];
      if (!Number.isInteger(value) || value < 0) {
        throw new InvalidArgumentError(`${field}: must be a non-negative integer (0 disables the cache), got ${value}`, { field });
      }
    }
    this.#options = merged;
    this.#budgets = dependencies.budgets;
    const { index, follower } = dependencies;
    if (index !== undefined && follower !== undefined) {
      throw new InvalidArgumentError("index: give either a graph index or a follower, not both", { field: "index" });
    }
    const currentIndex = index !== undefined ? () => index : follower !== undefined ? () => follower.index : undefined;
    this.#fastPath =
      currentIndex === undefined
        ? undefined
        : new FastPath({ index: currentIndex, maxDepth: merged.maxDepth, maxDispatches: merged.maxDispatches, cacheEntries: merged.cacheEntries });
    const lookupCaching = currentIndex !== undefined && merged.cacheEntries > 0 && merged.lookupCacheResults > 0;
    this.#lookupCache = lookupCaching ? new LookupCache(merged.lookupCacheResults) : undefined;
  }

  /** stats counts the fast path's work since construction (all zero without a graph index). */
  stats(): EngineStats {
    const checks = this.#fastPath?.stats() ?? NO_CHECK_STATS;
    return { ...checks, lookups: { ...this.#lookups, cacheHits: this.#lookupCache?.hits ?? 0 } };
  }

  /**
   * check answers `request`. Rejects with FailedPreconditionError or InvalidArgumentError for a
   * request the schema cannot answer (see validateCheckRequest), DepthExceededError past maxDepth
   * (unless another branch decides the answer), DispatchLimitExceededError past maxDispatches,
   * RequestAbortedError once `options.signal` aborts, CaveatEvaluationError when a caveat's
   * expression fails (a request context value of the wrong type, division by zero, ...). With
   * `onBehalfOf`, the subject acts for that principal (see checkDelegated: the answer explains its
   * path and may count a use of an edge's budget). With `trace`, the result explains itself; without it no trace
   * is built. With a graph index, an untraced check takes the fast path (see FastPath): the same
   * answers and errors, except that nesting through closed relations (nested groups) costs no
   * depth, so it answers where the plain walk would fail with DepthExceededError, and the closure
   * and cache may spare it the DispatchLimitExceededError of a plain walk near the limit.
   */
  async check(reader: RelationshipReader, schema: Schema, request: CheckRequest, options: RequestOptions = {}): Promise<CheckResult> {
    validateCheckRequest(schema, request);
    if (request.onBehalfOf !== undefined) {
      return checkDelegated(this.#delegatedContext(reader, schema, options), { ...request, onBehalfOf: request.onBehalfOf }, true);
    }
    const trace = options.trace ?? false;
    const plain = async (signal: AbortSignal | undefined): Promise<CheckResult> =>
      toCheckResult(await this.#dispatcher(reader, schema, trace, signal).dispatchCheck(rootRequest(request)), trace);
    if (this.#fastPath === undefined) return plain(options.signal);
    if (trace) {
      this.#fastPath.count("fallback");
      return plain(options.signal);
    }
    return this.#fastPath.check(reader, schema, request, plain, options.signal);
  }

  /**
   * checkBatch answers each request independently, in order: an item that fails (an AuthzError)
   * yields `{ error }` and the others still get answers; maxDispatches applies to each item. Items
   * share one memo, so a subproblem common to several items is computed once (with a graph index,
   * items answered from the index share one too, and the cache). Errors that are not
   * AuthzErrors reject the batch, and so does an aborted `options.signal` (RequestAbortedError).
   */
  async checkBatch(
    reader: RelationshipReader,
    schema: Schema,
    requests: readonly CheckRequest[],
    options: Omit<RequestOptions, "trace"> = {},
  ): Promise<Array<{ result: CheckResult } | { error: AuthzError }>> {
    const fastPath = this.#fastPath;
    const session = fastPath?.session(reader, schema);
    let dispatcher: BudgetDispatcher | undefined;
    const answers: Array<{ result: CheckResult } | { error: AuthzError }> = [];
    for (const request of requests) {
      try {
        validateCheckRequest(schema, request);
        if (options.signal?.aborted === true) throw new RequestAbortedError("check", options.signal.reason);
        if (request.onBehalfOf !== undefined) {
          answers.push({ result: await checkDelegated(this.#delegatedContext(reader, schema, options), { ...request, onBehalfOf: request.onBehalfOf }, true) });
          continue;
        }
        // Items answered from the index or the cache share the session's memo; the others share
        // the plain walk's, created for the first of them.
        let result = session?.answer(request);
        if (result === undefined) {
          fastPath?.count("fallback");
          dispatcher ??= this.#dispatcher(reader, schema, false, options.signal);
          dispatcher.startItem();
          result = toCheckResult(await dispatcher.dispatchCheck(rootRequest(request)), false);
          session?.remember(request, result);
        }
        answers.push({ result });
      } catch (error) {
        if (!(error instanceof AuthzError) || error instanceof RequestAbortedError) throw error;
        answers.push({ error });
      }
    }
    return answers;
  }

  /**
   * expand returns `permission` on `resource` as a tree (see expandPermission). Rejects with
   * FailedPreconditionError for an unknown definition or permission, DepthExceededError past
   * maxDepth, ExpandLimitExceededError past maxExpandNodes, RequestAbortedError once
   * `options.signal` aborts.
   */
  async expand(
    reader: RelationshipReader,
    schema: Schema,
    resource: ObjectRef,
    permission: string,
    options: Omit<RequestOptions, "trace"> = {},
  ): Promise<ExpandTree> {
    validateResourcePermission(schema, resource, permission);
    const { maxDepth, maxExpandNodes } = this.#options;
    return expandPermission(reader, schema, resource, permission, { maxDepth, maxExpandNodes, signal: options.signal });
  }

  /**
   * explainDelegation says how `request` (with onBehalfOf) would be decided, path hop by hop, without
   * counting a use of any budget (Expand shows it beside the principal's tree). Rejects as check.
   */
  async explainDelegation(reader: RelationshipReader, schema: Schema, request: DelegatedCheckRequest, options: Omit<RequestOptions, "trace"> = {}): Promise<DelegationExplanation> {
    validateCheckRequest(schema, request);
    const result = await checkDelegated(this.#delegatedContext(reader, schema, options), request, false);
    if (result.delegation === undefined) throw new BugError("a delegated check always explains its path");
    return result.delegation;
  }

  /**
   * lookupResources finds every resource of request.resourceType on which request.subject has
   * request.permission, as Check would answer it (never a DENIED one; CONDITIONAL ones with their
   * missing parameters), and resolves to them as an iterable in lookup order from `options.after`,
   * at most `options.limit` (see LookupOptions): all is decided when it resolves, and reading it
   * only orders (synchronously, lazily: the first result comes before the last is ordered). With a graph index that answers the reader's revision, the index decides
   * set-at-a-time and only candidates it leaves open (caveats, expiry) are checked; otherwise every
   * resource of the type named by a relationship is checked. Rejects as validateCheckRequest would
   * (fields `resourceType`, `permission`, `subject.*`), with InvalidArgumentError (`limit`) for a
   * limit that is not a positive integer, with any error a check of a candidate meets, and with
   * RequestAbortedError once `options.signal` aborts (reading the results throws it then too).
   */
  lookupResources(reader: RelationshipReader, schema: Schema, request: LookupResourcesRequest, options: LookupOptions = {}): Promise<Iterable<LookupResult>> {
    const principal = request.onBehalfOf;
    if (principal !== undefined) {
      return (async () => {
        validateLookupResourcesRequest(schema, request);
        const context = {
          ...this.#delegatedContext(reader, schema, options),
          lookup: (plain: LookupResourcesRequest) => this.lookupResources(reader, schema, plain, { signal: options.signal }),
        };
        return lookupResourcesDelegated(context, { ...request, onBehalfOf: principal }, options);
      })();
    }
    return lookupResources(reader, schema, request, options, this.#lookupContext(reader, schema, options.signal));
  }

  /**
   * lookupSubjects finds the subjects of request.subjectType (usersets with subjectRelation) that
   * have request.permission on request.resource, returned as lookupResources returns resources:
   * the wildcard `*` first when an unnamed subject would have it (with the subjects it excludes),
   * then every subject whose answer differs from the wildcard's (see LookupSubjectsResult), in
   * lookup order. Rejects with FailedPreconditionError
   * for an unknown `resource.type`, `permission`, `subjectType` or `subjectRelation`, and otherwise
   * as lookupResources.
   */
  lookupSubjects(reader: RelationshipReader, schema: Schema, request: LookupSubjectsRequest, options: LookupOptions = {}): Promise<Iterable<LookupSubjectsResult>> {
    return lookupSubjects(reader, schema, request, options, this.#lookupContext(reader, schema, options.signal));
  }

  #delegatedContext(reader: RelationshipReader, schema: Schema, options: RequestOptions): DelegatedCheckContext {
    return {
      reader,
      schema,
      check: (plain) => this.check(reader, schema, { ...plain, onBehalfOf: undefined }, options),
      caveat: (caveat, context) => evaluateCaveat(schema, caveat, context),
      budgets: this.#budgets,
    };
  }

  #lookupContext(reader: RelationshipReader, schema: Schema, signal: AbortSignal | undefined): LookupContext {
    const fastPath = this.#fastPath;
    return {
      index: fastPath?.currentIndex(),
      maxDepth: this.#options.maxDepth,
      // Without a fast path there is no index, so no horizon is ever asked for; the index's own
      // revision would be the conservative answer.
      horizon: (index, type, permission) => (fastPath === undefined ? index.revision : fastPath.horizonOf(schema, index, type, permission)),
      cache: this.#lookupCache,
      checkAll: async (requests) => resultsOrThrow(await this.checkBatch(reader, schema, requests, { signal })),
      count: (source, checked) => {
        if (source === "index") this.#lookups.fromIndex++;
        else this.#lookups.fromStore++;
        this.#lookups.checkedCandidates += checked;
      },
    };
  }

  /**
   * #dispatcher wires one request's dispatcher chain: budget around memo around local, local
   * redispatching to the budget (so that every subproblem is counted).
   */
  #dispatcher(reader: RelationshipReader, schema: Schema, trace: boolean, signal: AbortSignal | undefined): BudgetDispatcher {
    const { maxDepth, maxDispatches } = this.#options;
    const budget = new BudgetDispatcher({ maxDispatches, signal });
    const memo = new RequestMemoDispatcher(maxDepth);
    const caveats = new CelCaveatEvaluator(schema);
    memo.setDelegate(new LocalDispatcher({ reader, schema, caveats, maxDepth, trace, redispatch: budget }));
    budget.setDelegate(memo);
    return budget;
  }
}

function rootRequest(request: CheckRequest): DispatchCheckRequest {
  return {
    resource: request.resource,
    relation: request.permission,
    subject: request.subject,
    context: request.context,
    contextKey: contextKeyOf(request.context),
    depth: 1,
    path: undefined,
  };
}

function toCheckResult(result: DispatchCheckResult, trace: boolean): CheckResult {
  const missingParameters = sortedMissingParameters(result.membership);
  return {
    permissionship: result.membership.permissionship,
    ...(missingParameters === undefined ? {} : { missingParameters }),
    ...(trace ? { trace: result.trace } : {}),
  };
}
