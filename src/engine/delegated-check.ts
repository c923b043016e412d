import { FailedPreconditionError, InvalidArgumentError, WILDCARD_ID, formatObjectRef } from "../tuple/index.ts";
import type { CaveatRef, ObjectRef } from "../tuple/index.ts";
import { formatScopeEntry } from "../schema/index.ts";
import type { DelegationGrant, Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { budgetedHops, delegationOf, delegationsFor, edgeName, findDelegationPaths, hopCovers } from "./delegation-paths.ts";
import type { DelegationPath } from "./delegation-paths.ts";
import type { BudgetCounter, CheckRequest, CheckResult, DelegationExplanation, DelegationHop, Permissionship } from "./engine-types.ts";
import { ALLOWED, DENIED, conditional, intersectionOf, sortedMissingParameters, unionOf } from "./membership.ts";
import type { Membership } from "./membership.ts";

/**
 * DelegatedCheckContext is what a delegated check needs besides the request: `check` answers a
 * plain check (no onBehalfOf) at the same reader, `caveat` evaluates an edge's task caveat
 * against the request context, `budgets` counts uses of budgeted edges (undefined: such an edge
 * cannot be used, FailedPreconditionError).
 */
export interface DelegatedCheckContext {
  readonly reader: RelationshipReader;
  readonly schema: Schema;
  readonly check: (request: CheckRequest) => Promise<CheckResult>;
  readonly caveat: (caveat: CaveatRef, context: Readonly<Record<string, unknown>> | undefined) => Membership;
  readonly budgets: BudgetCounter | undefined;
}

/** DelegatedCheckRequest is a CheckRequest whose subject acts on behalf of `onBehalfOf`. */
export type DelegatedCheckRequest = CheckRequest & { readonly onBehalfOf: ObjectRef };

/**
 * validateDelegatedRequest rejects what no delegation can answer, before any data is read: an
 * actor that is a userset (InvalidArgumentError, `subject.relation`) or a wildcard (`subject.id`; a
 * check refuses a wildcard subject before this), a wildcard principal
 * (`onBehalfOf.id`), an unknown principal type or an actor type with no delegation that allows it
 * (FailedPreconditionError, `onBehalfOf.type`).
 */
export function validateDelegatedRequest(schema: Schema, actor: { readonly type: string; readonly id: string; readonly relation?: string | undefined }, principal: ObjectRef): void {
  if (actor.relation !== undefined) {
    throw new InvalidArgumentError("subject.relation: an actor acting on behalf of someone is an object (agent:x), not a userset", { field: "subject.relation" });
  }
  if (actor.id === WILDCARD_ID) {
    throw new InvalidArgumentError(`subject.id: an actor acting on behalf of someone is one object, not a wildcard (${actor.type}:*)`, { field: "subject.id" });
  }
  if (principal.id === WILDCARD_ID) {
    throw new InvalidArgumentError(`onBehalfOf.id: cannot act on behalf of a wildcard (${principal.type}:*); name one principal`, { field: "onBehalfOf.id" });
  }
  if (!schema.definitions.has(principal.type)) {
    throw new FailedPreconditionError(`onBehalfOf.type: object definition \`${principal.type}\` not found in the schema`, { field: "onBehalfOf.type" });
  }
  if (delegationsFor(schema, actor.type, principal.type).length === 0) {
    throw new FailedPreconditionError(
      `onBehalfOf.type: no delegation of \`${actor.type}\` lets it act for \`${principal.type}\` (declare one: delegation NAME: ${principal.type} { scope ... })`,
      { field: "onBehalfOf.type" },
    );
  }
}

// One path evaluated for one (resource, permission): its answer and each hop's parts of it.
interface EvaluatedPath {
  readonly path: DelegationPath;
  readonly hops: DelegationHop[];
  membership: Membership;
  reason?: string | undefined;
}

/**
 * checkDelegated answers a check of `request.subject` acting for `request.onBehalfOf` (DESIGN.md,
 * "Delegation"): ALLOWED iff some live path leads from the actor to the principal on which every
 * edge's scope covers `type#permission`, every edge's caveat holds, the principal itself is
 * allowed, and so is every actor on the path whose delegation sets a ceiling; CONDITIONAL where
 * only caveats keep it open. An ALLOWED answer through budgeted edges counts one use of each
 * (with `charge`; an explanation without a decision passes false), and a spent budget makes that
 * path DENIED. The result explains the path hop by hop, and why when DENIED.
 */
export async function checkDelegated(context: DelegatedCheckContext, request: DelegatedCheckRequest, charge: boolean): Promise<CheckResult> {
  const { schema, reader } = context;
  validateDelegatedRequest(schema, request.subject, request.onBehalfOf);
  const actor: ObjectRef = { type: request.subject.type, id: request.subject.id };
  const principal = request.onBehalfOf;
  const plainRequest = { resource: request.resource, permission: request.permission, context: request.context };
  const principalResult = await context.check({ ...plainRequest, subject: principal });
  const principalMembership = membershipOf(principalResult);
  const search = await findDelegationPaths(reader, schema, actor, principal);

  const ownAnswers = new Map<string, Promise<Membership>>();
  const ownAnswer = (of: ObjectRef): Promise<Membership> => {
    const key = formatObjectRef(of);
    let answer = ownAnswers.get(key);
    if (answer === undefined) {
      answer = context.check({ ...plainRequest, subject: of }).then(membershipOf);
      ownAnswers.set(key, answer);
    }
    return answer;
  };
  const evaluated: EvaluatedPath[] = [];
  for (const path of search.paths) {
    evaluated.push(await evaluatePath(context, request, path, principalMembership, ownAnswer));
  }

  const explain = (chosen: EvaluatedPath | undefined, membership: Membership, reason?: string): CheckResult =>
    resultOf(membership, {
      path: chosen?.hops ?? [],
      principal: principalResult.permissionship,
      ...(membership.permissionship === "denied" ? { reason: reason ?? chosen?.reason ?? "denied" } : {}),
    }, principalResult);

  // Paths that cost no budget first: a check that one of them allows stays a pure read.
  const allowed = evaluated.filter((path) => path.membership.permissionship === "allowed");
  allowed.sort((a, b) => budgetedHops(a.path).length - budgetedHops(b.path).length);
  for (const candidate of allowed) {
    const spent = await chargeOrExplain(context, candidate, charge);
    if (spent === undefined) return explain(candidate, ALLOWED);
    candidate.membership = DENIED;
    candidate.reason = spent;
  }
  const open = evaluated.filter((path) => path.membership.permissionship === "conditional");
  if (open.length > 0) {
    return explain(open[0], open.map((path) => path.membership).reduce(unionOf));
  }
  if (evaluated.length === 0) {
    const why = [`no live delegation lets ${formatObjectRef(actor)} act for ${formatObjectRef(principal)}`, ...search.unusable].join("; ");
    return explain(undefined, DENIED, why);
  }
  return explain(evaluated[0], DENIED);
}

async function evaluatePath(
  context: DelegatedCheckContext,
  request: DelegatedCheckRequest,
  path: DelegationPath,
  principal: Membership,
  ownAnswer: (actor: ObjectRef) => Promise<Membership>,
): Promise<EvaluatedPath> {
  const { resource, permission } = request;
  const wanted = `${resource.type}#${permission}`;
  const hops: DelegationHop[] = [];
  let membership = principal;
  // The first reason along the path explains a DENIED answer; the principal's own comes last.
  let reason: string | undefined;
  for (const grant of path.hops) {
    const inScope = hopCovers(context.schema, grant, resource.type, permission);
    const caveat = grant.caveat === undefined ? ALLOWED : context.caveat(grant.caveat, request.context);
    const ceiling = delegationOf(context.schema, grant)?.ceiling === true ? await ownAnswer(grant.actor) : undefined;
    membership = intersectionOf(membership, inScope ? ALLOWED : DENIED);
    membership = intersectionOf(membership, caveat);
    if (ceiling !== undefined) membership = intersectionOf(membership, ceiling);
    reason ??= !inScope
      ? `${wanted} is outside the scope of ${edgeName(grant)} (${grant.scope.map(formatScopeEntry).join(", ")})`
      : caveat.permissionship === "denied"
        ? `the caveat \`${grant.caveat?.name}\` of ${edgeName(grant)} does not hold for this request`
        : ceiling?.permissionship === "denied"
          ? `${formatObjectRef(grant.actor)}'s own grants do not allow ${permission} on ${formatObjectRef(resource)} (the ceiling of ${grant.actor.type}#${grant.delegation})`
          : undefined;
    hops.push(hopOf(grant, request.onBehalfOf, inScope, caveat, ceiling));
  }
  if (principal.permissionship === "denied") {
    reason ??= `${formatObjectRef(request.onBehalfOf)}, on whose behalf ${formatObjectRef(request.subject)} acts, does not have ${permission} on ${formatObjectRef(resource)}`;
  }
  return { path, hops, membership, reason };
}

// Counts one use on the path's budgeted edges: undefined when counted (or nothing to count), else
// the sentence saying which budget is spent. Fills in each hop's budget either way.
async function chargeOrExplain(context: DelegatedCheckContext, evaluated: EvaluatedPath, charge: boolean): Promise<string | undefined> {
  const budgeted = budgetedHops(evaluated.path);
  if (budgeted.length === 0) return undefined;
  const budgets = context.budgets;
  if (budgets === undefined) {
    throw new FailedPreconditionError("onBehalfOf: the delegation path has a budget, and this engine keeps no budgets", { field: "onBehalfOf" });
  }
  const setBudget = (position: number, limit: number, used: number): void => {
    const hop = evaluated.hops[position];
    if (hop !== undefined) evaluated.hops[position] = { ...hop, budget: { limit, used } };
  };
  if (!charge) {
    const usage = await budgets.budgetUsage(budgeted.map(({ grant }) => grant.id));
    for (const { grant, position, limit } of budgeted) setBudget(position, limit, usage.get(grant.id) ?? 0);
    const spent = budgeted.find(({ grant, limit }) => (usage.get(grant.id) ?? 0) >= limit);
    return spent === undefined ? undefined : spentReason(spent.grant, spent.limit);
  }
  const outcome = await budgets.chargeBudgets(budgeted.map(({ grant, limit }) => ({ grantId: grant.id, limit })));
  if ("used" in outcome) {
    budgeted.forEach(({ position, limit }, i) => setBudget(position, limit, outcome.used[i] ?? limit));
    return undefined;
  }
  const spent = budgeted.find(({ grant }) => grant.id === outcome.exhausted) ?? budgeted[0];
  if (spent === undefined) return undefined;
  setBudget(spent.position, spent.limit, spent.limit);
  return spentReason(spent.grant, spent.limit);
}

function spentReason(grant: DelegationGrant, limit: number): string {
  return `the budget of ${edgeName(grant)} is spent (${limit} allowed checks)`;
}

function hopOf(grant: DelegationGrant, principal: ObjectRef, inScope: boolean, caveat: Membership, ceiling: Membership | undefined): DelegationHop {
  const missingParameters = sortedMissingParameters(caveat);
  return {
    actor: grant.actor,
    principal,
    grantedBy: grant.via?.actor ?? principal,
    delegation: grant.delegation,
    grantId: grant.id,
    scope: grant.scope.map(formatScopeEntry),
    notBefore: grant.notBefore,
    expiresAt: grant.expiresAt,
    inScope,
    caveat: caveat.permissionship,
    ...(missingParameters === undefined ? {} : { missingParameters }),
    ...(ceiling === undefined ? {} : { ceiling: ceiling.permissionship }),
  };
}

/** membershipOf turns a check's result back into the membership algebra's terms. */
export function membershipOf(result: { readonly permissionship: Permissionship; readonly missingParameters?: readonly string[] | undefined }): Membership {
  if (result.permissionship === "allowed") return ALLOWED;
  if (result.permissionship === "denied") return DENIED;
  return conditional(result.missingParameters ?? []);
}

function resultOf(membership: Membership, delegation: DelegationExplanation, principal: CheckResult): CheckResult {
  const missingParameters = sortedMissingParameters(membership);
  return {
    permissionship: membership.permissionship,
    ...(missingParameters === undefined ? {} : { missingParameters }),
    ...(principal.trace === undefined ? {} : { trace: principal.trace }),
    delegation,
  };
}
