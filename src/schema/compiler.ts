import { assertNever } from "../tuple/index.ts";
import type {
  CaveatAst,
  CaveatTypeAst,
  DefinitionAst,
  DelegationAst,
  ExpressionAst,
  NameAst,
  PermissionAst,
  RelationAst,
  SchemaAst,
  SourcePosition,
  TypeReferenceAst,
} from "./ast.ts";
import { compileDelegation } from "./delegation-compiler.ts";
import { didYouMean } from "./did-you-mean.ts";
import { SchemaError } from "./errors.ts";
import type { SchemaDiagnostic } from "./errors.ts";
import { formatAllowedSubject } from "./format-allowed-subject.ts";
import type {
  AllowedSubject,
  CaveatDefinition,
  CaveatParameterType,
  Definition,
  Delegation,
  Permission,
  PermissionExpression,
  Relation,
  Schema,
} from "./model.ts";
import { advance, parseSchema } from "./parser.ts";
import { checkCaveatExpression } from "./caveat-expression.ts";

// SpiceDB's name rules: 3 to 64 characters, lower case, not ending in `_`; definitions may carry
// `prefix/` segments of the same shape.
const SEGMENT = "[a-z][a-z0-9_]{1,62}[a-z0-9]";
const MEMBER_NAME = new RegExp(`^${SEGMENT}$`);
const TYPE_NAME = new RegExp(`^(?:${SEGMENT}/)*${SEGMENT}$`);

type ScalarKind = Exclude<CaveatParameterType["kind"], "list" | "map">;
const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarKind>(["int", "uint", "double", "bool", "string", "bytes", "duration", "timestamp", "ipaddress", "any"]);
const GENERIC_TYPES: ReadonlySet<string> = new Set(["list", "map"]);

function isScalarType(name: string): name is ScalarKind {
  return SCALAR_TYPES.has(name);
}

// `use typechecking` asks SpiceDB for stricter checks; Mandate accepts it and checks what it always checks.
const SUPPORTED_FLAGS = new Set(["expiration", "typechecking"]);
// Real SpiceDB flags whose features Mandate does not implement; named so the message can say so.
const UNSUPPORTED_FLAGS = new Set(["self", "import", "partial"]);

/**
 * compileSchema parses and type-checks schema text and returns the compiled model. It throws
 * SchemaError: at the first syntax error (including expressions beyond the parser's size limits),
 * or with every type error found (unknown names, duplicates, invalid names, arrows, wildcards,
 * caveats and their CEL expressions, permission cycles without a base case). Positions in the
 * diagnostics refer to `fileName`; a problem inside a caveat expression is placed at its token.
 */
export function compileSchema(source: string, fileName = "schema.zed"): Schema {
  return new Compiler(parseSchema(source, fileName), source, fileName).compile();
}

interface DefinitionScope {
  readonly ast: DefinitionAst;
  readonly relations: Map<string, RelationAst>;
  readonly permissions: Map<string, PermissionAst>;
  readonly delegations: Map<string, DelegationAst>;
}

// Caveats Mandate defines itself (`mandate/delegation` on delegation edges) carry this prefix.
const RESERVED_CAVEAT_PREFIX = "mandate/";

// Why a delegation is never part of a permission: its edges are checked only with `onBehalfOf`.
const DELEGATION_NOT_A_SET =
  "a delegation is not a set of subjects: its edges let an actor act for a principal only in a check made on the principal's behalf";

/** WildcardPath is a wildcard `type:*` reached from a relation, and the relation `via` that allows it. */
interface WildcardPath {
  readonly type: string;
  readonly via: string;
}

class Compiler {
  readonly #ast: SchemaAst;
  readonly #source: string;
  readonly #fileName: string;
  readonly #diagnostics: SchemaDiagnostic[] = [];
  readonly #scopes = new Map<string, DefinitionScope>();
  readonly #caveats = new Map<string, CaveatAst>();
  // `type#relation` -> the wildcard it reaches through subject relations, or null for none.
  readonly #wildcards = new Map<string, WildcardPath | null>();
  #expirationEnabled = false;

  constructor(ast: SchemaAst, source: string, fileName: string) {
    this.#ast = ast;
    this.#source = source;
    this.#fileName = fileName;
  }

  compile(): Schema {
    this.#checkUseFlags();
    this.#collectTopLevelNames();
    const caveats = new Map<string, CaveatDefinition>();
    for (const caveat of this.#caveats.values()) caveats.set(caveat.name.text, this.#compileCaveat(caveat));
    const definitions = new Map<string, Definition>();
    for (const scope of this.#scopes.values()) definitions.set(scope.ast.name.text, this.#compileDefinition(scope));
    for (const scope of this.#scopes.values()) this.#checkPermissionCycles(scope);
    if (this.#diagnostics.length > 0) throw new SchemaError(this.#diagnostics);
    return { source: this.#source, definitions, caveats };
  }

  #report(position: SourcePosition, message: string): void {
    this.#diagnostics.push({ fileName: this.#fileName, line: position.line, column: position.column, message });
  }

  #checkUseFlags(): void {
    for (const flag of this.#ast.useFlags) {
      if (flag.text === "expiration") this.#expirationEnabled = true;
      if (SUPPORTED_FLAGS.has(flag.text)) continue;
      if (UNSUPPORTED_FLAGS.has(flag.text)) {
        this.#report(flag.position, `\`use ${flag.text}\` is a SpiceDB feature that Mandate does not support`);
      } else {
        this.#report(flag.position, `unknown flag \`use ${flag.text}\`; the known flags are: ${[...SUPPORTED_FLAGS].join(", ")}${didYouMean(flag.text, SUPPORTED_FLAGS)}`);
      }
    }
  }

  // Definitions and caveats share one namespace, as in SpiceDB.
  #collectTopLevelNames(): void {
    const declared = new Map<string, { kind: string; position: SourcePosition }>();
    const claim = (name: NameAst, kind: string): boolean => {
      // SpiceDB v1.54 checks the shape of definition names only; any identifier names a caveat.
      if (kind === "definition") this.#checkName(name, TYPE_NAME, kind);
      const previous = declared.get(name.text);
      if (previous !== undefined) {
        const also = previous.kind === kind ? "" : " (definitions and caveats share one namespace)";
        this.#report(name.position, `${kind} "${name.text}" is already declared as a ${previous.kind} at ${previous.position.line}:${previous.position.column}${also}`);
        return false;
      }
      declared.set(name.text, { kind, position: name.position });
      return true;
    };
    type TopLevel = { kind: "definition"; ast: DefinitionAst } | { kind: "caveat"; ast: CaveatAst };
    const inOrder: TopLevel[] = [
      ...this.#ast.definitions.map((ast): TopLevel => ({ kind: "definition", ast })),
      ...this.#ast.caveats.map((ast): TopLevel => ({ kind: "caveat", ast })),
    ].sort((a, b) => a.ast.name.position.line - b.ast.name.position.line || a.ast.name.position.column - b.ast.name.position.column);
    for (const item of inOrder) {
      if (!claim(item.ast.name, item.kind)) continue;
      if (item.kind === "caveat") {
        if (item.ast.name.text.startsWith(RESERVED_CAVEAT_PREFIX)) {
          this.#report(item.ast.name.position, `caveat name "${item.ast.name.text}" is reserved: the prefix \`${RESERVED_CAVEAT_PREFIX}\` belongs to Mandate's own caveats`);
        }
        this.#caveats.set(item.ast.name.text, item.ast);
      } else {
        this.#scopes.set(item.ast.name.text, this.#collectMembers(item.ast));
      }
    }
  }

  // Relations, permissions and delegations share one namespace per definition.
  #collectMembers(ast: DefinitionAst): DefinitionScope {
    const scope: DefinitionScope = { ast, relations: new Map(), permissions: new Map(), delegations: new Map() };
    for (const member of ast.members) {
      this.#checkName(member.name, MEMBER_NAME, member.kind);
      const name = member.name.text;
      const existing = scope.relations.get(name) ?? scope.permissions.get(name) ?? scope.delegations.get(name);
      if (existing !== undefined) {
        const at = `${existing.name.position.line}:${existing.name.position.column}`;
        const shared = scope.delegations.size > 0 || member.kind === "delegation" ? "relations, permissions and delegations" : "relations and permissions";
        this.#report(
          member.name.position,
          `${member.kind} "${name}" is already declared as a ${existing.kind} on definition "${ast.name.text}" at ${at} (${shared} share one namespace)`,
        );
        continue;
      }
      switch (member.kind) {
        case "relation":
          scope.relations.set(name, member);
          break;
        case "permission":
          scope.permissions.set(name, member);
          break;
        case "delegation":
          scope.delegations.set(name, member);
          break;
        default:
          assertNever(member, "definition member");
      }
    }
    return scope;
  }

  #checkName(name: NameAst, pattern: RegExp, kind: string): void {
    if (pattern.test(name.text)) return;
    const prefixed = pattern === TYPE_NAME ? ", optionally prefixed as `prefix/name`" : "";
    this.#report(
      name.position,
      `${kind} name "${name.text}" is invalid: ${nameProblem(name.text, pattern === TYPE_NAME)}; names are 3 to 64 characters of a-z, 0-9 and _, start with a letter and do not end with _${prefixed}`,
    );
  }

  #compileCaveat(ast: CaveatAst): CaveatDefinition {
    const parameters = new Map<string, CaveatParameterType>();
    for (const parameter of ast.parameters) {
      if (parameters.has(parameter.name.text)) {
        this.#report(parameter.name.position, `parameter "${parameter.name.text}" is declared twice on caveat "${ast.name.text}"`);
        continue;
      }
      const type = this.#compileCaveatType(parameter.type, parameter.name.text, ast.name.text);
      if (type !== undefined) parameters.set(parameter.name.text, type);
    }
    if (ast.expression === "") {
      this.#report(ast.expressionPosition, `caveat "${ast.name.text}" has an empty expression`);
    } else {
      // A parameter whose type was rejected above is checked as `any`, so that it is reported once.
      const declared = new Map<string, CaveatParameterType>(ast.parameters.map((parameter) => [parameter.name.text, { kind: "any" }]));
      for (const [name, type] of parameters) declared.set(name, type);
      const checked = checkCaveatExpression(ast.expression, declared);
      for (const problem of checked.problems) {
        const at = advance(ast.expressionPosition, ast.expression.slice(0, problem.offset));
        this.#report(at, `invalid expression of caveat "${ast.name.text}": ${problem.message}`);
      }
      // SpiceDB rejects a caveat whose expression ignores a parameter; after another problem
      // (often a misspelt parameter) that would only add noise.
      for (const parameter of checked.problems.length > 0 ? [] : ast.parameters) {
        if (checked.usedParameters !== undefined && !checked.usedParameters.has(parameter.name.text)) {
          this.#report(parameter.name.position, `parameter "${parameter.name.text}" of caveat "${ast.name.text}" is never used in its expression`);
        }
      }
    }
    return { name: ast.name.text, comment: ast.comment, parameters, expression: ast.expression };
  }

  #compileCaveatType(ast: CaveatTypeAst, parameter: string, caveat: string): CaveatParameterType | undefined {
    const name = ast.name.text;
    const where = `parameter "${parameter}" of caveat "${caveat}"`;
    if (isScalarType(name)) {
      // SpiceDB v1.54 ignores type arguments on a scalar (`int<int>`); Mandate calls them a mistake.
      if (ast.typeArguments.length > 0) {
        this.#report(ast.name.position, `type "${name}" of ${where} takes no type arguments`);
        return undefined;
      }
      return { kind: name };
    }
    if (GENERIC_TYPES.has(name)) {
      const [argument] = ast.typeArguments;
      if (ast.typeArguments.length !== 1 || argument === undefined) {
        const shape = name === "map" ? "map<V> (keys are strings)" : "list<T>";
        this.#report(ast.name.position, `type "${name}" of ${where} needs exactly one type argument: ${shape}`);
        return undefined;
      }
      const element = this.#compileCaveatType(argument, parameter, caveat);
      if (element === undefined) return undefined;
      return name === "list" ? { kind: "list", element } : { kind: "map", value: element };
    }
    const known = [...SCALAR_TYPES, ...GENERIC_TYPES];
    this.#report(ast.name.position, `unknown type "${name}" for ${where}; known types: ${known.join(", ")}${didYouMean(name, known)}`);
    return undefined;
  }

  #compileDefinition(scope: DefinitionScope): Definition {
    const relations = new Map<string, Relation>();
    for (const ast of scope.relations.values()) {
      relations.set(ast.name.text, { name: ast.name.text, comment: ast.comment, allowedSubjects: this.#compileAllowedSubjects(scope, ast) });
    }
    const permissions = new Map<string, Permission>();
    for (const ast of scope.permissions.values()) {
      permissions.set(ast.name.text, { name: ast.name.text, comment: ast.comment, expression: this.#compileExpression(scope, ast, ast.expression) });
    }
    const delegations = new Map<string, Delegation>();
    const context = { definitions: this.#scopes, caveats: new Set(this.#caveats.keys()), report: this.#report.bind(this) };
    for (const ast of scope.delegations.values()) {
      delegations.set(ast.name.text, compileDelegation(ast, scope.ast.name.text, context));
    }
    return { name: scope.ast.name.text, comment: scope.ast.comment, relations, permissions, delegations };
  }

  #compileAllowedSubjects(scope: DefinitionScope, relation: RelationAst): AllowedSubject[] {
    const allowed: AllowedSubject[] = [];
    const seen = new Set<string>();
    const where = `relation "${scope.ast.name.text}#${relation.name.text}"`;
    for (const reference of relation.types) {
      const subject: AllowedSubject = {
        type: reference.type.text,
        relation: reference.relation?.text,
        wildcard: reference.wildcard,
        caveat: reference.caveat?.text,
        expiration: reference.expiration,
      };
      this.#checkTypeReference(reference, scope.ast.name.text, where);
      const text = formatAllowedSubject(subject);
      if (seen.has(text)) {
        this.#report(reference.type.position, `subject type \`${text}\` is listed twice on ${where}`);
        continue;
      }
      seen.add(text);
      allowed.push(subject);
    }
    return allowed;
  }

  #checkTypeReference(reference: TypeReferenceAst, definition: string, where: string): void {
    const typeName = reference.type.text;
    const target = this.#scopes.get(typeName);
    if (target === undefined) {
      const isCaveat = this.#caveats.has(typeName) ? ` ("${typeName}" is a caveat; write \`with ${typeName}\` after a type)` : "";
      this.#report(reference.type.position, `definition "${typeName}" is not defined, in ${where}${isCaveat}${didYouMean(typeName, this.#scopes.keys())}`);
    } else if (reference.relation !== undefined) {
      const name = reference.relation.text;
      const subjectRelation = target.relations.get(name);
      if (target.delegations.has(name)) {
        this.#report(reference.relation.position, `\`${typeName}#${name}\` is a delegation, which cannot be a subject type, in ${where}; ${DELEGATION_NOT_A_SET}`);
      } else if (subjectRelation === undefined && !target.permissions.has(name)) {
        this.#report(
          reference.relation.position,
          `relation or permission "${name}" is not defined on definition "${typeName}", in ${where}${didYouMean(name, memberNames(target))}`,
        );
      }
      // SpiceDB forbids reaching a wildcard through a subject relation of another definition
      // ("wildcard relations cannot be transitively included"). It allows it within one definition
      // (`relation other: group#member` on group) and behind a permission; so do we, to accept
      // every schema it accepts (measured with SpiceDB v1.54).
      const wildcard = typeName === definition ? undefined : this.#wildcardThrough(typeName, name);
      if (wildcard !== undefined) {
        const via = wildcard.via === `${typeName}#${name}` ? "" : ` through relation "${wildcard.via}"`;
        this.#report(
          reference.type.position,
          `\`${typeName}#${name}\` cannot be a subject type of ${where}: relation "${typeName}#${name}" includes the wildcard \`${wildcard.type}:*\`${via}, and wildcards cannot be included through a subject relation`,
        );
      }
    }
    if (reference.caveat !== undefined && !this.#caveats.has(reference.caveat.text)) {
      const name = reference.caveat.text;
      const hint =
        name === "expiration" && !this.#expirationEnabled
          ? "; `with expiration` requires `use expiration` at the top of the schema"
          : didYouMean(name, this.#caveats.keys());
      this.#report(reference.caveat.position, `caveat "${name}" is not defined, in ${where}${hint}`);
    }
  }

  // Finds a wildcard that relation `typeName#name` allows, directly or through the relations of
  // its subject types (`group#member` -> `group#everyone` -> `user:*`); permissions stop the walk.
  // Depth first with an explicit stack, so that a chain of thousands of relations cannot exhaust
  // the call stack; results are remembered, so that checking every link of such a chain stays linear.
  #wildcardThrough(typeName: string, name: string): WildcardPath | undefined {
    const start = `${typeName}#${name}`;
    const known = this.#wildcards.get(start);
    if (known !== undefined) return known ?? undefined;
    const visited = new Set<string>([start]);
    const path: { key: string; subjects: readonly TypeReferenceAst[]; next: number }[] = [];
    // Returns the wildcard the relation allows directly, or queues its subject types and returns
    // undefined (a permission or an unknown name allows nothing and queues nothing).
    const enter = (type: string, relationName: string): WildcardPath | undefined => {
      const key = `${type}#${relationName}`;
      const relation = this.#scopes.get(type)?.relations.get(relationName);
      if (relation === undefined) return undefined;
      const wildcard = relation.types.find((candidate) => candidate.wildcard);
      if (wildcard !== undefined) return { type: wildcard.type.text, via: key };
      path.push({ key, subjects: relation.types, next: 0 });
      return undefined;
    };
    let found = enter(typeName, name);
    while (found === undefined && path.length > 0) {
      const top = path[path.length - 1] as (typeof path)[number];
      const subject = top.subjects[top.next++];
      if (subject === undefined) {
        path.pop();
        continue;
      }
      if (subject.relation === undefined) continue;
      const key = `${subject.type.text}#${subject.relation.text}`;
      const remembered = this.#wildcards.get(key);
      if (remembered !== undefined && remembered !== null) {
        found = remembered;
      } else if (remembered === undefined && !visited.has(key)) {
        visited.add(key);
        found = enter(subject.type.text, subject.relation.text);
      }
    }
    if (found !== undefined) {
      // Every relation on the path reaches the wildcard; a walk that found none saw everything
      // reachable from each relation it visited, so none of them reaches one.
      for (const step of path) this.#wildcards.set(step.key, found);
      this.#wildcards.set(start, found);
      return found;
    }
    for (const key of visited) this.#wildcards.set(key, null);
    return undefined;
  }

  #compileExpression(scope: DefinitionScope, permission: PermissionAst, ast: ExpressionAst): PermissionExpression {
    switch (ast.kind) {
      case "union":
      case "intersection": {
        // `a + b + c` parses as `(a + b) + c`; the model keeps one flat node per run of one operator.
        const children: PermissionExpression[] = [];
        for (const side of [ast.left, ast.right]) {
          const child = this.#compileExpression(scope, permission, side);
          if (child.kind === ast.kind) children.push(...child.children);
          else children.push(child);
        }
        return { kind: ast.kind, children };
      }
      case "exclusion":
        return {
          kind: "exclusion",
          base: this.#compileExpression(scope, permission, ast.left),
          subtract: this.#compileExpression(scope, permission, ast.right),
        };
      case "reference":
        if (scope.delegations.has(ast.name.text)) {
          this.#report(ast.name.position, this.#delegationReferenced(scope.ast.name.text, ast.name.text, permission));
        } else if (!scope.relations.has(ast.name.text) && !scope.permissions.has(ast.name.text)) {
          this.#report(ast.name.position, this.#notDefinedOn(scope, ast.name.text, permission));
        }
        return { kind: "computed", name: ast.name.text };
      case "arrow":
        this.#checkArrow(scope, permission, ast.tupleset, ast.target);
        return { kind: "arrow", tupleset: ast.tupleset.text, target: ast.target.text, mode: ast.mode };
      case "nil":
        return { kind: "nil" };
      default:
        return assertNever(ast, "permission expression");
    }
  }

  #notDefinedOn(scope: DefinitionScope, name: string, permission: PermissionAst): string {
    const definition = scope.ast.name.text;
    return `relation or permission "${name}" is not defined on definition "${definition}", in permission "${permission.name.text}"${didYouMean(name, memberNames(scope))}`;
  }

  #delegationReferenced(definition: string, name: string, permission: PermissionAst): string {
    return `"${name}" is a delegation on definition "${definition}", which permission "${permission.name.text}" cannot refer to; ${DELEGATION_NOT_A_SET}`;
  }

  #checkArrow(scope: DefinitionScope, permission: PermissionAst, tupleset: NameAst, target: NameAst): void {
    const definition = scope.ast.name.text;
    if (scope.delegations.has(tupleset.text)) {
      this.#report(tupleset.position, this.#delegationReferenced(definition, tupleset.text, permission));
      return;
    }
    if (scope.permissions.has(tupleset.text)) {
      this.#report(
        tupleset.position,
        `the left side of an arrow must be a relation, but "${tupleset.text}" is a permission on definition "${definition}", in permission "${permission.name.text}"`,
      );
      return;
    }
    const relation = scope.relations.get(tupleset.text);
    if (relation === undefined) {
      this.#report(tupleset.position, this.#notDefinedOn(scope, tupleset.text, permission));
      return;
    }
    const wildcard = this.#wildcardThrough(definition, tupleset.text);
    if (wildcard !== undefined) {
      const via = wildcard.via === `${definition}#${tupleset.text}` ? "" : ` through relation "${wildcard.via}"`;
      this.#report(
        tupleset.position,
        `relation "${definition}#${tupleset.text}" includes the wildcard \`${wildcard.type}:*\`${via}, so it cannot be the left side of an arrow, in permission "${permission.name.text}"`,
      );
      return;
    }
    // SpiceDB accepts an arrow whose target exists on only some subject types of the tupleset
    // (the others contribute nothing); we reject only a target missing on every one of them.
    const subjectScopes = relation.types.map((type) => this.#scopes.get(type.type.text));
    const delegating = relation.types.find((type) => this.#scopes.get(type.type.text)?.delegations.has(target.text) === true);
    if (delegating !== undefined) {
      this.#report(target.position, this.#delegationReferenced(delegating.type.text, target.text, permission));
      return;
    }
    if (subjectScopes.some((subject) => subject === undefined)) return;
    const found = subjectScopes.some((subject) => subject !== undefined && (subject.relations.has(target.text) || subject.permissions.has(target.text)));
    if (found) return;
    const typeNames = [...new Set(relation.types.map((type) => type.type.text))];
    const candidates = subjectScopes.flatMap((subject) => (subject === undefined ? [] : memberNames(subject)));
    this.#report(
      target.position,
      `relation or permission "${target.text}" is not defined on any subject type of relation "${definition}#${tupleset.text}" (${typeNames.join(", ")}), in permission "${permission.name.text}"${didYouMean(target.text, candidates)}`,
    );
  }

  // A permission is grounded when its expression reaches a relation, an arrow or `nil`, directly
  // or through other grounded permissions: data (or the empty set) can then end the recursion.
  // A cycle of permissions that never does so is rejected. Deliberate deviation (see README):
  // SpiceDB v1.54 rejects only cycles of plain aliases (`permission view = view`, or `a = b` with
  // `b = a`) and accepts e.g. `permission view = view + view`, which then fails at check time.
  #checkPermissionCycles(scope: DefinitionScope): void {
    const references = new Map<string, string[]>();
    const grounded = new Set<string>();
    for (const [name, permission] of scope.permissions) {
      const refs: string[] = [];
      if (reachesGround(permission.expression, scope, refs)) grounded.add(name);
      references.set(name, refs);
    }
    // Grounding spreads backwards along references: a worklist keeps this linear in the schema size.
    const referencedBy = new Map<string, string[]>();
    for (const [name, refs] of references) {
      for (const ref of refs) referencedBy.set(ref, [...(referencedBy.get(ref) ?? []), name]);
    }
    const pending = [...grounded];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      for (const referrer of referencedBy.get(next) ?? []) {
        if (grounded.has(referrer)) continue;
        grounded.add(referrer);
        pending.push(referrer);
      }
    }
    const reported = new Set<string>();
    for (const [name, permission] of scope.permissions) {
      if (grounded.has(name) || reported.has(name)) continue;
      const cycle = findCycle(name, references);
      if (cycle === undefined) continue;
      for (const member of cycle) reported.add(member);
      this.#report(
        permission.name.position,
        `permission "${name}" on definition "${scope.ast.name.text}" is defined only in terms of itself (${[...cycle, name].join(" -> ")}) with no relation, arrow or nil to end the recursion`,
      );
    }
  }
}

// Collects in `refs` the permissions the expression refers to directly; returns whether it has a
// leaf that is a relation, an arrow, `nil` or an unknown name (already reported elsewhere).
function reachesGround(ast: ExpressionAst, scope: DefinitionScope, refs: string[]): boolean {
  switch (ast.kind) {
    case "union":
    case "intersection":
    case "exclusion": {
      const left = reachesGround(ast.left, scope, refs);
      const right = reachesGround(ast.right, scope, refs);
      return left || right;
    }
    case "reference":
      if (scope.permissions.has(ast.name.text)) {
        refs.push(ast.name.text);
        return false;
      }
      return true;
    case "arrow":
    case "nil":
      return true;
    default:
      return assertNever(ast, "permission expression");
  }
}

// Returns a path start -> ... (ending next to start) along `references`, or undefined if start is
// not on a cycle. Depth first with an explicit stack, so that a chain of thousands of permissions
// cannot exhaust the call stack.
function findCycle(start: string, references: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const visited = new Set<string>([start]);
  const path: string[] = [start];
  const nextIndex: number[] = [0];
  while (path.length > 0) {
    const top = path.length - 1;
    const name = path[top] as string;
    const index = nextIndex[top] as number;
    const next = (references.get(name) ?? [])[index];
    if (next === undefined) {
      path.pop();
      nextIndex.pop();
      continue;
    }
    nextIndex[top] = index + 1;
    if (next === start) return path;
    if (visited.has(next)) continue;
    visited.add(next);
    path.push(next);
    nextIndex.push(0);
  }
  return undefined;
}

function memberNames(scope: DefinitionScope): string[] {
  return [...scope.relations.keys(), ...scope.permissions.keys()];
}

function nameProblem(name: string, allowPrefix: boolean): string {
  const segments = allowPrefix ? name.split("/") : [name];
  if (!allowPrefix && name.includes("/")) return "only definitions (and caveats) may have a `prefix/`";
  for (const segment of segments) {
    if (segment.length < 3) return `"${segment}" is shorter than 3 characters`;
    if (segment.length > 64) return `"${segment}" is longer than 64 characters`;
    if (/[A-Z]/.test(segment)) return `"${segment}" contains upper-case letters`;
    if (!/^[a-z]/.test(segment)) return `"${segment}" does not start with a letter`;
    if (segment.endsWith("_")) return `"${segment}" ends with _`;
  }
  return "it does not match [a-z][a-z0-9_]{1,62}[a-z0-9]";
}
