import { BugError, WILDCARD_ID, assertNever } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { PermissionExpression, Schema } from "../schema/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import type { ExpandTree } from "./engine-types.ts";
import { DepthExceededError, ExpandLimitExceededError, RequestAbortedError } from "./errors.ts";
import { exclusionChain } from "./exclusion-chain.ts";

/** ExpandOptions bound one expansion. */
export interface ExpandOptions {
  readonly maxDepth: number;
  readonly maxExpandNodes: number;
  readonly signal?: AbortSignal | undefined;
}

interface ExpandPath {
  readonly key: string;
  readonly parent: ExpandPath | undefined;
}

/**
 * Expanded is a subtree with what reusing it needs: its node count (`size`, counted against
 * maxExpandNodes wherever it appears), the depth it used, and the keys of in-progress names where
 * a cycle was cut inside it (a subtree with cuts is reused nowhere: it is complete only below the
 * name it was cut at).
 */
interface Expanded {
  readonly tree: ExpandTree;
  readonly size: number;
  readonly depthRequired: number;
  readonly cuts: ReadonlySet<string> | undefined;
}

/** YIELD_EVERY is how many names an expansion may expand before it lets other work run. */
const YIELD_EVERY = 1_000;

/**
 * expandPermission returns `permission` (or a relation) on `resource` as a tree, in the shape of
 * SpiceDB's ExpandPermissionTree (measured with v1.54):
 * - a relation is a leaf of its direct subjects (caveated ones included, usersets unexpanded);
 * - a permission follows its expression; computed names are expanded in place;
 * - `tupleset->target` (`.all(target)`) is a union (intersection) over the tupleset's subject
 *   objects of `target` expanded on each, recursively, as SpiceDB does; a subject whose type
 *   lacks `target` is left out of a union and is the empty union inside an intersection;
 *   `.all()` over no subjects is the empty union (check denies it);
 * - `nil` is a leaf without subjects;
 * - a permission whose expression is not a set operation (`= viewer`, an arrow, `nil`) is wrapped
 *   in a union of one child, as SpiceDB does;
 * - a name reached again while it is being expanded (a cycle in the data) is the empty union.
 * A name reached along several paths (folders sharing parents) is read and built once, but
 * appears in full wherever it is reached, so the tree can grow exponentially with the data: past
 * `maxExpandNodes` nodes the expansion fails with ExpandLimitExceededError, before reading more.
 * The request must be validated first. Throws DepthExceededError past `maxDepth` arrow hops and
 * RequestAbortedError once `signal` aborts.
 */
export async function expandPermission(
  reader: RelationshipReader,
  schema: Schema,
  resource: ObjectRef,
  permission: string,
  options: ExpandOptions,
): Promise<ExpandTree> {
  return (await new Expander(reader, schema, options).expandName(resource, permission, 1, undefined)).tree;
}

class Expander {
  readonly #reader: RelationshipReader;
  readonly #schema: Schema;
  readonly #options: ExpandOptions;
  /** #memo keeps cut-free subtrees by `type:id#name`. */
  readonly #memo = new Map<string, Expanded>();
  #nodes = 0;
  #names = 0;

  constructor(reader: RelationshipReader, schema: Schema, options: ExpandOptions) {
    this.#reader = reader;
    this.#schema = schema;
    this.#options = options;
  }

  async expandName(resource: ObjectRef, name: string, depth: number, path: ExpandPath | undefined): Promise<Expanded> {
    const key = `${resource.type}:${resource.id}#${name}`;
    for (let node = path; node !== undefined; node = node.parent) {
      if (node.key === key) return this.#built({ kind: "union", resource, relation: name, children: [] }, [], new Set([key]));
    }
    if (depth > this.#options.maxDepth) throw new DepthExceededError("expand", this.#options.maxDepth, resource, name);
    const remembered = this.#memo.get(key);
    if (remembered !== undefined && depth - 1 + remembered.depthRequired <= this.#options.maxDepth) {
      this.#count(remembered.size, resource, name);
      return remembered;
    }
    await this.#pace();

    const definition = this.#schema.definitions.get(resource.type);
    if (definition === undefined) throw new BugError(`definition \`${resource.type}\` is not in the schema; requests are validated first`);
    let expanded: Expanded;
    if (definition.relations.has(name)) {
      const relationships = await this.#reader.queryRelationships({ resourceType: resource.type, resourceId: resource.id, relation: name });
      expanded = this.#built({ kind: "leaf", resource, relation: name, subjects: relationships.map((relationship) => relationship.subject) }, []);
    } else {
      const permission = definition.permissions.get(name);
      if (permission === undefined) throw new BugError(`${resource.type}#${name} is neither a relation nor a permission`);
      const inner = { key, parent: path };
      expanded = await this.#expandExpression(resource, name, permission.expression, depth, inner);
      // SpiceDB wraps a permission whose expression is not a set operation in a union of one child.
      const kind = permission.expression.kind;
      if (kind !== "union" && kind !== "intersection" && kind !== "exclusion") {
        expanded = this.#built({ kind: "union", resource, relation: name, children: [expanded.tree] }, [expanded]);
      }
    }
    const cuts = expanded.cuts === undefined ? undefined : new Set(expanded.cuts);
    cuts?.delete(key);
    const result = { ...expanded, cuts: cuts === undefined || cuts.size === 0 ? undefined : cuts };
    if (result.cuts === undefined) this.#memo.set(key, result);
    return result;
  }

  async #expandExpression(
    resource: ObjectRef,
    name: string,
    expression: PermissionExpression,
    depth: number,
    path: ExpandPath,
  ): Promise<Expanded> {
    switch (expression.kind) {
      case "union":
      case "intersection": {
        const children: Expanded[] = [];
        for (const child of expression.children) children.push(await this.#expandExpression(resource, name, child, depth, path));
        return this.#built({ kind: expression.kind, resource, relation: name, children: children.map((child) => child.tree) }, children);
      }
      case "exclusion": {
        // The tree keeps SpiceDB's nesting: ((a - b) - c).
        const { base, subtracts } = exclusionChain(expression);
        let expanded = await this.#expandExpression(resource, name, base, depth, path);
        for (const subtract of subtracts) {
          const subtracted = await this.#expandExpression(resource, name, subtract, depth, path);
          expanded = this.#built({ kind: "exclusion", resource, relation: name, children: [expanded.tree, subtracted.tree] }, [expanded, subtracted]);
        }
        return expanded;
      }
      case "computed":
        return this.expandName(resource, expression.name, depth, path);
      case "arrow":
        return this.#expandArrow(resource, name, expression.tupleset, expression.target, expression.mode, depth, path);
      case "nil":
        return this.#built({ kind: "leaf", resource, relation: name, subjects: [] }, []);
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
  ): Promise<Expanded> {
    const relationships = await this.#reader.queryRelationships({ resourceType: resource.type, resourceId: resource.id, relation: tupleset });
    const seen = new Set<string>();
    const children: Expanded[] = [];
    for (const { subject } of relationships) {
      const objectKey = `${subject.type}:${subject.id}`;
      if (subject.id === WILDCARD_ID || seen.has(objectKey)) continue;
      seen.add(objectKey);
      const object = { type: subject.type, id: subject.id };
      if (findRelationOrPermission(this.#schema, subject.type, target) !== undefined) {
        const child = await this.expandName(object, target, depth + 1, path);
        children.push({ ...child, depthRequired: child.depthRequired + 1 });
      } else if (mode === "all") {
        children.push(this.#built({ kind: "union", resource: object, relation: target, children: [] }, []));
      }
    }
    // An `.all()` over no subjects is denied by check, so it expands to the empty set, not to "everything".
    const kind = mode === "all" && children.length > 0 ? "intersection" : "union";
    return this.#built({ kind, resource, relation: name, children: children.map((child) => child.tree) }, children);
  }

  /** #built counts a new node over `children` (already counted) and merges their bookkeeping. */
  #built(tree: ExpandTree, children: readonly Expanded[], ownCuts?: ReadonlySet<string>): Expanded {
    this.#count(1, tree.resource, tree.relation);
    let size = 1;
    let depthRequired = 1;
    let cuts: Set<string> | undefined = ownCuts === undefined ? undefined : new Set(ownCuts);
    for (const child of children) {
      size += child.size;
      depthRequired = Math.max(depthRequired, child.depthRequired);
      if (child.cuts !== undefined) {
        cuts ??= new Set();
        for (const cut of child.cuts) cuts.add(cut);
      }
    }
    return { tree, size, depthRequired, cuts };
  }

  #count(nodes: number, resource: ObjectRef, relation: string): void {
    this.#nodes += nodes;
    if (this.#nodes > this.#options.maxExpandNodes) throw new ExpandLimitExceededError(this.#options.maxExpandNodes, resource, relation);
  }

  /** #pace checks for an abort, and lets other work run now and then. */
  async #pace(): Promise<void> {
    this.#names += 1;
    if (this.#names % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const signal = this.#options.signal;
    if (signal?.aborted === true) throw new RequestAbortedError("expand", signal.reason);
  }
}
