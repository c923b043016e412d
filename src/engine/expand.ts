import { BugError, WILDCARD_ID, assertNever } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import type { PermissionExpression, Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import type { ExpandTree } from "./engine-types.ts";
import { DepthExceededError } from "./errors.ts";

/** ExpandOptions bound one expansion. */
export interface ExpandOptions {
  readonly maxDepth: number;
}

interface ExpandPath {
  readonly key: string;
  readonly parent: ExpandPath | undefined;
}

/**
 * expandPermission returns one level of `permission` (or relation) on `resource`, in the shape of
 * SpiceDB's ExpandPermissionTree:
 * - a relation is a leaf of its direct subjects (caveated ones included, usersets unexpanded);
 * - a permission follows its expression; computed names are expanded in place;
 * - `tupleset->target` (`.all(target)`) is a union (intersection) over the tupleset's subject
 *   objects of `target` expanded on each; a subject whose type lacks `target` is left out of a
 *   union and is the empty union inside an intersection; `.all()` over no subjects is the empty
 *   union (check denies it);
 * - `nil` is a leaf without subjects;
 * - a permission whose expression is not a set operation (`= viewer`, an arrow, `nil`) is wrapped
 *   in a union of one child, as SpiceDB does;
 * - a name reached again while it is being expanded (a cycle in the data) is the empty union.
 * The request must be validated first. Throws DepthExceededError past `maxDepth` arrow hops.
 */
export async function expandPermission(
  reader: RelationshipReader,
  schema: Schema,
  resource: ObjectRef,
  permission: string,
  options: ExpandOptions,
): Promise<ExpandTree> {
  return new Expander(reader, schema, options.maxDepth).expandName(resource, permission, 1, undefined);
}

class Expander {
  readonly #reader: RelationshipReader;
  readonly #schema: Schema;
  readonly #maxDepth: number;

  constructor(reader: RelationshipReader, schema: Schema, maxDepth: number) {
    this.#reader = reader;
    this.#schema = schema;
    this.#maxDepth = maxDepth;
  }

  async expandName(resource: ObjectRef, name: string, depth: number, path: ExpandPath | undefined): Promise<ExpandTree> {
    const key = `${resource.type}:${resource.id}#${name}`;
    for (let node = path; node !== undefined; node = node.parent) {
      if (node.key === key) return { kind: "union", resource, relation: name, children: [] };
    }
    if (depth > this.#maxDepth) throw new DepthExceededError("expand", this.#maxDepth, resource, name);
    const definition = this.#schema.definitions.get(resource.type);
    if (definition === undefined) throw new BugError(`definition \`${resource.type}\` is not in the schema; requests are validated first`);
    if (definition.relations.has(name)) {
      const relationships = await this.#reader.queryRelationships({ resourceType: resource.type, resourceId: resource.id, relation: name });
      return { kind: "leaf", resource, relation: name, subjects: relationships.map((relationship) => relationship.subject) };
    }
    const permission = definition.permissions.get(name);
    if (permission === undefined) throw new BugError(`${resource.type}#${name} is neither a relation nor a permission`);
    const inner = { key, parent: path };
    const tree = await this.#expandExpression(resource, name, permission.expression, depth, inner);
    // SpiceDB wraps a permission whose expression is not a set operation in a union of one child.
    const kind = permission.expression.kind;
    const isSetOperation = kind === "union" || kind === "intersection" || kind === "exclusion";
    return isSetOperation ? tree : { kind: "union", resource, relation: name, children: [tree] };
  }

  async #expandExpression(
    resource: ObjectRef,
    name: string,
    expression: PermissionExpression,
    depth: number,
    path: ExpandPath,
  ): Promise<ExpandTree> {
    switch (expression.kind) {
      case "union":
      case "intersection": {
        const children: ExpandTree[] = [];
        for (const child of expression.children) children.push(await this.#expandExpression(resource, name, child, depth, path));
        return { kind: expression.kind, resource, relation: name, children };
      }
      case "exclusion": {
        const base = await this.#expandExpression(resource, name, expression.base, depth, path);
        const subtract = await this.#expandExpression(resource, name, expression.subtract, depth, path);
        return { kind: "exclusion", resource, relation: name, children: [base, subtract] };
      }
      case "computed":
        return this.expandName(resource, expression.name, depth, path);
      case "arrow":
        return this.#expandArrow(resource, name, expression.tupleset, expression.target, expression.mode, depth, path);
      case "nil":
        return { kind: "leaf", resource, relation: name, subjects: [] };
      default:
        return assertNever(expression, "permission expression");
    }
  }

  async #expandArrow(
    resource: ObjectRef,
    name: string,
    tupleset: string,
    target: string,
    mode: "any" | "all",
    depth: number,
    path: ExpandPath,
  ): Promise<ExpandTree> {
    const relationships = await this.#reader.queryRelationships({ resourceType: resource.type, resourceId: resource.id, relation: tupleset });
    const seen = new Set<string>();
    const children: ExpandTree[] = [];
    for (const { subject } of relationships) {
      const objectKey = `${subject.type}:${subject.id}`;
      if (subject.id === WILDCARD_ID || seen.has(objectKey)) continue;
      seen.add(objectKey);
      const object = { type: subject.type, id: subject.id };
      const definition = this.#schema.definitions.get(subject.type);
      if (definition !== undefined && (definition.relations.has(target) || definition.permissions.has(target))) {
        children.push(await this.expandName(object, target, depth + 1, path));
      } else if (mode === "all") {
        children.push({ kind: "union", resource: object, relation: target, children: [] });
      }
    }
    // An `.all()` over no subjects is denied by check, so it expands to the empty set, not to "everything".
    const kind = mode === "all" && children.length > 0 ? "intersection" : "union";
    return { kind, resource, relation: name, children };
  }
}
