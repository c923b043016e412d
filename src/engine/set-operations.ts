import type { CheckTrace } from "./engine-types.ts";
import { DepthExceededError } from "./errors.ts";
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
//
// An operand that fails with DepthExceededError does not decide the reduction by itself: a later
// operand may still decide it (an allowed operand of a union, a denied operand of an
// intersection), and a definite answer beats "too deep to tell". Only when no operand decides
// is the first such failure rethrown. Every other error ends the reduction at once.

/** attempt runs one operand, turning a DepthExceededError into a value the reducers can weigh. */
async function attempt(handler: StepHandler): Promise<Step | DepthExceededError> {
  try {
    return await handler();
  } catch (error) {
    if (error instanceof DepthExceededError) return error;
    throw error;
  }
}

/**
 * union requires any operand to be allowed; the first allowed operand ends the reduction.
 * An empty union is denied. Throws an operand's DepthExceededError when no operand is allowed.
 */
export async function union(handlers: Iterable<StepHandler>): Promise<Reduction> {
  let membership = DENIED;
  let failure: DepthExceededError | undefined;
  const steps: Step[] = [];
  for (const handler of handlers) {
    const step = await attempt(handler);
    if (step instanceof DepthExceededError) {
      failure ??= step;
      continue;
    }
    steps.push(step);
    membership = unionOf(membership, step.membership);
    if (membership.permissionship === "allowed") return { membership, steps };
  }
  if (failure !== undefined) throw failure;
  return { membership, steps };
}

/**
 * intersection requires every operand to be allowed; the first denied operand ends the
 * reduction. An empty intersection is denied (as `.all()` over no subjects is in SpiceDB).
 * Throws an operand's DepthExceededError when no operand is denied.
 */
export async function intersection(handlers: Iterable<StepHandler>): Promise<Reduction> {
  let membership: Membership | undefined;
  let failure: DepthExceededError | undefined;
  const steps: Step[] = [];
  for (const handler of handlers) {
    const step = await attempt(handler);
    if (step instanceof DepthExceededError) {
      failure ??= step;
      continue;
    }
    steps.push(step);
    membership = intersectionOf(membership ?? ALLOWED, step.membership);
    if (membership.permissionship === "denied") return { membership, steps };
  }
  if (failure !== undefined) throw failure;
  return { membership: membership ?? DENIED, steps };
}

/**
 * exclusion is `base - subtracts[0] - subtracts[1] - ...` (a left-nested chain, evaluated in a
 * loop rather than by recursion so that a long chain cannot overflow the stack). Subtracted sides
 * are not computed once the result is denied. A failed base is still denied by an allowed
 * subtracted side; otherwise its DepthExceededError is rethrown, as is a subtracted side's.
 */
export async function exclusion(base: StepHandler, subtracts: readonly StepHandler[]): Promise<Reduction> {
  const first = await attempt(base);
  let failure = first instanceof DepthExceededError ? first : undefined;
  let membership = first instanceof DepthExceededError ? ALLOWED : first.membership;
  const steps: Step[] = first instanceof DepthExceededError ? [] : [first];
  for (const subtract of subtracts) {
    if (failure === undefined && membership.permissionship === "denied") break;
    const step = await attempt(subtract);
    if (step instanceof DepthExceededError) {
      failure ??= step;
      continue;
    }
    steps.push(step);
    if (step.membership.permissionship === "allowed") {
      return { membership: DENIED, steps };
    }
    membership = exclusionOf(membership, step.membership);
  }
  if (failure !== undefined) throw failure;
  return { membership, steps };
}
