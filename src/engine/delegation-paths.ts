import { formatObjectRef } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import { grantFromRelationship, scopeCovers } from "../schema/index.ts";
import type { Delegation, DelegationGrant, Schema } from "../schema/index.ts";
import type { RelationshipFilter, RelationshipReader } from "../store/index.ts";

/**
 * DelegationPath is a live chain of edges from an actor to a principal, actor first: `hops[0]`
 * is the actor's edge, each next hop the edge of the agent the previous one came `via`, the last
 * one granted by the principal itself. Every edge names the principal as its subject.
 */
export interface DelegationPath {
  readonly hops: readonly DelegationGrant[];
}

/**
 * PathSearch is what findDelegationPaths found: the usable paths, and one sentence for each edge
 * of the actor that leads nowhere usable (a missing or not-yet-valid parent, a chain too long).
 */
export interface PathSearch {
  readonly paths: readonly DelegationPath[];
  readonly unusable: readonly string[];
}

/** MAX_CHAIN_HOPS bounds a walk up `via` links, whatever the data says (the schema allows at most 16). */
const MAX_CHAIN_HOPS = 16;

/**
 * delegationsFor lists the delegations of `actorType` that may act for objects of `principalType`,
 * in declaration order (empty when the actor type has none: it can act for no one).
 */
export function delegationsFor(schema: Schema, actorType: string, principalType: string): Delegation[] {
  const definition = schema.definitions.get(actorType);
  if (definition === undefined) return [];
  return [...definition.delegations.values()].filter((delegation) => delegation.principals.some((allowed) => allowed.type === principalType));
}

/** delegationOf is the declaration an edge was granted under (BugError-free: undefined if the schema lost it). */
export function delegationOf(schema: Schema, grant: DelegationGrant): Delegation | undefined {
  return schema.definitions.get(grant.actor.type)?.delegations.get(grant.delegation);
}

/**
 * findDelegationPaths reads, at the reader's revision and clock, the paths along which `actor`
 * may act for `principal`: one per delegation of the actor's type that allows the principal's
 * type and has an edge `actor#delegation@principal`, followed up its `via` links. A path is
 * usable when every edge is live (the reader already hides deleted and expired ones), has begun
 * (notBefore and grantedAt ≤ reader.now), is the very grant its child was passed on from (the
 * `via` grant id), names no actor twice, and the path is no longer than the max_chain of any
 * edge on it.
 */
export async function findDelegationPaths(reader: RelationshipReader, schema: Schema, actor: ObjectRef, principal: ObjectRef): Promise<PathSearch> {
  const paths: DelegationPath[] = [];
  const unusable: string[] = [];
  for (const delegation of delegationsFor(schema, actor.type, principal.type)) {
    const walked = await walkUp(reader, schema, { actor, delegation: delegation.name }, principal);
    if (walked === undefined) continue;
    if (typeof walked === "string") unusable.push(walked);
    else paths.push(walked);
  }
  return { paths, unusable };
}

// Follows one edge and its `via` links to the principal: a path, a sentence saying why there is
// none, or undefined when the first edge does not exist at all.
async function walkUp(
  reader: RelationshipReader,
  schema: Schema,
  start: { readonly actor: ObjectRef; readonly delegation: string },
  principal: ObjectRef,
): Promise<DelegationPath | string | undefined> {
  const hops: DelegationGrant[] = [];
  const seen = new Set<string>();
  let next: { readonly actor: ObjectRef; readonly delegation: string; readonly grantId?: string } | undefined = start;
  while (next !== undefined) {
    const edge = `${formatObjectRef(next.actor)}#${next.delegation}@${formatObjectRef(principal)}`;
    const grant = await readEdge(reader, next, principal);
    if (grant === undefined) return hops.length === 0 ? undefined : `${describe(hops)} hangs off ${edge}, which is not live`;
    if (next.grantId !== undefined && grant.id !== next.grantId) {
      return `${describe(hops)} was passed on from grant ${next.grantId} of ${edge}, which has since been replaced by another grant`;
    }
    // An edge counts from when it was granted (so its lifetime is bounded) and from its not_before.
    const begins = Math.max(grant.notBefore.getTime(), grant.grantedAt.getTime());
    if (begins > reader.now.getTime()) return `${edge} is not valid before ${new Date(begins).toISOString()}`;
    const actorKey = formatObjectRef(grant.actor);
    if (seen.has(actorKey) || hops.length === MAX_CHAIN_HOPS) return `${describe(hops)} runs in a circle or past ${MAX_CHAIN_HOPS} hops`;
    seen.add(actorKey);
    hops.push(grant);
    next = grant.via;
  }
  const tooLong = hops.find((hop) => (delegationOf(schema, hop)?.maxChain ?? 0) < hops.length);
  if (tooLong !== undefined) {
    const limit = delegationOf(schema, tooLong)?.maxChain ?? 0;
    return `${describe(hops)} has ${hops.length} hops, more than the max_chain ${limit} of ${formatObjectRef(tooLong.actor)}#${tooLong.delegation}`;
  }
  return { hops };
}

async function readEdge(
  reader: RelationshipReader,
  edge: { readonly actor: ObjectRef; readonly delegation: string },
  principal: ObjectRef,
): Promise<DelegationGrant | undefined> {
  const [relationship] = await reader.queryRelationships(edgeFilter(edge.actor, edge.delegation, principal));
  return relationship === undefined ? undefined : grantFromRelationship(relationship);
}

function describe(hops: readonly DelegationGrant[]): string {
  const first = hops[0];
  return first === undefined ? "the chain" : `the chain from ${formatObjectRef(first.actor)}`;
}

/**
 * edgeFilter selects the edges of `delegation` from `actor` (every actor of its type when `id` is
 * undefined) acting for `principal`: e.g. `agent:b#acts_for@user:h`.
 */
export function edgeFilter(actor: { readonly type: string; readonly id?: string | undefined }, delegation: string, principal: ObjectRef): RelationshipFilter {
  return {
    resourceType: actor.type,
    ...(actor.id === undefined ? {} : { resourceId: actor.id }),
    relation: delegation,
    subject: { type: principal.type, id: principal.id, relation: null },
  };
}

/** edgeName is an edge in relationship form without its attributes: `agent:b#acts_for@user:h`. */
export function edgeName(grant: DelegationGrant): string {
  return `${formatObjectRef(grant.actor)}#${grant.delegation}@${formatObjectRef(grant.principal)}`;
}

/**
 * hopCovers tells whether an edge may be used for `type#permission`: its own scope covers it, and
 * so does the scope its delegation declares in the schema now (narrowing the schema narrows the
 * edges written before).
 */
export function hopCovers(schema: Schema, grant: DelegationGrant, type: string, permission: string): boolean {
  const declared = delegationOf(schema, grant);
  return declared !== undefined && scopeCovers(declared.scope, type, permission) && scopeCovers(grant.scope, type, permission);
}

/** BudgetedHop is a hop of a path that carries a budget: the edge, its place on the path, its limit. */
export interface BudgetedHop {
  readonly grant: DelegationGrant;
  readonly position: number;
  readonly limit: number;
}

/**
 * budgetedHops lists the hops of `path` that carry a budget, actor first, each grant id once (two
 * hops can share one only in imported data; a use is counted once per grant).
 */
export function budgetedHops(path: DelegationPath): BudgetedHop[] {
  const seen = new Set<string>();
  return path.hops.flatMap((grant, position) => {
    if (grant.budget === undefined || seen.has(grant.id)) return [];
    seen.add(grant.id);
    return [{ grant, position, limit: grant.budget }];
  });
}
