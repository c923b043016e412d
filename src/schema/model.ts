// The compiled, type-checked schema: what the store validates writes against and what the engine
// walks. The parser's AST (ast.ts) keeps positions and comments; this model keeps meaning only.

/**
 * Schema is a compiled schema. `definitions` and `caveats` are keyed by name. `source` is the text
 * it was compiled from, returned as-is by ReadSchema.
 */
export interface Schema {
  readonly source: string;
  readonly definitions: ReadonlyMap<string, Definition>;
  readonly caveats: ReadonlyMap<string, CaveatDefinition>;
}

/** Definition is `definition name { ... }`: an object type with its relations and permissions. */
export interface Definition {
  readonly name: string;
  readonly comment?: string | undefined;
  readonly relations: ReadonlyMap<string, Relation>;
  readonly permissions: ReadonlyMap<string, Permission>;
  /** delegations: the `delegation` declarations of this definition, keyed by name (empty for most definitions). */
  readonly delegations: ReadonlyMap<string, Delegation>;
}

/**
 * Delegation is `delegation acts_for: user | agent with on_ticket { ... }` in the definition of an
 * actor type (an AI agent, a service account): objects of `actorType` may act on behalf of
 * objects of the principal types, through edges stored as relationships
 * `agent:copilot#acts_for@user:ann` (see delegation-grant.ts). Its name shares the namespace of the
 * definition's relations and permissions, and no permission may refer to it. The block:
 * - `scope document#view | document#edit | repository#*` (or `scope *`): the most an edge may cover;
 *   required;
 * - `max_lifetime 30d`: the longest an edge may live from when it is granted (default 24h: no edge
 *   is forever); units d, h, m, s, combinable (`1h30m`);
 * - `max_chain 3`: the most hops a path of edges may have through an edge of this delegation
 *   (default 1: no sub-delegation);
 * - `ceiling`: the actor's own grants cap what it may do for anyone.
 */
export interface Delegation {
  readonly name: string;
  readonly comment?: string | undefined;
  readonly actorType: string;
  readonly principals: readonly DelegationPrincipal[];
  readonly scope: readonly ScopeEntry[];
  readonly maxLifetimeMs: number;
  readonly maxChain: number;
  readonly ceiling: boolean;
}

/**
 * DelegationPrincipal is one alternative of a delegation's principal types: `user` (edges carry no
 * caveat) or `user with on_ticket` (edges carry that caveat). `user | user with on_ticket` allows both.
 */
export interface DelegationPrincipal {
  readonly type: string;
  readonly caveat?: string | undefined;
}

/**
 * ScopeEntry is one `type#permission` a delegation covers: `document#view`; `document#*` (every
 * relation and permission of document: permission "*"); `*` (everything: type and permission "*").
 */
export interface ScopeEntry {
  readonly type: string;
  readonly permission: string;
}

/** Relation is `relation name: user | group#member | user:*`: stored data with allowed subject types. */
export interface Relation {
  readonly name: string;
  readonly comment?: string | undefined;
  readonly allowedSubjects: readonly AllowedSubject[];
}

/**
 * AllowedSubject is one alternative of a relation's type expression, e.g. `group#member`,
 * `user:*`, `user with only_weekdays`, `user with expiration`.
 * - `relation` set: a userset (`group#member`); undefined: a plain object (`user`).
 * - `wildcard` true: `user:*` (relation is then undefined).
 * - `caveat`: the relationship must carry this caveat (`with name`).
 * - `expiration`: the relationship may (and here must be allowed to) carry an expiry.
 */
export interface AllowedSubject {
  readonly type: string;
  readonly relation?: string | undefined;
  readonly wildcard: boolean;
  readonly caveat?: string | undefined;
  readonly expiration: boolean;
}

/** Permission is `permission name = expression`: computed, never stored. */
export interface Permission {
  readonly name: string;
  readonly comment?: string | undefined;
  readonly expression: PermissionExpression;
}

/**
 * PermissionExpression is the rewrite tree of a permission.
 * Precedence is resolved by the parser: `+` binds tighter than `&`, which binds tighter than `-`.
 * - `union` / `intersection`: two or more children.
 * - `exclusion`: `base - subtract`.
 * - `computed`: a relation or permission of the same object (`viewer`).
 * - `arrow`: `tupleset->target` (`mode` "any"), `tupleset.any(target)`, or `tupleset.all(target)`:
 *   for each subject of relation `tupleset`, `target` on that subject.
 * - `nil`: the empty set.
 */
export type PermissionExpression =
  | { readonly kind: "union"; readonly children: readonly PermissionExpression[] }
  | { readonly kind: "intersection"; readonly children: readonly PermissionExpression[] }
  | { readonly kind: "exclusion"; readonly base: PermissionExpression; readonly subtract: PermissionExpression }
  | { readonly kind: "computed"; readonly name: string }
  | { readonly kind: "arrow"; readonly tupleset: string; readonly target: string; readonly mode: "any" | "all" }
  | { readonly kind: "nil" };

/** CaveatParameterType is a CEL type as written in a caveat's parameter list. */
export type CaveatParameterType =
  | { readonly kind: "int" | "uint" | "double" | "bool" | "string" | "bytes" | "duration" | "timestamp" | "ipaddress" | "any" }
  | { readonly kind: "list"; readonly element: CaveatParameterType }
  | { readonly kind: "map"; readonly value: CaveatParameterType };

/**
 * CaveatDefinition is `caveat name(param type, ...) { expression }`; `expression` is CEL source
 * text, parsed and type-checked against the parameters (it is a bool) by the compiler.
 */
export interface CaveatDefinition {
  readonly name: string;
  readonly comment?: string | undefined;
  readonly parameters: ReadonlyMap<string, CaveatParameterType>;
  readonly expression: string;
}
