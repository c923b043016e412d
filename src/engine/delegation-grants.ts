import { randomUUID } from "node:crypto";
import { FailedPreconditionError, InvalidArgumentError, formatObjectRef } from "../tuple/index.ts";
import type { ObjectRef, Relationship } from "../tuple/index.ts";
import { formatScopeEntry, grantFromRelationship, grantToRelationship, parseScopeEntry, scopeWithin, validateGrant } from "../schema/index.ts";
import type { Delegation, DelegationGrant, Schema } from "../schema/index.ts";
import type { Precondition, RelationshipReader } from "../store/index.ts";
import type { BudgetCounter } from "./engine-types.ts";
import { delegationOf, delegationsFor, edgeFilter, edgeName, findDelegationPaths } from "./delegation-paths.ts";
import type { DelegationListFilter, GrantPlan, GrantRequest, ListedDelegation, RevokeSelector } from "./delegation-types.ts";

/**
 * planGrant validates `request` against the schema and, for a sub-delegation, against the live
 * edge it passes on (read from `reader`, the head), and returns the edge to write. Throws
 * InvalidArgumentError naming the field for a grant the schema forbids (`principal` of a type no
 * delegation of the actor allows, `delegation`, `scope[i]`, `expires_at` past max_lifetime, ...)
 * or that would widen (`scope`), start before (`not_before`) or outlive (`expires_at`) its parent,
 * or make a chain longer than max_chain (`via`); FailedPreconditionError (`via`) when the agent
 * passing it on has no live, usable edge for the principal. `now` is the grant time. Granting a
 * live edge again replaces it but keeps its grant id (its budget's uses, its sub-delegations).
 */
export async function planGrant(reader: RelationshipReader, schema: Schema, request: GrantRequest, now: Date): Promise<GrantPlan> {
  const delegation = chooseDelegation(schema, request);
  const scope = request.scope.map((text, i) => parseScopeEntry(text, `scope[${i}]`));
  const notBefore = request.notBefore ?? now;
  let expiresAt = request.expiresAt ?? new Date(now.getTime() + delegation.maxLifetimeMs);
  let chain = 1;
  let via: DelegationGrant["via"];
  const preconditions: Precondition[] = [];
  if (request.via !== undefined) {
    const parent = await liveParent(reader, schema, request.via, request.principal);
    const ancestors = parent.hops;
    const top = ancestors[0] as DelegationGrant;
    if (request.expiresAt === undefined && top.expiresAt < expiresAt) expiresAt = top.expiresAt;
    if (ancestors.some((hop) => sameObject(hop.actor, request.actor))) {
      throw new InvalidArgumentError(`actor: ${formatObjectRef(request.actor)} is already on the chain it would join; a chain names each agent once`, { field: "actor" });
    }
    if (!scopeWithin(scope, top.scope)) {
      throw new InvalidArgumentError(
        `scope: ${scope.map(formatScopeEntry).join(", ")} widens the scope of its parent ${edgeName(top)} (${top.scope.map(formatScopeEntry).join(", ")})`,
        { field: "scope" },
      );
    }
    if (expiresAt.getTime() > top.expiresAt.getTime()) {
      throw new InvalidArgumentError(`expires_at: ${expiresAt.toISOString()} outlives its parent ${edgeName(top)}, which expires at ${top.expiresAt.toISOString()}`, {
        field: "expires_at",
      });
    }
    if (notBefore.getTime() < top.notBefore.getTime()) {
      throw new InvalidArgumentError(`not_before: ${notBefore.toISOString()} is before its parent ${edgeName(top)} begins (${top.notBefore.toISOString()})`, {
        field: "not_before",
      });
    }
    chain = ancestors.length + 1;
    const limits = [delegation, ...ancestors.map((hop) => delegationOf(schema, hop))];
    const tightest = Math.min(...limits.map((limit) => limit?.maxChain ?? 0));
    if (chain > tightest) {
      throw new InvalidArgumentError(`via: the chain would have ${chain} hops, more than max_chain ${tightest} allows`, { field: "via" });
    }
    via = { actor: top.actor, delegation: top.delegation, grantId: top.id };
    preconditions.push({ operation: "must_match", filter: edgeFilter(top.actor, top.delegation, request.principal) });
  }
  // Granting a live edge again keeps its id: the uses counted against its budget still count, and
  // what was passed on from it stays attached (each hop is still checked at every check).
  const [current] = await reader.queryRelationships(edgeFilter(request.actor, delegation.name, request.principal));
  const grant: DelegationGrant = {
    actor: request.actor,
    delegation: delegation.name,
    principal: request.principal,
    id: current === undefined ? randomUUID() : grantFromRelationship(current).id,
    scope,
    notBefore,
    expiresAt,
    grantedAt: now,
    chain,
    ...(via === undefined ? {} : { via }),
    ...(request.caveat === undefined ? {} : { caveat: request.caveat }),
    ...(request.budget === undefined ? {} : { budget: request.budget }),
  };
  validateGrant(schema, grant, "");
  if (grant.expiresAt.getTime() <= now.getTime()) {
    throw new InvalidArgumentError(`expires_at: ${grant.expiresAt.toISOString()} is not in the future`, { field: "expires_at" });
  }
  return { grant, relationship: grantToRelationship(grant), preconditions };
}

function chooseDelegation(schema: Schema, request: GrantRequest): Delegation {
  const definition = schema.definitions.get(request.actor.type);
  if (definition === undefined) {
    throw new InvalidArgumentError(`actor.type: object definition \`${request.actor.type}\` not found in the schema`, { field: "actor.type" });
  }
  if (request.delegation !== undefined) {
    const named = definition.delegations.get(request.delegation);
    if (named === undefined) {
      throw new InvalidArgumentError(`delegation: \`${request.actor.type}\` declares no delegation \`${request.delegation}\``, { field: "delegation" });
    }
    return named;
  }
  const candidates = delegationsFor(schema, request.actor.type, request.principal.type);
  const [only, ...others] = candidates;
  if (only === undefined) {
    throw new InvalidArgumentError(
      `principal: no delegation of \`${request.actor.type}\` lets it act for \`${request.principal.type}\`` +
        (definition.delegations.size === 0 ? "" : ` (allowed: ${[...definition.delegations.values()].flatMap((d) => d.principals.map((p) => p.type)).join(", ")})`),
      { field: "principal" },
    );
  }
  if (others.length > 0) {
    throw new InvalidArgumentError(`delegation: several delegations of \`${request.actor.type}\` allow \`${request.principal.type}\` (${candidates.map((d) => d.name).join(", ")}); name one`, {
      field: "delegation",
    });
  }
  return only;
}

// The live path along which `agent` acts for `principal` now: the parent of a sub-delegation.
async function liveParent(reader: RelationshipReader, schema: Schema, agent: ObjectRef, principal: ObjectRef): Promise<{ hops: readonly DelegationGrant[] }> {
  const search = await findDelegationPaths(reader, schema, agent, principal);
  const [path] = search.paths;
  if (path === undefined) {
    const why = search.unusable.length === 0 ? "" : ` (${search.unusable.join("; ")})`;
    throw new FailedPreconditionError(`via: ${formatObjectRef(agent)} has no live delegation to act for ${formatObjectRef(principal)} that it could pass on${why}`, {
      field: "via",
    });
  }
  return path;
}

/**
 * planRevoke lists the live edges `selector` revokes at `reader` (the head), with every
 * sub-delegation that hangs off one of them, directly or further down: the relationships to
 * delete in one write. Empty when nothing matches (revoking is idempotent).
 */
export async function planRevoke(reader: RelationshipReader, schema: Schema, selector: RevokeSelector): Promise<Relationship[]> {
  const roots = await selectedEdges(reader, schema, selector);
  const revoked = new Map<string, Relationship>();
  const pending = [...roots];
  const byPrincipal = new Map<string, Promise<DelegationGrant[]>>();
  while (pending.length > 0) {
    const grant = pending.pop() as DelegationGrant;
    const key = edgeName(grant);
    if (revoked.has(key)) continue;
    revoked.set(key, grantToRelationship(grant));
    const principalKey = formatObjectRef(grant.principal);
    let siblings = byPrincipal.get(principalKey);
    if (siblings === undefined) {
      siblings = edgesFor(reader, schema, grant.principal);
      byPrincipal.set(principalKey, siblings);
    }
    for (const child of await siblings) {
      if (child.via !== undefined && sameObject(child.via.actor, grant.actor) && child.via.delegation === grant.delegation) pending.push(child);
    }
  }
  return [...revoked.values()];
}

async function selectedEdges(reader: RelationshipReader, schema: Schema, selector: RevokeSelector): Promise<DelegationGrant[]> {
  switch (selector.kind) {
    case "edge": {
      const all = await edgesOf(reader, schema, selector.actor);
      return all.filter((grant) => sameObject(grant.principal, selector.principal) && (selector.delegation === undefined || grant.delegation === selector.delegation));
    }
    case "actor":
      return edgesOf(reader, schema, selector.actor);
    case "principal": {
      // Edges acting for the principal, and those it passed on as an intermediate agent.
      const forIt = await edgesFor(reader, schema, selector.principal);
      const passedOn: DelegationGrant[] = [];
      for (const own of await edgesOf(reader, schema, selector.principal)) {
        for (const grant of await edgesFor(reader, schema, own.principal)) {
          if (grant.via !== undefined && sameObject(grant.via.actor, selector.principal)) passedOn.push(grant);
        }
      }
      return [...forIt, ...passedOn];
    }
  }
}

/**
 * listDelegations returns the live edges `filter` selects at `reader`, each with its budget's uses
 * so far: by actor (the edges it holds), or by principal (the edges acting for it, sub-delegations
 * included). Ordered by actor, delegation, then principal, as the store orders relationships.
 */
export async function listDelegations(reader: RelationshipReader, schema: Schema, filter: DelegationListFilter, budgets: Pick<BudgetCounter, "budgetUsage">): Promise<ListedDelegation[]> {
  const grants = "actor" in filter ? await edgesOf(reader, schema, filter.actor) : await edgesFor(reader, schema, filter.principal);
  const budgeted = grants.filter((grant) => grant.budget !== undefined).map((grant) => grant.id);
  const usage = budgeted.length === 0 ? new Map<string, number>() : await budgets.budgetUsage(budgeted);
  return grants.map((grant) => (grant.budget === undefined ? { grant } : { grant, used: usage.get(grant.id) ?? 0 }));
}

// Every live edge `actor` holds, under any delegation of its type.
async function edgesOf(reader: RelationshipReader, schema: Schema, actor: ObjectRef): Promise<DelegationGrant[]> {
  const definition = schema.definitions.get(actor.type);
  if (definition === undefined) return [];
  const grants: DelegationGrant[] = [];
  for (const delegation of definition.delegations.values()) {
    const found = await reader.queryRelationships({ resourceType: actor.type, resourceId: actor.id, relation: delegation.name });
    grants.push(...found.map(grantFromRelationship));
  }
  return grants;
}

// Every live edge acting for `principal`, under any delegation of any actor type that allows it.
async function edgesFor(reader: RelationshipReader, schema: Schema, principal: ObjectRef): Promise<DelegationGrant[]> {
  const grants: DelegationGrant[] = [];
  for (const definition of schema.definitions.values()) {
    for (const delegation of definition.delegations.values()) {
      if (!delegation.principals.some((allowed) => allowed.type === principal.type)) continue;
      const found = await reader.queryRelationships(edgeFilter({ type: definition.name, id: undefined }, delegation.name, principal));
      grants.push(...found.map(grantFromRelationship));
    }
  }
  return grants;
}


function sameObject(a: ObjectRef, b: ObjectRef): boolean {
  return a.type === b.type && a.id === b.id;
}
