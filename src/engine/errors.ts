import { FailedPreconditionError, ResourceExhaustedError, formatObjectRef } from "../tuple/index.ts";
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
 * CaveatEvaluationUnavailableError: a caveated relationship had every parameter of its caveat
 * supplied, so the answer depends on evaluating the caveat's CEL expression, which this version
 * of the engine cannot do yet. Missing parameters, by contrast, give a CONDITIONAL answer.
 */
export class CaveatEvaluationUnavailableError extends FailedPreconditionError {
  override name = "CaveatEvaluationUnavailableError";
}
