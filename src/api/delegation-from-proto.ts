import type { ObjectRef } from "../tuple/index.ts";
import { InvalidArgumentError, validateRelationName } from "../tuple/index.ts";
import type { DelegationListFilter, GrantRequest, RevokeSelector } from "../engine/index.ts";
import { caveatRefFromWire, objectRefFromWire } from "./from-proto.ts";
import { fromWireTimestamp } from "./struct-codec.ts";
import type { WireGrantDelegationRequest, WireListDelegationsRequest, WireRevokeDelegationsRequest } from "./wire-types.ts";

// Converts DelegationService requests to the engine's terms, checking form only (names, ids,
// required fields, which selector is set); whether the schema allows the edge is planGrant's
// business. Every error names the proto field, e.g. `caveat.caveat_name`.

/** MAX_SCOPE_ENTRIES bounds a grant's scope: a scope lists kinds of access, not resources. */
const MAX_SCOPE_ENTRIES = 256;

/**
 * grantRequestFromWire decodes a GrantDelegation request. Unset timestamps, an empty delegation
 * and a budget of 0 mean "not given" (the engine picks the defaults).
 */
export function grantRequestFromWire(wire: WireGrantDelegationRequest): GrantRequest {
  const actor = objectRefFromWire(wire.actor, "actor");
  const principal = objectRefFromWire(wire.principal, "principal");
  const delegation = wire.delegation || undefined;
  if (delegation !== undefined) validateRelationName(delegation, "delegation");
  const scope = wire.scope ?? [];
  if (scope.length === 0) throw new InvalidArgumentError("scope: is required (at least one `type#permission`, `type#*` or `*`)", { field: "scope" });
  if (scope.length > MAX_SCOPE_ENTRIES) {
    throw new InvalidArgumentError(`scope: has ${scope.length} entries, more than the maximum of ${MAX_SCOPE_ENTRIES}`, { field: "scope" });
  }
  return {
    actor,
    principal,
    delegation,
    scope: [...scope],
    notBefore: wire.notBefore ? fromWireTimestamp(wire.notBefore, "not_before") : undefined,
    expiresAt: wire.expiresAt ? fromWireTimestamp(wire.expiresAt, "expires_at") : undefined,
    via: wire.via ? objectRefFromWire(wire.via, "via") : undefined,
    caveat: wire.caveat ? caveatRefFromWire(wire.caveat, "caveat") : undefined,
    budget: wire.budget ? wire.budget : undefined,
  };
}

/** listFilterFromWire decodes the selector of a ListDelegations request: exactly one of actor and principal. */
export function listFilterFromWire(wire: WireListDelegationsRequest): DelegationListFilter {
  switch (wire.selector) {
    case "actor":
      return { actor: objectRefFromWire(wire.actor, "actor") };
    case "principal":
      return { principal: objectRefFromWire(wire.principal, "principal") };
    default:
      throw new InvalidArgumentError("actor: set actor (the edges it holds) or principal (the edges acting for it)", { field: "actor" });
  }
}

/** revokeSelectorFromWire decodes the selector of a RevokeDelegations request: exactly one of edge, actor and principal. */
export function revokeSelectorFromWire(wire: WireRevokeDelegationsRequest): RevokeSelector {
  switch (wire.selector) {
    case "edge": {
      const edge = wire.edge ?? {};
      const actor: ObjectRef = objectRefFromWire(edge.actor, "edge.actor");
      const principal: ObjectRef = objectRefFromWire(edge.principal, "edge.principal");
      const delegation = edge.delegation || undefined;
      if (delegation !== undefined) validateRelationName(delegation, "edge.delegation");
      return { kind: "edge", actor, principal, delegation };
    }
    case "actor":
      return { kind: "actor", actor: objectRefFromWire(wire.actor, "actor") };
    case "principal":
      return { kind: "principal", principal: objectRefFromWire(wire.principal, "principal") };
    default:
      throw new InvalidArgumentError("edge: set edge (one actor for one principal), actor or principal", { field: "edge" });
  }
}
