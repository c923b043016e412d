// Shrinks a failing differential case and prints it as a SpiceDB-playground validation file.
import { assertNever, formatObjectRef, formatRelationship, formatSubjectRef } from "../../src/tuple/index.ts";
import type { Relationship } from "../../src/tuple/index.ts";
import type { DifferenceKind, ReproCase } from "./differential-run.ts";
import { formatSchema } from "./random-schema.ts";
import type { DefinitionSpec, ExpressionSpec, SchemaSpec } from "./random-schema.ts";

/**
 * minimizeCase shrinks `failing` while `stillFails` holds: it drops relationships one at a time,
 * then tries simpler schemas (a definition, relation, permission or subject type removed, with the
 * relationships that used it; an operator replaced by one of its operands) and repeats until
 * nothing more can go, or `budget` candidates were tried. `stillFails` must load the candidate
 * into both systems and say whether the same difference remains; a candidate the reference
 * refuses must not count as failing. With `keepCheck` false (a refused schema, where the check
 * plays no part), the check's types and permission may go too.
 */
export async function minimizeCase(
  failing: ReproCase,
  stillFails: (candidate: ReproCase) => Promise<boolean>,
  options: { readonly budget?: number | undefined; readonly keepCheck?: boolean | undefined } = {},
): Promise<ReproCase> {
  const budget = options.budget ?? 400;
  const keepCheck = options.keepCheck ?? true;
  let current = failing;
  let tried = 0;
  const attempt = async (candidate: ReproCase): Promise<boolean> => {
    tried++;
    if (!(await stillFails(candidate))) return false;
    current = candidate;
    return true;
  };
  for (let progress = true; progress && tried < budget; ) {
    progress = false;
    for (let i = 0; i < current.relationships.length && tried < budget; ) {
      const relationships = current.relationships.filter((_, j) => j !== i);
      if (await attempt({ ...current, relationships })) progress = true;
      else i++;
    }
    for (const candidate of schemaReductions(current, keepCheck)) {
      if (tried >= budget) break;
      if (await attempt(candidate)) {
        progress = true;
        break;
      }
    }
  }
  return current;
}

// Every one-step simplification of the schema, with relationships that no longer fit dropped.
function* schemaReductions(repro: ReproCase, keepCheck: boolean): Generator<ReproCase> {
  const { schema, check } = repro;
  const used = new Set(keepCheck ? [check.resource.type, check.subject.type] : []);
  const isChecked = (type: string, name: string): boolean => keepCheck && type === check.resource.type && name === check.permission;
  const withSchema = (definitions: DefinitionSpec[]): ReproCase => {
    const next: SchemaSpec = { definitions };
    return { schema: next, relationships: repro.relationships.filter((r) => fits(next, r)), check };
  };
  for (const [d, definition] of schema.definitions.entries()) {
    if (!used.has(definition.name)) yield withSchema(schema.definitions.filter((_, i) => i !== d));
  }
  for (const [d, definition] of schema.definitions.entries()) {
    const replace = (next: DefinitionSpec): DefinitionSpec[] => schema.definitions.map((x, i) => (i === d ? next : x));
    for (const [p, permission] of definition.permissions.entries()) {
      if (isChecked(definition.name, permission.name)) continue;
      yield withSchema(replace({ ...definition, permissions: definition.permissions.filter((_, i) => i !== p) }));
    }
    for (const [r, relation] of definition.relations.entries()) {
      if (!isChecked(definition.name, relation.name)) {
        yield withSchema(replace({ ...definition, relations: definition.relations.filter((_, i) => i !== r) }));
      }
      if (relation.allowed.length < 2) continue;
      for (const a of relation.allowed.keys()) {
        const narrowed = { ...relation, allowed: relation.allowed.filter((_, i) => i !== a) };
        yield withSchema(replace({ ...definition, relations: definition.relations.map((x, i) => (i === r ? narrowed : x)) }));
      }
    }
    for (const [p, permission] of definition.permissions.entries()) {
      for (const expression of simplerExpressions(permission.expression)) {
        const simpler = { ...permission, expression };
        yield withSchema(replace({ ...definition, permissions: definition.permissions.map((x, i) => (i === p ? simpler : x)) }));
      }
    }
  }
}

// Expressions one step simpler than `expression`: an operator replaced by an operand, or a name
// by `nil` (which frees what it named for removal), anywhere.
function* simplerExpressions(expression: ExpressionSpec): Generator<ExpressionSpec> {
  if (expression.kind !== "nil") yield { kind: "nil" };
  switch (expression.kind) {
    case "union":
    case "intersection":
      yield* expression.children;
      for (const [c, child] of expression.children.entries()) {
        if (expression.children.length > 2) yield { ...expression, children: expression.children.filter((_, i) => i !== c) };
        for (const simpler of simplerExpressions(child)) yield { ...expression, children: expression.children.map((x, i) => (i === c ? simpler : x)) };
      }
      return;
    case "exclusion":
      yield expression.base;
      for (const simpler of simplerExpressions(expression.base)) yield { ...expression, base: simpler };
      for (const simpler of simplerExpressions(expression.subtract)) yield { ...expression, subtract: simpler };
      return;
    case "arrow":
      if (expression.syntax !== "->") yield { ...expression, syntax: "->" };
      return;
    case "computed":
    case "nil":
      return;
    default:
      assertNever(expression);
  }
}

// A relationship fits a schema when its relation exists and allows its subject's type.
function fits(schema: SchemaSpec, relationship: Relationship): boolean {
  const relation = schema.definitions.find((d) => d.name === relationship.resource.type)?.relations.find((r) => r.name === relationship.relation);
  const subject = relationship.subject;
  return (
    relation?.allowed.some((a) => a.type === subject.type && (a.wildcard ? subject.id === "*" : subject.id !== "*" && a.relation === subject.relation)) ?? false
  );
}

/**
 * formatReproduction prints `repro` as a validation file for the SpiceDB playground (or
 * `zed validate`): the schema, the relationships in text form, and the check as an assertion of
 * the reference's answer, with both systems' answers in a comment. For a schema or relationships
 * that Mandate refused, the comment gives Mandate's error and there is no assertion.
 */
export function formatReproduction(repro: ReproCase, verdict: { readonly difference: DifferenceKind; readonly reference: string; readonly subject: string }): string {
  const indent = (text: string): string =>
    text
      .trimEnd()
      .split("\n")
      .map((line) => (line.length > 0 ? `  ${line}` : line))
      .join("\n");
  const check = `${formatObjectRef(repro.check.resource)}#${repro.check.permission}@${formatSubjectRef(repro.check.subject)}`;
  const loadFailed = verdict.difference === "schema-rejected" || verdict.difference === "load-failed";
  const lines = [
    loadFailed
      ? `# SpiceDB accepts this schema and these relationships; Mandate refuses them: ${verdict.subject}`
      : `# check ${check}: SpiceDB says ${verdict.reference}, Mandate says ${verdict.subject}`,
    "schema: |-",
    indent(formatSchema(repro.schema)),
    "relationships: |-",
    indent(repro.relationships.map(formatRelationship).join("\n")),
  ];
  if (!loadFailed) {
    const assertion = verdict.reference === "allowed" ? "assertTrue" : verdict.reference === "denied" ? "assertFalse" : "assertCaveated";
    lines.push("assertions:", `  ${assertion}:`, `    - "${check}"`);
  }
  return lines.join("\n");
}
