import { AuthzError, InvalidArgumentError, ResourceExhaustedError, formatObjectRef } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";

/**
 * DepthExceededError: a check or expand followed more dispatch hops (usersets and arrows into
 * another object) than `EngineOptions.maxDepth` allows. The message names the limit and the
 * object where it was crossed. Cycles in the data do not raise it (they are cut, see
 * local-dispatcher.ts); only long acyclic chains do.
 */
export class DepthExceededError extends ResourceExhaustedError {
  override name = "DepthExceededError";
  readonly maxDepth: number;

  constructor(operation: "check" | "expand", maxDepth: number, resource: ObjectRef, relation: string) {
    super(
      `${operation} exceeded the maximum depth of ${maxDepth} at ${formatObjectRef(resource)}#${relation}: ` +
        "the relationships nest more deeply than the limit allows",
    );
    this.maxDepth = maxDepth;
  }
}

/**
 * CaveatEvaluationError: evaluating a caveat's CEL expression failed for the context at hand
 * (division by zero, integer overflow, a failed conversion such as `int("x")`, an invalid CIDR in
 * `in_cidr`). It is INVALID_ARGUMENT, as SpiceDB reports ERROR_REASON_CAVEAT_EVALUATION_ERROR: the
 * context supplied (with the relationship's) makes the expression fail. `caveatName` names the
 * caveat; the message quotes CEL's error. Missing parameters are not an error: they give CONDITIONAL.
 */
export class CaveatEvaluationError extends InvalidArgumentError {
  override name = "CaveatEvaluationError";
  readonly caveatName: string;

  constructor(caveatName: string, message: string) {
    super(`context: evaluating caveat \`${caveatName}\` failed: ${message}`, { field: "context" });
    this.caveatName = caveatName;
  }
}

/**
 * DispatchLimitExceededError: one check visited more subproblems than
 * `EngineOptions.maxDispatches` allows (a backstop against pathological data, such as large
 * strongly connected groups reached through a subtraction). The message names the limit.
 */
export class DispatchLimitExceededError extends ResourceExhaustedError {
  override name = "DispatchLimitExceededError";
  readonly maxDispatches: number;

  constructor(maxDispatches: number) {
    super(
      `check exceeded the maximum of ${maxDispatches} subproblems (maxDispatches): ` +
        "the relationships reachable from the request are too many or too entangled to evaluate within the limit",
    );
    this.maxDispatches = maxDispatches;
  }
}

/**
 * ExpandLimitExceededError: an expand tree would have more nodes than
 * `EngineOptions.maxExpandNodes` allows (arrows expand recursively, as in SpiceDB, so shared
 * parents multiply the tree). The message names the limit and the node where it was crossed.
 */
export class ExpandLimitExceededError extends ResourceExhaustedError {
  override name = "ExpandLimitExceededError";
  readonly maxExpandNodes: number;

  constructor(maxExpandNodes: number, resource: ObjectRef, relation: string) {
    super(
      `expand exceeded the maximum of ${maxExpandNodes} tree nodes (maxExpandNodes) at ${formatObjectRef(resource)}#${relation}: ` +
        "expand a permission lower in the hierarchy, or use check or a lookup instead",
    );
    this.maxExpandNodes = maxExpandNodes;
  }
}

/**
 * RequestAbortedError: the caller aborted a check or expand in progress through its AbortSignal
 * (for example, the client cancelled the call). The message names the operation and the reason.
 */
export class RequestAbortedError extends AuthzError {
  override name = "RequestAbortedError";
  readonly code = "aborted";

  constructor(operation: "check" | "expand" | "lookup", reason: unknown) {
    super(`${operation} was aborted by the caller: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason });
  }
}
