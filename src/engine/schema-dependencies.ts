import { assertNever } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { PermissionExpression, Schema } from "../schema/index.ts";

/**
 * Dependencies is what a check of one relation or permission `type#name` may read, found from the
 * schema alone: `relations` are the stored relations (`type#relation` keys) reachable through
 * computed names, arrows (the tupleset and the target on each of its allowed subject types) and
 * allowed userset subjects, transitively, itself included when it is a relation. `caveated` is
 * true when one of them allows a caveated subject type (a caveat can make the plain walk throw
 * CaveatEvaluationError, so the evaluation order matters); `expiring` when one of them
 * allows an expiring subject type (an answer that may change with the clock, not only with the
 * revision).
 */
export interface Dependencies {
  readonly relations: readonly string[];
  readonly caveated: boolean;
  readonly expiring: boolean;
}

/**
 * SchemaDependencies computes Dependencies for one compiled schema, lazily, and remembers them:
 * build one per schema. Example: with `definition folder { relation parent: folder; relation
 * viewer: user | group#member; permission view = viewer + parent->view }`, `folder#view` depends on
 * `folder#viewer`, `folder#parent` and `group#member` (and whatever `group#member` allows).
 */
export class SchemaDependencies {
  readonly schema: Schema;
  readonly #computed = new Map<string, Dependencies>();

  constructor(schema: Schema) {
    this.schema = schema;
  }

  /** of returns the dependencies of `type#name`; a name the schema lacks has none. */
  of(type: string, name: string): Dependencies {
    const key = `${type}#${name}`;
    let dependencies = this.#computed.get(key);
    if (dependencies === undefined) {
      dependencies = this.#compute(type, name);
      this.#computed.set(key, dependencies);
    }
    return dependencies;
  }

  /** #compute walks the schema from `type#name` with an explicit stack (schemas may recurse). */
  #compute(type: string, name: string): Dependencies {
    const relations: string[] = [];
    let caveated = false;
    let expiring = false;
    const seen = new Set<string>();
    const pending: Array<[string, string]> = [[type, name]];
    const visit = (nextType: string, nextName: string): void => {
      if (!seen.has(`${nextType}#${nextName}`)) pending.push([nextType, nextName]);
    };
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [nodeType, nodeName] = next;
      const nodeKey = `${nodeType}#${nodeName}`;
      if (seen.has(nodeKey)) continue;
      seen.add(nodeKey);
      const found = findRelationOrPermission(this.schema, nodeType, nodeName);
      if (found === undefined) continue;
      if (found.kind === "relation") {
        relations.push(nodeKey);
        for (const allowed of found.relation.allowedSubjects) {
          if (allowed.caveat !== undefined) caveated = true;
          if (allowed.expiration) expiring = true;
          if (allowed.relation !== undefined) visit(allowed.type, allowed.relation);
        }
      } else {
        for (const [referencedType, referencedName] of this.#references(nodeType, found.permission.expression)) visit(referencedType, referencedName);
      }
    }
    return { relations: relations.sort(), caveated, expiring };
  }

  /** #references lists what `expression` on `type` evaluates directly, as [type, name] pairs. */
  #references(type: string, expression: PermissionExpression): Array<[string, string]> {
    switch (expression.kind) {
      case "union":
      case "intersection":
        return expression.children.flatMap((child) => this.#references(type, child));
      case "exclusion":
        return [...this.#references(type, expression.base), ...this.#references(type, expression.subtract)];
      case "computed":
        return [[type, expression.name]];
      case "arrow": {
        const references: Array<[string, string]> = [[type, expression.tupleset]];
        const tupleset = this.schema.definitions.get(type)?.relations.get(expression.tupleset);
        for (const allowed of tupleset?.allowedSubjects ?? []) {
          if (!allowed.wildcard) references.push([allowed.type, expression.target]);
        }
        return references;
      }
      case "nil":
        return [];
      default:
        return assertNever(expression, "permission expression");
    }
  }
}
