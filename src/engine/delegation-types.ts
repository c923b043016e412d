import type { CaveatRef, ObjectRef, Relationship } from "../tuple/index.ts";
import type { DelegationGrant } from "../schema/index.ts";
import type { Precondition } from "../store/index.ts";

/**
 * GrantRequest asks for a delegation edge: `actor` may act for `principal` within `scope`
 * (`type#permission`, `type#*` or `*` texts), from `notBefore` (default: now) until `expiresAt`
 * (default: now plus the delegation's max_lifetime). `delegation` names the actor type's
 * delegation (needed only when several allow the principal's type). `via` makes it a
 * sub-delegation: the actor acts for `principal` through `via`'s own live edge to `principal`,
 * which the new edge may not widen (scope) or outlive (not_before, expiry).
 */
export interface GrantRequest {
  readonly actor: ObjectRef;
  readonly principal: ObjectRef;
  readonly delegation?: string | undefined;
  readonly scope: readonly string[];
  readonly notBefore?: Date | undefined;
  readonly expiresAt?: Date | undefined;
  readonly via?: ObjectRef | undefined;
  readonly caveat?: CaveatRef | undefined;
  readonly budget?: number | undefined;
}

/**
 * GrantPlan is a validated grant ready to write: the edge, its relationship, and the
 * preconditions that keep the write honest if the store moved on since it was planned (the
 * parent edge of a sub-delegation must still be live).
 */
export interface GrantPlan {
  readonly grant: DelegationGrant;
  readonly relationship: Relationship;
  readonly preconditions: readonly Precondition[];
}

/**
 * RevokeSelector picks the edges a revocation deletes: one edge (`actor` for `principal`, through
 * `delegation` or every delegation of the actor's type), every edge of an actor, or every edge a
 * principal granted (edges acting for it, and sub-delegations it granted as an intermediate
 * agent). Sub-delegations that hang off a deleted edge are deleted with it.
 */
export type RevokeSelector =
  | { readonly kind: "edge"; readonly actor: ObjectRef; readonly principal: ObjectRef; readonly delegation?: string | undefined }
  | { readonly kind: "actor"; readonly actor: ObjectRef }
  | { readonly kind: "principal"; readonly principal: ObjectRef };

/** DelegationListFilter selects edges by actor (edges it holds) or by principal (edges acting for it). */
export type DelegationListFilter = { readonly actor: ObjectRef } | { readonly principal: ObjectRef };

/** ListedDelegation is one live edge with its budget's uses so far (undefined without a budget). */
export interface ListedDelegation {
  readonly grant: DelegationGrant;
  readonly used?: number | undefined;
}
