import { AuthzError, InvalidArgumentError } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { MissingParametersCaveatEvaluator } from "./caveat-evaluator.ts";
import type { DispatchCheckResult, Dispatcher } from "./dispatcher.ts";
import type { CheckRequest, CheckResult, EngineOptions, ExpandTree } from "./engine-types.ts";
import { expandPermission } from "./expand.ts";
import { LocalDispatcher } from "./local-dispatcher.ts";
import { sortedMissingParameters } from "./membership.ts";
import { RequestMemoDispatcher } from "./request-memo-dispatcher.ts";
import { validateCheckRequest, validateResourcePermission } from "./validate-request.ts";

/** DEFAULT_MAX_DEPTH is SpiceDB's default dispatch depth. */
const DEFAULT_MAX_DEPTH = 50;

/**
 * Engine answers Check, batch Check and Expand against a reader (one revision of the data) and a
 * compiled schema. It keeps no state between calls: within one call, subproblems are memoized
 * (see RequestMemoDispatcher); caching across calls is a separate decorator.
 */
export class Engine {
  readonly #options: EngineOptions;

  /** Throws InvalidArgumentError (`maxDepth`) unless maxDepth is a positive integer. */
  constructor(options: Partial<EngineOptions> = {}) {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1) {
      throw new InvalidArgumentError(`maxDepth: must be a positive integer, got ${maxDepth}`, { field: "maxDepth" });
    }
    this.#options = { maxDepth };
  }

  /**
   * check answers `request`. Rejects with FailedPreconditionError or InvalidArgumentError for a
   * request the schema cannot answer (see validateCheckRequest), DepthExceededError past maxDepth,
   * CaveatEvaluationUnavailableError when a caveat would need evaluating. With `trace`, the result
   * explains itself; without it no trace is built.
   */
  async check(reader: RelationshipReader, schema: Schema, request: CheckRequest, options: { trace?: boolean } = {}): Promise<CheckResult> {
    validateCheckRequest(schema, request);
    const trace = options.trace ?? false;
    const result = await this.#dispatcher(reader, schema, trace).dispatchCheck(rootRequest(request));
    return toCheckResult(result, trace);
  }

  /**
   * checkBatch answers each request independently, in order: an item that fails (an AuthzError)
   * yields `{ error }` and the others still get answers. Items share one memo, so a subproblem
   * common to several items is computed once. Errors that are not AuthzErrors reject the batch.
   */
  async checkBatch(
    reader: RelationshipReader,
    schema: Schema,
    requests: readonly CheckRequest[],
  ): Promise<Array<{ result: CheckResult } | { error: AuthzError }>> {
    const dispatcher = this.#dispatcher(reader, schema, false);
    const answers: Array<{ result: CheckResult } | { error: AuthzError }> = [];
    for (const request of requests) {
      try {
        validateCheckRequest(schema, request);
        answers.push({ result: toCheckResult(await dispatcher.dispatchCheck(rootRequest(request)), false) });
      } catch (error) {
        if (!(error instanceof AuthzError)) throw error;
        answers.push({ error });
      }
    }
    return answers;
  }

  /**
   * expand returns one level of `permission` on `resource` (see expandPermission). Rejects with
   * FailedPreconditionError for an unknown definition or permission, DepthExceededError past maxDepth.
   */
  async expand(reader: RelationshipReader, schema: Schema, resource: ObjectRef, permission: string): Promise<ExpandTree> {
    validateResourcePermission(schema, resource, permission);
    return expandPermission(reader, schema, resource, permission, { maxDepth: this.#options.maxDepth });
  }

  /** #dispatcher wires one request's dispatcher chain: memo around local, local redispatching to memo. */
  #dispatcher(reader: RelationshipReader, schema: Schema, trace: boolean): Dispatcher {
    const maxDepth = this.#options.maxDepth;
    const memo = new RequestMemoDispatcher(maxDepth);
    const caveats = new MissingParametersCaveatEvaluator(schema);
    memo.setDelegate(new LocalDispatcher({ reader, schema, caveats, maxDepth, trace, redispatch: memo }));
    return memo;
  }
}

function rootRequest(request: CheckRequest) {
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
