import type { CheckTrace } from "./engine-types.ts";
import { ALLOWED, DENIED, exclusionOf, intersectionOf, unionOf } from "./membership.ts";
import type { Membership } from "./membership.ts";

/** Step is the outcome of one operand of a set operation; `trace` is set only when tracing. */
export interface Step {
  readonly membership: Membership;
  readonly trace: CheckTrace | undefined;
}

/** StepHandler computes one operand lazily, so that a reducer can stop before computing the rest. */
export type StepHandler = () => Promise<Step>;

/** Reduction is a reducer's combined membership and the operands it actually computed, in order. */
export interface Reduction {
  readonly membership: Membership;
  readonly steps: readonly Step[];
}

// Operands run one after another, not concurrently: a reducer that stops early then saves the
// reads of every later operand, and the per-request memo and cycle cuts stay deterministic
// (a concurrent evaluation could wait on an in-flight subproblem that waits on it in turn).

/**
 * union requires any operand to be allowed; the first allowed operand ends the reduction.
 * An empty union is denied.
 */
export async function union(handlers: Iterable<StepHandler>): Promise<Reduction> {
  let membership = DENIED;
  const steps: Step[] = [];
  for (const handler of handlers) {
    const step = await handler();
    steps.push(step);
    membership = unionOf(membership, step.membership);
    if (membership.permissionship === "allowed") break;
  }
  return { membership, steps };
}

/**
 * intersection requires every operand to be allowed; the first denied operand ends the
 * reduction. An empty intersection is denied (as `.all()` over no subjects is in SpiceDB).
 */
export async function intersection(handlers: Iterable<StepHandler>): Promise<Reduction> {
  let membership: Membership | undefined;
  const steps: Step[] = [];
  for (const handler of handlers) {
    const step = await handler();
    steps.push(step);
    membership = intersectionOf(membership ?? ALLOWED, step.membership);
    if (membership.permissionship === "denied") break;
  }
  return { membership: membership ?? DENIED, steps };
}

/**
 * exclusion is `base - subtract`; `subtract` is not computed when `base` is denied.
 */
export async function exclusion(base: StepHandler, subtract: StepHandler): Promise<Reduction> {
  const baseStep = await base();
  if (baseStep.membership.permissionship === "denied") return { membership: DENIED, steps: [baseStep] };
  const subtractStep = await subtract();
  return { membership: exclusionOf(baseStep.membership, subtractStep.membership), steps: [baseStep, subtractStep] };
}
