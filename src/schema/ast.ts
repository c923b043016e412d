// The parser's output: the schema as written, with positions and doc comments, before any name is
// resolved. The compiler (compiler.ts) checks it and turns it into the model (model.ts).

/** SourcePosition is a 1-based line and column in the schema text. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** NameAst is an identifier as written, with where it was written. */
export interface NameAst {
  readonly text: string;
  readonly position: SourcePosition;
}

/** SchemaAst is one schema file: its `use` flags, then definitions and caveats in source order. */
export interface SchemaAst {
  readonly useFlags: readonly NameAst[];
  readonly definitions: readonly DefinitionAst[];
  readonly caveats: readonly CaveatAst[];
}

/** DefinitionAst is `definition name { ... }`; `members` keeps relations, permissions and delegations in order. */
export interface DefinitionAst {
  readonly name: NameAst;
  readonly comment: string | undefined;
  readonly members: readonly (RelationAst | PermissionAst | DelegationAst)[];
}

/** RelationAst is `relation name: a | b#c | d:*`, with one TypeReferenceAst per alternative. */
export interface RelationAst {
  readonly kind: "relation";
  readonly name: NameAst;
  readonly comment: string | undefined;
  readonly types: readonly TypeReferenceAst[];
}

/**
 * TypeReferenceAst is one alternative of a relation's type: `user`, `group#member`, `user:*`, each
 * optionally `with caveat`, `with expiration` or `with caveat and expiration`.
 */
export interface TypeReferenceAst {
  readonly type: NameAst;
  readonly relation: NameAst | undefined;
  readonly wildcard: boolean;
  readonly caveat: NameAst | undefined;
  readonly expiration: boolean;
}

/**
 * DelegationAst is `delegation name: user | agent with cav { options }`: its principal types and its
 * options in the order written (duplicates and a missing `scope` are the compiler's to report).
 */
export interface DelegationAst {
  readonly kind: "delegation";
  readonly name: NameAst;
  readonly comment: string | undefined;
  readonly principals: readonly DelegationPrincipalAst[];
  readonly options: readonly DelegationOptionAst[];
}

/** DelegationPrincipalAst is one principal type of a delegation: `user` or `user with cav`. */
export interface DelegationPrincipalAst {
  readonly type: NameAst;
  readonly caveat: NameAst | undefined;
}

/**
 * DelegationOptionAst is one option of a delegation block, `keyword` as written:
 * - `scope`: its entries (`document#view`, `document#*`, or `*` alone: type and permission `*`);
 * - `max_lifetime` / `max_chain`: the value as written (`30d`, `2`), checked by the compiler;
 * - `ceiling`: a flag.
 */
export type DelegationOptionAst =
  | { readonly kind: "scope"; readonly keyword: NameAst; readonly entries: readonly ScopeEntryAst[] }
  | { readonly kind: "max_lifetime" | "max_chain"; readonly keyword: NameAst; readonly value: NameAst }
  | { readonly kind: "ceiling"; readonly keyword: NameAst };

/** ScopeEntryAst is one `type#permission` of a scope; `*` is written as type and permission `*`. */
export interface ScopeEntryAst {
  readonly type: NameAst;
  readonly permission: NameAst;
}

/** PermissionAst is `permission name = expression`. */
export interface PermissionAst {
  readonly kind: "permission";
  readonly name: NameAst;
  readonly comment: string | undefined;
  readonly expression: ExpressionAst;
}

/**
 * ExpressionAst is a permission expression as parsed: binary operators are kept as a tree with the
 * position of the operator; the compiler flattens them.
 */
export type ExpressionAst =
  | {
      readonly kind: "union" | "intersection" | "exclusion";
      readonly position: SourcePosition;
      readonly left: ExpressionAst;
      readonly right: ExpressionAst;
    }
  | { readonly kind: "reference"; readonly name: NameAst }
  | { readonly kind: "arrow"; readonly tupleset: NameAst; readonly target: NameAst; readonly mode: "any" | "all" }
  | { readonly kind: "nil"; readonly position: SourcePosition };

/**
 * CaveatAst is `caveat name(param type, ...) { expression }`; `expression` is the CEL text inside
 * the braces without surrounding white space, and `expressionPosition` where that text starts
 * (where the braces' content starts, when it is empty).
 */
export interface CaveatAst {
  readonly name: NameAst;
  readonly comment: string | undefined;
  readonly parameters: readonly CaveatParameterAst[];
  readonly expression: string;
  readonly expressionPosition: SourcePosition;
}

/** CaveatParameterAst is one `name type` of a caveat's parameter list. */
export interface CaveatParameterAst {
  readonly name: NameAst;
  readonly type: CaveatTypeAst;
}

/** CaveatTypeAst is a parameter type as written: a name and its generic arguments (`map<list<int>>`). */
export interface CaveatTypeAst {
  readonly name: NameAst;
  readonly typeArguments: readonly CaveatTypeAst[];
}
