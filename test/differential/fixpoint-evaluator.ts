// A third, independent answer for checks SpiceDB cannot answer: least-fixpoint evaluation of a schema.
import { assertNever, WILDCARD_ID } from "../../src/tuple/index.ts";
import type { Relationship, SubjectRef } from "../../src/tuple/index.ts";
import type { CheckCase } from "./random-relationships.ts";
import { evaluationOrder } from "./random-schema.ts";
import type { DefinitionSpec, ExpressionSpec, SchemaSpec } from "./random-schema.ts";

/**
 * FixpointEvaluator answers a check by the set semantics of the schema, computed bottom-up: for
 * the check's subject, every (object, relation-or-permission) of the finite data is evaluated
 * stratum by stratum (evaluationOrder), iterating each recursive stratum from "no" until nothing
 * changes. That is the least fixpoint, so cyclic data gets the definite answer SpiceDB's depth
 * limit cannot give; it is correct for schemas without recursion through a subtraction, which
 * randomSchema guarantees. It is slow (all pairs, every check) and exists for tests only.
 *
 * Semantics, as SpiceDB answers (the differential test checks the evaluator against SpiceDB
 * wherever SpiceDB answers): a subject `type:id#rel` has `rel` on `type:id`; a wildcard `t:*`
 * matches any subject of type `t`; an arrow follows each subject object of its tupleset (any
 * subject relation ignored) to the target where the target exists on the subject's type; `.all()`
 * needs at least one such subject, and every one to have the target.
 */
export class FixpointEvaluator {
  readonly #definitions: ReadonlyMap<string, DefinitionSpec>;
  readonly #strata: string[][];
  readonly #subjectsOf = new Map<string, SubjectRef[]>();
  readonly #objects: ReadonlyArray<{ readonly type: string; readonly id: string }>;

  constructor(schema: SchemaSpec, relationships: readonly Relationship[]) {
    this.#definitions = new Map(schema.definitions.map((d) => [d.name, d]));
    this.#strata = evaluationOrder(schema);
    const objects = new Map<string, { type: string; id: string }>();
    for (const r of relationships) {
      const key = `${r.resource.type}:${r.resource.id}#${r.relation}`;
      this.#subjectsOf.set(key, [...(this.#subjectsOf.get(key) ?? []), r.subject]);
      objects.set(`${r.resource.type}:${r.resource.id}`, r.resource);
      if (r.subject.id !== WILDCARD_ID) objects.set(`${r.subject.type}:${r.subject.id}`, { type: r.subject.type, id: r.subject.id });
    }
    this.#objects = [...objects.values()];
  }

  /** check answers "allowed" or "denied"; it never errs and never answers "conditional". */
  check(check: CheckCase): "allowed" | "denied" {
    const subject = check.subject;
    const state = new Set<string>();
    const objects = [...this.#objects, check.resource];
    const holds = (type: string, id: string, name: string): boolean =>
      (subject.relation !== undefined && subject.type === type && subject.id === id && subject.relation === name) || state.has(`${type}:${id}#${name}`);

    const relationHolds = (type: string, id: string, name: string): boolean =>
      (this.#subjectsOf.get(`${type}:${id}#${name}`) ?? []).some((x) => {
        if (x.id === WILDCARD_ID) return x.type === subject.type;
        if (x.type === subject.type && x.id === subject.id && x.relation === subject.relation) return true;
        return x.relation !== undefined && holds(x.type, x.id, x.relation);
      });

    const evaluate = (type: string, id: string, expression: ExpressionSpec): boolean => {
      switch (expression.kind) {
        case "union":
          return expression.children.some((c) => evaluate(type, id, c));
        case "intersection":
          return expression.children.every((c) => evaluate(type, id, c));
        case "exclusion":
          return evaluate(type, id, expression.base) && !evaluate(type, id, expression.subtract);
        case "computed":
          return holds(type, id, expression.name);
        case "arrow": {
          const subjects = (this.#subjectsOf.get(`${type}:${id}#${expression.tupleset}`) ?? []).filter((x) => x.id !== WILDCARD_ID);
          const reaches = (x: SubjectRef): boolean => this.#has(x.type, expression.target) && holds(x.type, x.id, expression.target);
          return expression.syntax === "all" ? subjects.length > 0 && subjects.every(reaches) : subjects.some(reaches);
        }
        case "nil":
          return false;
        default:
          return assertNever(expression);
      }
    };

    for (const stratum of this.#strata) {
      for (let changed = true; changed; ) {
        changed = false;
        for (const node of stratum) {
          const [type = "", name = ""] = node.split("#");
          const definition = this.#definitions.get(type);
          const permission = definition?.permissions.find((p) => p.name === name);
          for (const object of objects) {
            if (object.type !== type || state.has(`${type}:${object.id}#${name}`)) continue;
            const value = permission ? evaluate(type, object.id, permission.expression) : relationHolds(type, object.id, name);
            if (value) {
              state.add(`${type}:${object.id}#${name}`);
              changed = true;
            }
          }
        }
      }
    }
    return holds(check.resource.type, check.resource.id, check.permission) ? "allowed" : "denied";
  }

  #has(type: string, name: string): boolean {
    const definition = this.#definitions.get(type);
    return (definition?.relations.some((r) => r.name === name) ?? false) || (definition?.permissions.some((p) => p.name === name) ?? false);
  }
}
