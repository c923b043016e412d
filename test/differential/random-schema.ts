// Seeded random schemas in SpiceDB's language, restricted to what SpiceDB accepts and Mandate must too.
import { assertNever } from "../../src/tuple/index.ts";
import type { SeededRandom } from "./seeded-random.ts";

/** SubjectTypeSpec is one alternative of a relation's type: `user`, `group#member` or `user:*`. */
export interface SubjectTypeSpec {
  readonly type: string;
  readonly relation?: string | undefined;
  readonly wildcard: boolean;
}

/** RelationSpec is `relation name: a | b#c | d:*`; `allowed` is never empty. */
export interface RelationSpec {
  readonly name: string;
  readonly allowed: readonly SubjectTypeSpec[];
}

/**
 * ExpressionSpec is a permission's expression as generated. `parenthesized` asks the printer for
 * parentheses even where precedence does not need them; `syntax` picks `a->b`, `a.any(b)` or
 * `a.all(b)`.
 */
export type ExpressionSpec =
  | { readonly kind: "union" | "intersection"; readonly children: readonly ExpressionSpec[]; readonly parenthesized: boolean }
  | { readonly kind: "exclusion"; readonly base: ExpressionSpec; readonly subtract: ExpressionSpec; readonly parenthesized: boolean }
  | { readonly kind: "computed"; readonly name: string }
  | { readonly kind: "arrow"; readonly tupleset: string; readonly target: string; readonly syntax: "->" | "any" | "all" }
  | { readonly kind: "nil" };

/** PermissionSpec is `permission name = expression`. */
export interface PermissionSpec {
  readonly name: string;
  readonly expression: ExpressionSpec;
}

/** DefinitionSpec is `definition name { ... }`. */
export interface DefinitionSpec {
  readonly name: string;
  readonly relations: readonly RelationSpec[];
  readonly permissions: readonly PermissionSpec[];
}

/** SchemaSpec is a whole schema; `definitions[0]` is always `user`, which has no relations. */
export interface SchemaSpec {
  readonly definitions: readonly DefinitionSpec[];
}

const TYPE_NAMES = ["group", "folder", "document", "team", "org", "project", "repo"];
const RELATION_NAMES = ["member", "owner", "viewer", "editor", "parent", "banned", "reader", "admin"];
// Disjoint from RELATION_NAMES: SpiceDB forbids a relation and a permission with one name.
const PERMISSION_NAMES = ["view", "edit", "manage", "access", "share", "comment"];

interface MutableRelation {
  name: string;
  allowed: SubjectTypeSpec[];
}

/**
 * randomSchema draws a schema that SpiceDB accepts: `user` plus 2–4 definitions whose relations
 * mix plain, userset (`group#member`, including a relation's own type, for recursion) and wildcard
 * subject types, and whose permissions use `+ & -`, parentheses, `->`, `.any()`, `.all()`, `nil`
 * and other permissions. Rules kept so that SpiceDB accepts it: names of 3+ characters, arrows only
 * on relations without wildcards, no userset on a relation that allows a wildcard, permissions
 * refer only to earlier permissions of their own definition (so no permission is defined only in
 * terms of itself, which both SpiceDB and Mandate reject). Recursion through arrows and usersets is
 * drawn freely, with or without a base case (both accept `view = parent->view`), except through
 * the subtracted side of an exclusion (see `recursesThroughSubtraction`); drafts that do are redrawn.
 */
export function randomSchema(random: SeededRandom, options: RandomSchemaOptions = {}): SchemaSpec {
  for (;;) {
    const schema = draftSchema(random, options);
    if (!recursesThroughSubtraction(schema)) return schema;
  }
}

/**
 * RandomSchemaOptions: `missingArrowTargets` also draws arrows to names that exist on no subject
 * type of the tupleset (`relation parent: user` with `parent->view`). SpiceDB accepts those and
 * Mandate's compiler rejects them, so they are off by default: on, nearly every sixth schema
 * fails on that one difference and hides the others.
 */
export interface RandomSchemaOptions {
  readonly missingArrowTargets?: boolean | undefined;
}

function draftSchema(random: SeededRandom, options: RandomSchemaOptions): SchemaSpec {
  const typeNames = random.shuffled(TYPE_NAMES).slice(0, random.int(2, 4));
  const shapes = typeNames.map((name) => ({
    name,
    relations: random.shuffled(RELATION_NAMES).slice(0, random.int(1, 4)).map((r): MutableRelation => ({ name: r, allowed: [] })),
    permissionNames: random.shuffled(PERMISSION_NAMES).slice(0, random.int(0, 3)),
  }));

  // Wildcards first: whether a relation allows one decides which usersets may point at it.
  for (const shape of shapes) {
    for (const relation of shape.relations) {
      if (random.chance(0.2)) relation.allowed.push({ type: "user", wildcard: true });
      if (random.chance(0.05)) relation.allowed.push({ type: random.pick(typeNames), wildcard: true });
    }
  }
  const hasWildcard = (type: string, relation: string): boolean =>
    shapes.find((s) => s.name === type)?.relations.find((r) => r.name === relation)?.allowed.some((a) => a.wildcard) ?? false;

  for (const shape of shapes) {
    for (const relation of shape.relations) {
      const add = (subject: SubjectTypeSpec): void => {
        const same = relation.allowed.some((a) => a.type === subject.type && a.relation === subject.relation && a.wildcard === subject.wildcard);
        if (!same) relation.allowed.push(subject);
      };
      if (random.chance(0.7)) add({ type: "user", wildcard: false });
      for (let i = random.int(0, 2); i > 0; i--) add({ type: random.pick(typeNames), wildcard: false });
      // Recursion: the relation's own userset, e.g. `relation member: group#member` in group.
      if (!hasWildcard(shape.name, relation.name) && random.chance(0.35)) add({ type: shape.name, relation: relation.name, wildcard: false });
      for (let i = random.int(0, 2); i > 0; i--) {
        const target = random.pick(shapes);
        const usePermission = target.permissionNames.length > 0 && random.chance(0.25);
        if (usePermission) {
          add({ type: target.name, relation: random.pick(target.permissionNames), wildcard: false });
        } else {
          const candidates = target.relations.filter((r) => !hasWildcard(target.name, r.name));
          if (candidates.length > 0) add({ type: target.name, relation: random.pick(candidates).name, wildcard: false });
        }
      }
      if (relation.allowed.length === 0) add({ type: "user", wildcard: false });
      relation.allowed = random.shuffled(relation.allowed);
    }
  }

  const definitions: DefinitionSpec[] = [{ name: "user", relations: [], permissions: [] }];
  const shapeOf = new Map(shapes.map((s) => [s.name, s]));
  for (const shape of shapes) {
    const targetsOf = (tupleset: MutableRelation): string[] => {
      const names = arrowTargetsOf(tupleset, shapeOf);
      return names.length === 0 || (options.missingArrowTargets && random.chance(0.15)) ? [random.pick(PERMISSION_NAMES)] : names;
    };
    const tuplesets = shape.relations.filter((r) => !r.allowed.some((a) => a.wildcard) && (options.missingArrowTargets || arrowTargetsOf(r, shapeOf).length > 0));
    const permissions: PermissionSpec[] = [];
    for (const name of shape.permissionNames) {
      const context: DraftContext = {
        random,
        relations: shape.relations.map((r) => r.name),
        earlierPermissions: permissions.map((p) => p.name),
        arrowTargets: targetsOf,
        tuplesets,
      };
      let expression = randomExpression(context, random.int(1, 3));
      // The classic recursive permission, e.g. `view = viewer + parent->view`.
      const selfTuplesets = tuplesets.filter((r) => r.allowed.some((a) => a.type === shape.name));
      if (selfTuplesets.length > 0 && random.chance(0.3)) {
        const recursion: ExpressionSpec = { kind: "arrow", tupleset: random.pick(selfTuplesets).name, target: name, syntax: random.pick(["->", "->", "any", "all"] as const) };
        expression = { kind: "union", children: [expression, recursion], parenthesized: false };
      }
      permissions.push({ name, expression });
    }
    definitions.push({ name: shape.name, relations: shape.relations, permissions });
  }
  return { definitions };
}

interface DraftContext {
  readonly random: SeededRandom;
  readonly relations: readonly string[];
  readonly earlierPermissions: readonly string[];
  readonly tuplesets: readonly MutableRelation[];
  readonly arrowTargets: (tupleset: MutableRelation) => string[];
}

// Names that an arrow over `tupleset` may reach: relations and permissions of its subject types.
// A name may exist on only some of them (SpiceDB and Mandate accept that); for names that exist
// on none, see RandomSchemaOptions.
function arrowTargetsOf(tupleset: MutableRelation, shapeOf: ReadonlyMap<string, { relations: MutableRelation[]; permissionNames: string[] }>): string[] {
  const names = new Set<string>();
  for (const allowed of tupleset.allowed) {
    const shape = shapeOf.get(allowed.type);
    if (!shape) continue;
    for (const r of shape.relations) names.add(r.name);
    for (const p of shape.permissionNames) names.add(p);
  }
  return [...names];
}

function randomExpression(context: DraftContext, depth: number): ExpressionSpec {
  const { random } = context;
  if (depth <= 0 || random.chance(0.35)) return randomLeaf(context);
  const roll = random.next();
  const parenthesized = random.chance(0.3);
  if (roll < 0.45) {
    const children = Array.from({ length: random.int(2, 3) }, () => randomExpression(context, depth - 1));
    return { kind: "union", children, parenthesized };
  }
  if (roll < 0.7) {
    const children = Array.from({ length: random.int(2, 3) }, () => randomExpression(context, depth - 1));
    return { kind: "intersection", children, parenthesized };
  }
  return { kind: "exclusion", base: randomExpression(context, depth - 1), subtract: randomExpression(context, depth - 1), parenthesized };
}

function randomLeaf(context: DraftContext): ExpressionSpec {
  const { random } = context;
  const options: Array<[number, () => ExpressionSpec]> = [[5, () => ({ kind: "computed", name: random.pick(context.relations) })]];
  if (context.earlierPermissions.length > 0) options.push([2, () => ({ kind: "computed", name: random.pick(context.earlierPermissions) })]);
  if (context.tuplesets.length > 0) {
    options.push([
      4,
      () => {
        const tupleset = random.pick(context.tuplesets);
        const syntax = random.pick(["->", "->", "any", "all"] as const);
        return { kind: "arrow", tupleset: tupleset.name, target: random.pick(context.arrowTargets(tupleset)), syntax };
      },
    ]);
  }
  options.push([0.4, () => ({ kind: "nil" })]);
  const total = options.reduce((sum, [weight]) => sum + weight, 0);
  let roll = random.next() * total;
  for (const [weight, make] of options) {
    roll -= weight;
    if (roll < 0) return make();
  }
  return { kind: "nil" };
}

/**
 * dependencyEdges lists, for every relation and permission `type#name`, what it may evaluate
 * directly: a relation its userset subject types (`group#member`); a permission the relations and
 * permissions it names, its arrows' tuplesets, and their targets on every subject type.
 */
export function dependencyEdges(schema: SchemaSpec): Map<string, Set<string>> {
  const byName = new Map(schema.definitions.map((d) => [d.name, d]));
  const edges = new Map<string, Set<string>>();
  for (const definition of schema.definitions) {
    for (const relation of definition.relations) {
      const usersets = relation.allowed.filter((a) => a.relation !== undefined).map((a) => `${a.type}#${a.relation}`);
      edges.set(`${definition.name}#${relation.name}`, new Set(usersets));
    }
    for (const permission of definition.permissions) {
      const out = new Set<string>();
      for (const reference of referencesOf(permission.expression)) {
        for (const target of referencedNodes(definition, reference, byName)) out.add(target);
      }
      edges.set(`${definition.name}#${permission.name}`, out);
    }
  }
  return edges;
}

type Reference = { readonly kind: "computed"; readonly name: string } | { readonly kind: "arrow"; readonly tupleset: string; readonly target: string };

function referencesOf(expression: ExpressionSpec): Reference[] {
  switch (expression.kind) {
    case "union":
    case "intersection":
      return expression.children.flatMap(referencesOf);
    case "exclusion":
      return [...referencesOf(expression.base), ...referencesOf(expression.subtract)];
    case "computed":
      return [{ kind: "computed", name: expression.name }];
    case "arrow":
      return [{ kind: "arrow", tupleset: expression.tupleset, target: expression.target }];
    case "nil":
      return [];
    default:
      return assertNever(expression);
  }
}

// The relations and permissions (as `type#name`) that `reference` evaluates directly.
function referencedNodes(definition: DefinitionSpec, reference: Reference, byName: ReadonlyMap<string, DefinitionSpec>): string[] {
  const exists = (d: DefinitionSpec | undefined, name: string): boolean =>
    (d?.permissions.some((p) => p.name === name) ?? false) || (d?.relations.some((r) => r.name === name) ?? false);
  if (reference.kind === "computed") return exists(definition, reference.name) ? [`${definition.name}#${reference.name}`] : [];
  const tupleset = definition.relations.find((r) => r.name === reference.tupleset);
  const nodes = new Set<string>([`${definition.name}#${reference.tupleset}`]);
  for (const allowed of tupleset?.allowed ?? []) {
    if (exists(byName.get(allowed.type), reference.target)) nodes.add(`${allowed.type}#${reference.target}`);
  }
  return [...nodes];
}

/**
 * recursesThroughSubtraction is true when a cycle of relations and permissions (through arrows or
 * usersets) passes through the subtracted side of an exclusion, e.g. `view = viewer - parent->view`.
 * Both systems accept such a schema, but recursion through negation has no least fixpoint: the
 * answer on cyclic data is arbitrary, so neither SpiceDB nor the FixpointEvaluator is a reference.
 */
export function recursesThroughSubtraction(schema: SchemaSpec): boolean {
  const edges = dependencyEdges(schema);
  const byName = new Map(schema.definitions.map((d) => [d.name, d]));
  for (const component of stronglyConnectedComponents(edges)) {
    const first = component[0];
    const cyclic = component.length > 1 || (first !== undefined && edges.get(first)?.has(first) === true);
    if (!cyclic) continue;
    const members = new Set(component);
    for (const node of component) {
      const [typeName = "", name = ""] = node.split("#");
      const definition = byName.get(typeName);
      const permission = definition?.permissions.find((p) => p.name === name);
      if (!definition || !permission) continue;
      const reaches = (expression: ExpressionSpec): boolean =>
        referencesOf(expression).some((reference) => referencedNodes(definition, reference, byName).some((t) => members.has(t)));
      if (subtractsReach(permission.expression, reaches)) return true;
    }
  }
  return false;
}

function subtractsReach(expression: ExpressionSpec, reaches: (e: ExpressionSpec) => boolean): boolean {
  switch (expression.kind) {
    case "union":
    case "intersection":
      return expression.children.some((child) => subtractsReach(child, reaches));
    case "exclusion":
      return reaches(expression.subtract) || subtractsReach(expression.base, reaches);
    case "computed":
    case "arrow":
    case "nil":
      return false;
    default:
      return assertNever(expression);
  }
}

/**
 * evaluationOrder groups the relations and permissions (`type#name`) of `schema` into strongly
 * connected components of dependencyEdges, each listed after every component it depends on: the
 * strata in which a fixpoint evaluation can proceed.
 */
export function evaluationOrder(schema: SchemaSpec): string[][] {
  return stronglyConnectedComponents(dependencyEdges(schema));
}

// Tarjan's algorithm (recursive: the graphs drawn here have a few dozen nodes). It emits each
// component after all components reachable from it.
function stronglyConnectedComponents(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (;;) {
        const top = stack.pop();
        if (top === undefined) break;
        onStack.delete(top);
        component.push(top);
        if (top === node) break;
      }
      components.push(component);
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return components;
}

const PRECEDENCE = { union: 3, intersection: 2, exclusion: 1 } as const;

/** formatSchema prints `schema` in SpiceDB's language, one statement per line. */
export function formatSchema(schema: SchemaSpec): string {
  return schema.definitions.map(formatDefinition).join("\n\n") + "\n";
}

function formatDefinition(definition: DefinitionSpec): string {
  const lines = [
    ...definition.relations.map((r) => `  relation ${r.name}: ${r.allowed.map(formatSubjectType).join(" | ")}`),
    ...definition.permissions.map((p) => `  permission ${p.name} = ${formatExpression(p.expression)}`),
  ];
  return lines.length === 0 ? `definition ${definition.name} {}` : `definition ${definition.name} {\n${lines.join("\n")}\n}`;
}

function formatSubjectType(subject: SubjectTypeSpec): string {
  if (subject.wildcard) return `${subject.type}:*`;
  return subject.relation === undefined ? subject.type : `${subject.type}#${subject.relation}`;
}

/**
 * formatExpression prints with the fewest parentheses that SpiceDB's precedence allows (`+` over
 * `&` over `-`, `-` left-associative), plus those the generator asked for, so that both parsers'
 * precedence is exercised.
 */
export function formatExpression(expression: ExpressionSpec): string {
  switch (expression.kind) {
    case "union":
    case "intersection": {
      const operator = expression.kind === "union" ? " + " : " & ";
      const own = PRECEDENCE[expression.kind];
      const text = expression.children.map((c) => wrap(c, precedenceOf(c) < own)).join(operator);
      return expression.parenthesized ? `(${text})` : text;
    }
    case "exclusion": {
      const text = `${wrap(expression.base, false)} - ${wrap(expression.subtract, precedenceOf(expression.subtract) <= PRECEDENCE.exclusion)}`;
      return expression.parenthesized ? `(${text})` : text;
    }
    case "computed":
      return expression.name;
    case "arrow":
      return expression.syntax === "->" ? `${expression.tupleset}->${expression.target}` : `${expression.tupleset}.${expression.syntax}(${expression.target})`;
    case "nil":
      return "nil";
    default:
      return assertNever(expression);
  }
}

function precedenceOf(expression: ExpressionSpec): number {
  return expression.kind === "union" || expression.kind === "intersection" || expression.kind === "exclusion" ? PRECEDENCE[expression.kind] : 4;
}

function wrap(expression: ExpressionSpec, needed: boolean): string {
  const text = formatExpression(expression);
  const alreadyWrapped = (expression.kind === "union" || expression.kind === "intersection" || expression.kind === "exclusion") && expression.parenthesized;
  return needed && !alreadyWrapped ? `(${text})` : text;
}
