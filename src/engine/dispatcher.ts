import { formatSubjectRef } from "../tuple/index.ts";
import type { ObjectRef, SubjectRef } from "../tuple/index.ts";
import type { CheckTrace } from "./engine-types.ts";
import type { Membership } from "./membership.ts";

/**
 * CheckPath is the chain of subproblems in progress above a dispatch, innermost first. Meeting a
 * key that is already on the path means the data has a cycle; that branch is cut.
 */
export interface CheckPath {
  readonly key: string;
  readonly parent: CheckPath | undefined;
}

/**
 * DispatchCheckRequest asks whether `subject` is in `relation` (a relation or permission) of
 * `resource`. `depth` is 1 at the root and grows by one for every hop into another object's
 * relation (userset or arrow), not for a computed relation on the same object: SpiceDB counts
 * the same way (a chain of 50 nested groups is allowed, 51 is not). `contextKey` identifies
 * `context` for memoization.
 */
export interface DispatchCheckRequest {
  readonly resource: ObjectRef;
  readonly relation: string;
  readonly subject: SubjectRef;
  readonly context: Readonly<Record<string, unknown>> | undefined;
  readonly contextKey: string;
  readonly depth: number;
  readonly path: CheckPath | undefined;
}

/**
 * DispatchCheckResult is a subproblem's answer with what a memo needs to reuse it safely.
 * - `cycleCuts`: keys of in-progress subproblems (ancestors) where a branch was cut short as a
 *   cycle (answered DENIED for that branch). Non-empty means the answer was computed as if those
 *   ancestors were denied: see RequestMemoDispatcher for when it may still be reused. Undefined
 *   when empty.
 * - `cutThroughExclusion`: some cycle cut (this node's own included) reached the answer through
 *   the subtracted side of an exclusion, where a denied cut can turn into an allowed result; such
 *   an answer is not monotone in its cuts and is never reused provisionally.
 * - `depthRequired`: how many levels of depth the computation used, counting this one; a memoized
 *   answer is reused only where that many levels are still available.
 * - `trace`: set only when the request asked for a trace.
 */
export interface DispatchCheckResult {
  readonly membership: Membership;
  readonly cycleCuts: ReadonlySet<string> | undefined;
  readonly cutThroughExclusion: boolean;
  readonly depthRequired: number;
  readonly trace: CheckTrace | undefined;
}

/**
 * Dispatcher answers check subproblems. Implementations decorate each other (memo, and later
 * caching and singleflight) around the LocalDispatcher, which walks the rewrite tree and sends
 * its own subproblems back through the outermost decorator.
 */
export interface Dispatcher {
  dispatchCheck(request: DispatchCheckRequest): Promise<DispatchCheckResult>;
}

/** subproblemKey identifies (resource, relation, subject, context) for memos and cycle paths. */
export function subproblemKey(request: DispatchCheckRequest): string {
  const { resource, relation, subject } = request;
  return `${subproblemText(resource.type, resource.id, relation, subject)}|${request.contextKey}`;
}

/** subproblemText names a context-free subproblem: `doc:1#view@user:ann`. */
export function subproblemText(resourceType: string, resourceId: string, relation: string, subject: SubjectRef): string {
  return `${resourceType}:${resourceId}#${relation}@${formatSubjectRef(subject)}`;
}

/** contextKeyOf identifies a caveat context for memos and caches: "" for none. */
export function contextKeyOf(context: Readonly<Record<string, unknown>> | undefined): string {
  return context === undefined ? "" : JSON.stringify(context);
}

/** isOnPath reports whether `key` is in progress somewhere on `path`. */
export function isOnPath(path: CheckPath | undefined, key: string): boolean {
  for (let node = path; node !== undefined; node = node.parent) {
    if (node.key === key) return true;
  }
  return false;
}
