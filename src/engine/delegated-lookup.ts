import type { ObjectRef } from "../tuple/index.ts";
import { budgetedHops, delegationOf, findDelegationPaths, hopCovers } from "./delegation-paths.ts";
import type { DelegationPath } from "./delegation-paths.ts";
import { membershipOf, validateDelegatedRequest } from "./delegated-check.ts";
import type { DelegatedCheckContext } from "./delegated-check.ts";
import { pagedInLookupOrder, validateLimit } from "./lookup.ts";
import type { LookupOptions, LookupResourcesRequest, LookupResult } from "./lookup-types.ts";
import { ALLOWED, DENIED, intersectionOf, sortedMissingParameters, unionOf } from "./membership.ts";
import type { Membership } from "./membership.ts";

/**
 * DelegatedLookupContext adds to a delegated check's context `lookup`: a plain LookupResources
 * (no onBehalfOf, no paging) at the same reader.
 */
export interface DelegatedLookupContext extends Omit<DelegatedCheckContext, "check"> {
  readonly lookup: (request: LookupResourcesRequest) => Promise<Iterable<LookupResult>>;
}

/**
 * lookupResourcesDelegated finds the resources on which `request.subject` acting for `onBehalfOf`
 * has the permission: exactly those whose delegated check (checkDelegated) is not DENIED. The path
 * part of that answer (scopes, caveats) does not depend on the resource, so it is decided once;
 * then the principal's lookup is intersected with the lookups of the actors whose delegation sets
 * a ceiling. Paths without budgeted edges come first; a path through budgeted edges counts one
 * use per lookup call (each page is a call), and none when it allows nothing that the paths before
 * it did not; with its budget spent it allows nothing (its CONDITIONAL results stay, as in Check).
 * Paging as LookupOptions, applied after the intersection.
 */
export async function lookupResourcesDelegated(
  context: DelegatedLookupContext,
  request: LookupResourcesRequest & { readonly onBehalfOf: ObjectRef },
  options: LookupOptions,
): Promise<Iterable<LookupResult>> {
  const { schema, reader } = context;
  validateDelegatedRequest(schema, request.subject, request.onBehalfOf);
  validateLimit(options.limit);
  const actor: ObjectRef = { type: request.subject.type, id: request.subject.id };
  const search = await findDelegationPaths(reader, schema, actor, request.onBehalfOf);
  const plain = { resourceType: request.resourceType, permission: request.permission, context: request.context };
  const lookups = new Map<string, Promise<Map<string, Membership>>>();
  const lookupFor = (subject: ObjectRef): Promise<Map<string, Membership>> => {
    const key = `${subject.type}:${subject.id}`;
    let found = lookups.get(key);
    if (found === undefined) {
      found = context.lookup({ ...plain, subject }).then((results) => new Map([...results].map((result) => [result.id, membershipOf(result)])));
      lookups.set(key, found);
    }
    return found;
  };

  const answers = new Map<string, Membership>();
  // Paths that cost no budget first, so that a budgeted path is charged only for what it adds.
  const paths = [...search.paths].sort((a, b) => budgetedHops(a).length - budgetedHops(b).length);
  for (const path of paths) {
    const along = pathMembership(context, request, path);
    if (along.permissionship === "denied") continue;
    let found = restrict(await lookupFor(request.onBehalfOf), along);
    for (const grant of path.hops) {
      if (delegationOf(schema, grant)?.ceiling === true) found = intersect(found, await lookupFor(grant.actor));
    }
    const addsAllowed = [...found].some(([id, membership]) => membership.permissionship === "allowed" && answers.get(id)?.permissionship !== "allowed");
    if (addsAllowed && !(await charge(context, path))) {
      // As Check: with the budget spent the path allows nothing, but still leaves open what only caveats keep open.
      merge(answers, new Map([...found].filter(([, membership]) => membership.permissionship === "conditional")));
      continue;
    }
    merge(answers, found);
  }
  return pagedInLookupOrder(
    [...answers].map(([id, membership]) => {
      const missingParameters = sortedMissingParameters(membership);
      return { id, permissionship: membership.permissionship === "allowed" ? "allowed" : "conditional", ...(missingParameters === undefined ? {} : { missingParameters }) };
    }),
    options,
  );
}

// Counts one use on the path's budgeted edges (each grant once); false when a budget is spent.
async function charge(context: DelegatedLookupContext, path: DelegationPath): Promise<boolean> {
  const budgeted = budgetedHops(path);
  if (budgeted.length === 0) return true;
  if (context.budgets === undefined) return false;
  const outcome = await context.budgets.chargeBudgets(budgeted.map(({ grant, limit }) => ({ grantId: grant.id, limit })));
  return "used" in outcome;
}

// The resource-independent part of a path's answer: every edge's scope covers the permission and
// every edge's caveat holds.
function pathMembership(context: DelegatedLookupContext, request: LookupResourcesRequest, path: DelegationPath): Membership {
  let membership = ALLOWED;
  for (const grant of path.hops) {
    if (!hopCovers(context.schema, grant, request.resourceType, request.permission)) return DENIED;
    if (grant.caveat !== undefined) membership = intersectionOf(membership, context.caveat(grant.caveat, request.context));
  }
  return membership;
}

function restrict(found: ReadonlyMap<string, Membership>, by: Membership): Map<string, Membership> {
  return new Map([...found].map(([id, membership]) => [id, intersectionOf(membership, by)]));
}

function intersect(left: ReadonlyMap<string, Membership>, right: ReadonlyMap<string, Membership>): Map<string, Membership> {
  const both = new Map<string, Membership>();
  for (const [id, membership] of left) {
    const other = right.get(id);
    if (other !== undefined) both.set(id, intersectionOf(membership, other));
  }
  return both;
}

function merge(into: Map<string, Membership>, found: ReadonlyMap<string, Membership>): void {
  for (const [id, membership] of found) {
    if (membership.permissionship === "denied") continue;
    const before = into.get(id);
    into.set(id, before === undefined ? membership : unionOf(before, membership));
  }
}
