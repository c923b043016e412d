import { AuthzError, InvalidArgumentError } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { BudgetDispatcher } from "./budget-dispatcher.ts";
import { MissingParametersCaveatEvaluator } from "./caveat-evaluator.ts";
import type { DispatchCheckRequest, DispatchCheckResult } from "./dispatcher.ts";
import type { CheckRequest, CheckResult, EngineOptions, ExpandTree, RequestOptions } from "./engine-types.ts";
import { RequestAbortedError } from "./errors.ts";
import { expandPermission } from "./expand.ts";
import { LocalDispatcher } from "./local-dispatcher.ts";
import { sortedMissingParameters } from "./membership.ts";
import { RequestMemoDispatcher } from "./request-memo-dispatcher.ts";
import { validateCheckRequest, validateResourcePermission } from "./validate-request.ts";

/** DEFAULTS: SpiceDB's default dispatch depth; the other two bound pathological requests only. */
const DEFAULTS: EngineOptions = { maxDepth: 50, maxDispatches: 100_000, maxExpandNodes: 10_000 };

/**
 * Engine answers Check, batch Check and Expand against a reader (one revision of the data) and a
 * compiled schema. It keeps no state between calls: within one call, subproblems are memoized
 * (see RequestMemoDispatcher); caching across calls is a separate decorator.
 */
export class Engine {
  readonly #options: EngineOptions;

  /** Throws InvalidArgumentError (naming the option) unless every limit is a positive integer. */
  constructor(options: Partial<EngineOptions> = {}) {
    const merged = { ...DEFAULTS, ...options };
    for (const field of ["maxDepth", "maxDispatches", "maxExpandNodes"] as const) {
      const value = merged[field];
      if (!Number.isInteger(value) || value < 1) {
        throw new InvalidArgumentError(`${field}: must be a positive integer, got ${value}`, { field });
      }
    }
    this.#options = merged;
  }

  /**
   * check answers `request`. Rejects with FailedPreconditionError or InvalidArgumentError for a
   * request the schema cannot answer (see validateCheckRequest), DepthExceededError past maxDepth
   * (unless another branch decides the answer), DispatchLimitExceededError past maxDispatches,
   * RequestAbortedError once `options.signal` aborts, CaveatEvaluationUnavailableError when a
   * caveat would need evaluating. With `trace`, the result explains itself; without it no trace
   * is built.
   */
  async check(reader: RelationshipReader, schema: Schema, request: CheckRequest, options: RequestOptions = {}): Promise<CheckResult> {
    validateCheckRequest(schema, request);
    const trace = options.trace ?? false;
    const result = await this.#dispatcher(reader, schema, trace, options.signal).dispatchCheck(rootRequest(request));
    return toCheckResult(result, trace);
  }

  /**
   * checkBatch answers each request independently, in order: an item that fails (an AuthzError)
   * yields `{ error }` and the others still get answers; maxDispatches applies to each item. Items
   * share one memo, so a subproblem common to several items is computed once. Errors that are not
   * AuthzErrors reject the batch, and so does an aborted `options.signal` (RequestAbortedError).
   */
  async checkBatch(
    reader: RelationshipReader,
    schema: Schema,
    requests: readonly CheckRequest[],
    options: Omit<RequestOptions, "trace"> = {},
  ): Promise<Array<{ result: CheckResult } | { error: AuthzError }>> {
    const dispatcher = this.#dispatcher(reader, schema, false, options.signal);
    const answers: Array<{ result: CheckResult } | { error: AuthzError }> = [];
    for (const request of requests) {
      try {
        validateCheckRequest(schema, request);
        dispatcher.startItem();
        answers.push({ result: toCheckResult(await dispatcher.dispatchCheck(rootRequest(request)), false) });
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
   * #dispatcher wires one request's dispatcher chain: budget around memo around local, local
   * redispatching to the budget (so that every subproblem is counted).
   */
  #dispatcher(reader: RelationshipReader, schema: Schema, trace: boolean, signal: AbortSignal | undefined): BudgetDispatcher {
    const { maxDepth, maxDispatches } = this.#options;
    const budget = new BudgetDispatcher({ maxDispatches, signal });
    const memo = new RequestMemoDispatcher(maxDepth);
    const caveats = new MissingParametersCaveatEvaluator(schema);
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
    contextKey: request.context === undefined ? "" : JSON.stringify(request.context),
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
