import { BugError, WILDCARD_ID, assertNever } from "../tuple/index.ts";
import type { ObjectRef, Relationship } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { Definition, PermissionExpression, Relation, Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import type { CaveatEvaluator } from "./caveat-evaluator.ts";
import { isOnPath, subproblemKey } from "./dispatcher.ts";
import type { CheckPath, DispatchCheckRequest, DispatchCheckResult, Dispatcher } from "./dispatcher.ts";
import type { CheckTrace } from "./engine-types.ts";
import { DepthExceededError } from "./errors.ts";
import { ALLOWED, DENIED, intersectionOf, unionOf } from "./membership.ts";
import type { Membership } from "./membership.ts";
import { exclusionChain } from "./exclusion-chain.ts";
import { exclusion, intersection, union } from "./set-operations.ts";
import type { Reduction, Step, StepHandler } from "./set-operations.ts";

/** LocalDispatcherOptions wires a LocalDispatcher to one request's reader, schema and decorators. */
export interface LocalDispatcherOptions {
  readonly reader: RelationshipReader;
  readonly schema: Schema;
  readonly caveats: CaveatEvaluator;
  readonly maxDepth: number;
  /** trace: build CheckTrace nodes; when false none are allocated. */
  readonly trace: boolean;
  /** redispatch receives every subproblem this dispatcher raises (the outermost decorator). */
  readonly redispatch: Dispatcher;
}

/**
 * LocalDispatcher answers a subproblem by reading relationships at the reader's revision and
 * walking the relation's or permission's rewrite tree, in SpiceDB's semantics:
 * - a relation holds for the subject through a relationship to exactly that subject, to the
 *   subject type's wildcard (`user:*`; usersets of that type match it too), or to a userset
 *   (`group:eng#member`) that in turn holds for the subject;
 * - any relation or permission holds for the userset naming it (`group:eng#member` is a member of
 *   `group:eng#member`), even with no data;
 * - `tupleset->target` holds if `target` holds on any subject object of `tupleset` (a userset
 *   subject counts as its object; subjects whose type lacks `target` are skipped), `.all()` if it
 *   holds on every one (a subject whose type lacks `target` fails it; none at all is denied).
 * A subproblem already in progress on the current path (a cycle in the data) is answered DENIED
 * for that branch and marked as a cycle cut; RequestMemoDispatcher explains when such results are
 * reused. An operand too deep to evaluate (DepthExceededError) fails the node only when no other
 * operand decides it (see set-operations.ts).
 */
export class LocalDispatcher implements Dispatcher {
  readonly #options: LocalDispatcherOptions;

  constructor(options: LocalDispatcherOptions) {
    this.#options = options;
  }

  async dispatchCheck(request: DispatchCheckRequest): Promise<DispatchCheckResult> {
    const key = subproblemKey(request);
    const { resource, relation, subject } = request;
    if (isOnPath(request.path, key)) {
      return { membership: DENIED, cycleCuts: new Set([key]), cutThroughExclusion: false, depthRequired: 1, trace: this.#cutTrace(request) };
    }
    if (request.depth > this.#options.maxDepth) {
      throw new DepthExceededError("check", this.#options.maxDepth, resource, relation);
    }
    if (subject.type === resource.type && subject.id === resource.id && subject.relation === relation) {
      return {
        membership: ALLOWED,
        cycleCuts: undefined,
        cutThroughExclusion: false,
        depthRequired: 1,
        trace: this.#traceNode(request, "direct", ALLOWED, []),
      };
    }
    const definition = this.#definition(resource.type);
    const node = new NodeEvaluation(request, { key, parent: request.path }, this.#options.redispatch);
    const stored = definition.relations.get(relation);
    let step: Step;
    if (stored !== undefined) {
      step = await this.#checkRelation(node, stored);
    } else {
      const permission = definition.permissions.get(relation);
      if (permission === undefined) {
        throw new BugError(`${resource.type}#${relation} is neither a relation nor a permission; requests are validated first`);
      }
      step = await this.#checkExpression(node, permission.expression);
      if (permission.expression.kind === "computed") {
        const label = permission.expression.name;
        step = { membership: step.membership, trace: this.#traceNode(request, "union", step.membership, [step], { label }) };
      }
    }
    return node.finish(step);
  }

  /** #checkRelation: direct relationships first (cheap, and often decisive), then usersets. */
  async #checkRelation(node: NodeEvaluation, relation: Relation): Promise<Step> {
    const { reader, caveats } = this.#options;
    const { resource, subject, context } = node.request;
    const where = { resourceType: resource.type, resourceId: resource.id, relation: relation.name };

    let direct: Membership = DENIED;
    const exact = await reader.queryRelationships({ ...where, subject: { type: subject.type, id: subject.id, relation: subject.relation ?? null } });
    for (const relationship of exact) direct = unionOf(direct, caveats.evaluate(relationship, context));
    const wildcardAllowed = relation.allowedSubjects.some((allowed) => allowed.wildcard && allowed.type === subject.type);
    // A wildcard stands for every subject of its type, usersets included: SpiceDB allows
    // doc:1#viewer@group:* for group:eng#member (pinned by check.test.ts, "wildcards").
    if (direct.permissionship !== "allowed" && wildcardAllowed) {
      const wildcards = await reader.queryRelationships({ ...where, subject: { type: subject.type, id: WILDCARD_ID, relation: null } });
      for (const relationship of wildcards) direct = unionOf(direct, caveats.evaluate(relationship, context));
    }
    if (direct.permissionship === "allowed") {
      return { membership: ALLOWED, trace: this.#traceNode(node.request, "direct", ALLOWED, []) };
    }

    // Usersets are read one subject type at a time, so that a found member spares later reads.
    const usersetTypes = new Map<string, { type: string; relation: string }>();
    for (const allowed of relation.allowedSubjects) {
      if (allowed.relation !== undefined) usersetTypes.set(`${allowed.type}#${allowed.relation}`, { type: allowed.type, relation: allowed.relation });
    }
    let membership: Membership = direct;
    let failure: DepthExceededError | undefined;
    const steps: Step[] = [];
    for (const usersetType of usersetTypes.values()) {
      const usersets = await reader.queryRelationships({ ...where, subject: usersetType });
      let reduction: Reduction;
      try {
        reduction = await union(
          usersets.map((relationship) => () => this.#throughRelationship(node, relationship, relationship.subject, usersetType.relation)),
        );
      } catch (error) {
        // As in union(): a later subject type may still allow, which beats "too deep to tell".
        if (!(error instanceof DepthExceededError)) throw error;
        failure ??= error;
        continue;
      }
      steps.push(...reduction.steps);
      membership = unionOf(membership, reduction.membership);
      if (membership.permissionship === "allowed") break;
    }
    if (failure !== undefined && membership.permissionship !== "allowed") throw failure;
    return { membership, trace: this.#traceNode(node.request, "relation", membership, steps) };
  }

  async #checkExpression(node: NodeEvaluation, expression: PermissionExpression): Promise<Step> {
    const request = node.request;
    switch (expression.kind) {
      case "union":
        return this.#reduced(node, "union", await union(expression.children.map((child) => () => this.#checkExpression(node, child))));
      case "intersection":
        return this.#reduced(node, "intersection", await intersection(expression.children.map((child) => () => this.#checkExpression(node, child))));
      case "exclusion": {
        // Subtracted sides are marked for the memo (cutThroughExclusion): they are not monotone.
        const { base, subtracts } = exclusionChain(expression);
        const subtractHandlers = subtracts.map((subtract) => () => node.subtracting(() => this.#checkExpression(node, subtract)));
        return this.#reduced(node, "exclusion", await exclusion(() => this.#checkExpression(node, base), subtractHandlers));
      }
      case "computed":
        return node.dispatch(request.resource, expression.name, false);
      case "arrow":
        return this.#checkArrow(node, expression.tupleset, expression.target, expression.mode);
      case "nil":
        return { membership: DENIED, trace: this.#traceNode(request, "nil", DENIED, []) };
      default:
        return assertNever(expression, "permission expression");
    }
  }

  async #checkArrow(node: NodeEvaluation, tupleset: string, target: string, mode: "any" | "all"): Promise<Step> {
    const { resource } = node.request;
    const relationships = await this.#options.reader.queryRelationships({
      resourceType: resource.type,
      resourceId: resource.id,
      relation: tupleset,
    });
    const handlers: StepHandler[] = [];
    for (const relationship of relationships) {
      // The schema forbids wildcards on the left of an arrow; a wildcard names no object to visit.
      if (relationship.subject.id === WILDCARD_ID) continue;
      const hasTarget = findRelationOrPermission(this.#options.schema, relationship.subject.type, target) !== undefined;
      if (hasTarget) {
        handlers.push(() => this.#throughRelationship(node, relationship, relationship.subject, target));
      } else if (mode === "all") {
        // Pinned by check.test.ts ("all() fails when a subject's type lacks the target"), as in SpiceDB.
        handlers.push(() => Promise.resolve({ membership: DENIED, trace: undefined }));
      }
    }
    const reduction = mode === "any" ? await union(handlers) : await intersection(handlers);
    return this.#reduced(node, "arrow", reduction, arrowLabel(tupleset, target, mode));
  }

  /** #throughRelationship checks `relation` on `object` for the subject, gated by the relationship's caveat. */
  async #throughRelationship(node: NodeEvaluation, relationship: Relationship, object: ObjectRef, relation: string): Promise<Step> {
    const gate = this.#options.caveats.evaluate(relationship, node.request.context);
    if (gate.permissionship === "denied") return { membership: DENIED, trace: undefined };
    const step = await node.dispatch({ type: object.type, id: object.id }, relation, true);
    return { membership: intersectionOf(gate, step.membership), trace: step.trace };
  }

  #reduced(node: NodeEvaluation, operation: "union" | "intersection" | "exclusion" | "arrow", reduction: Reduction, label?: string): Step {
    return { membership: reduction.membership, trace: this.#traceNode(node.request, operation, reduction.membership, reduction.steps, { label }) };
  }

  #definition(type: string): Definition {
    const definition = this.#options.schema.definitions.get(type);
    if (definition === undefined) throw new BugError(`definition \`${type}\` is not in the schema; requests are validated first`);
    return definition;
  }

  /** #cutTrace is the trace of a cycle cut: named as the node would be had it been computed. */
  #cutTrace(request: DispatchCheckRequest): CheckTrace | undefined {
    if (!this.#options.trace) return undefined;
    const expression = this.#options.schema.definitions.get(request.resource.type)?.permissions.get(request.relation)?.expression;
    const cycle = true;
    if (expression === undefined) return this.#traceNode(request, "relation", DENIED, [], { cycle });
    switch (expression.kind) {
      case "computed":
        return this.#traceNode(request, "union", DENIED, [], { cycle, label: expression.name });
      case "arrow":
        return this.#traceNode(request, "arrow", DENIED, [], { cycle, label: arrowLabel(expression.tupleset, expression.target, expression.mode) });
      default:
        return this.#traceNode(request, expression.kind, DENIED, [], { cycle });
    }
  }

  #traceNode(
    request: DispatchCheckRequest,
    operation: CheckTrace["operation"],
    membership: Membership,
    children: readonly Step[],
    marks: { readonly cycle?: boolean; readonly label?: string | undefined } = {},
  ): CheckTrace | undefined {
    if (!this.#options.trace) return undefined;
    return {
      resource: request.resource,
      permission: request.relation,
      subject: request.subject,
      operation,
      result: membership.permissionship,
      ...(marks.cycle === true ? { cycle: true } : {}),
      ...(marks.label === undefined ? {} : { label: marks.label }),
      children: children.flatMap((child) => (child.trace === undefined ? [] : [child.trace])),
    };
  }
}

/** arrowLabel writes an arrow as in the schema: `parent->view` or `parent.all(view)`. */
function arrowLabel(tupleset: string, target: string, mode: "any" | "all"): string {
  return mode === "any" ? `${tupleset}->${target}` : `${tupleset}.all(${target})`;
}

/**
 * NodeEvaluation is the bookkeeping of one subproblem being computed: it sends child subproblems
 * through the redispatcher with the right depth and path, and gathers their cycle cuts and depth.
 */
class NodeEvaluation {
  readonly request: DispatchCheckRequest;
  readonly #path: CheckPath;
  readonly #redispatch: Dispatcher;
  #cycleCuts: Set<string> | undefined;
  #cutResults = 0;
  #cutThroughExclusion = false;
  #depthRequired = 1;

  constructor(request: DispatchCheckRequest, path: CheckPath, redispatch: Dispatcher) {
    this.request = request;
    this.#path = path;
    this.#redispatch = redispatch;
  }

  /** dispatch checks `relation` on `resource`; `hop` is true when it leaves the object (userset, arrow). */
  async dispatch(resource: ObjectRef, relation: string, hop: boolean): Promise<Step> {
    const levels = hop ? 1 : 0;
    const result = await this.#redispatch.dispatchCheck({
      resource,
      relation,
      subject: this.request.subject,
      context: this.request.context,
      contextKey: this.request.contextKey,
      depth: this.request.depth + levels,
      path: this.#path,
    });
    this.#depthRequired = Math.max(this.#depthRequired, levels + result.depthRequired);
    if (result.cycleCuts !== undefined) {
      this.#cutResults += 1;
      if (result.cutThroughExclusion) this.#cutThroughExclusion = true;
      this.#cycleCuts ??= new Set();
      for (const cut of result.cycleCuts) this.#cycleCuts.add(cut);
    }
    return { membership: result.membership, trace: result.trace };
  }

  /**
   * subtracting computes the subtracted side of an exclusion; if any of its subproblems met a
   * cycle cut, the node's answer is not monotone in its cuts (see RequestMemoDispatcher).
   */
  async subtracting(compute: () => Promise<Step>): Promise<Step> {
    const before = this.#cutResults;
    try {
      return await compute();
    } finally {
      if (this.#cutResults !== before) this.#cutThroughExclusion = true;
    }
  }

  /** finish turns the node's step into its result; a cut at this node itself is resolved here. */
  finish(step: Step): DispatchCheckResult {
    const cuts = this.#cycleCuts;
    cuts?.delete(this.#path.key);
    return {
      membership: step.membership,
      cycleCuts: cuts === undefined || cuts.size === 0 ? undefined : cuts,
      cutThroughExclusion: this.#cutThroughExclusion,
      depthRequired: this.#depthRequired,
      trace: step.trace,
    };
  }
}
