import { WILDCARD_ID, assertNever } from "../tuple/index.ts";
import type { SubjectRef } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { AllowedSubject, PermissionExpression, Relation, Schema } from "../schema/index.ts";
import { BitmapSet } from "../graph/index.ts";
import type { GraphIndexView, IdSet } from "../graph/index.ts";
import { allowsWildcardOf, distinctUsersets, groupKeyType } from "./allowed-subjects.ts";
import { FALL_BACK, GIVE_UP, orFallBack } from "./fall-back.ts";
import { FixpointSolver } from "./fixpoint-solver.ts";
import type { Candidates } from "./lookup.ts";
import { numberList } from "./lookup-order.ts";
import type { LookupResourcesRequest } from "./lookup-types.ts";

/**
 * Bounds are two sets of objects of one type for one relation or permission: `certain` holds the
 * objects where the subject has it whatever the caveats and expiries say (decided from plain
 * relationships alone), `possible` those where it may (special relationships counted as present),
 * so certain ⊆ possible. Objects outside `possible` are denied. Without special relationships on
 * the way both are the same object.
 */
interface Bounds {
  readonly certain: BitmapSet;
  readonly possible: BitmapSet;
}

const MAX_SOLVES = 1_000_000;

/**
 * resourceBounds decides LookupResources on the graph index, set-at-a-time: for every relation
 * and permission on the way it computes, as bitmaps of resource numbers, where the subject has it,
 * starting from the subject and going up the reverse index (a relation: the resources holding the
 * subject, its type's wildcard, or a userset it is in; `+ & -`: unions, intersections and
 * differences of those sets; an arrow: the resources whose tupleset holds an object where the
 * target holds, a join through the reverse index; nested groups: the closure, one lookup). It
 * answers FALL_BACK where the evaluation would not equal a check's (a cycle across an exclusion,
 * or nesting or recursion deeper than `maxDepth`, where a check may fail), or past its work bound.
 */
export function resourceBounds(
  index: GraphIndexView,
  schema: Schema,
  request: LookupResourcesRequest,
  maxDepth: number,
): Candidates | typeof FALL_BACK {
  const bounds = orFallBack(() => new ResourceBoundsEvaluator(index, schema, request.subject, maxDepth).bounds(request.resourceType, request.permission));
  if (bounds === FALL_BACK) return FALL_BACK;
  const type = request.resourceType;
  const allowed = numberList(index, type, bounds.certain.toUint32Array());
  const undecided = bounds.possible === bounds.certain ? [] : Array.from(bounds.possible.andNot(bounds.certain).toUint32Array(), (n) => index.idOf(type, n));
  return { allowed, undecided, denied: [] };
}

/** ResourceBoundsEvaluator computes Bounds for one subject over one index revision. */
class ResourceBoundsEvaluator {
  readonly #index: GraphIndexView;
  readonly #schema: Schema;
  readonly #subject: SubjectRef;
  readonly #solver: FixpointSolver<Bounds>;
  readonly #maxDepth: number;
  #memberships: ReadonlyMap<string, IdSet> | undefined;

  constructor(index: GraphIndexView, schema: Schema, subject: SubjectRef, maxDepth: number) {
    this.#solver = new FixpointSolver<Bounds>({ empty: emptyBounds(), same: sameBounds, maxSolves: MAX_SOLVES, maxHeight: maxDepth });
    this.#maxDepth = maxDepth;
    this.#index = index;
    this.#schema = schema;
    this.#subject = subject;
  }

  /** bounds: where the subject has `name` (a relation or permission) among the objects of `type`. */
  bounds(type: string, name: string): Bounds {
    return this.#solver.solve(`${type}#${name}`, () => {
      const found = findRelationOrPermission(this.#schema, type, name);
      if (found === undefined) return emptyBounds();
      if (found.kind === "relation") return this.#withSelf(type, name, this.#relationBounds(type, found.relation));
      return this.#permissionBounds(type, name, found.permission.expression);
    });
  }

  /**
   * #permissionBounds evaluates a permission. One of the shape `view = ... + parent->view`, where
   * `parent` holds objects of the permission's own type (folders in folders), is the closure of
   * the rest over the arrow, computed as a breadth-first walk up the reverse index from what the
   * rest allows: each object is joined once, where iterating the whole union to its fixpoint would
   * join every object again for every level of the hierarchy.
   */
  #permissionBounds(type: string, name: string, expression: PermissionExpression): Bounds {
    const parts = unionParts(expression);
    const recursive = parts.filter((part): part is ArrowExpression => this.#isSelfArrow(type, name, part));
    if (recursive.length === 0) return this.#withSelf(type, name, this.#expressionBounds(type, expression));
    const base = union(
      parts.map((part) =>
        recursive.includes(part as ArrowExpression) ? this.#anyArrowBounds(type, (part as ArrowExpression).tupleset, name, type) : this.#expressionBounds(type, part),
      ),
    );
    return this.#closeOver(type, name, recursive.map((arrow) => arrow.tupleset), this.#withSelf(type, name, base));
  }

  /** #isSelfArrow: is `part` an arrow `tupleset->name` whose tupleset allows objects of `type` itself? */
  #isSelfArrow(type: string, name: string, part: PermissionExpression): boolean {
    if (part.kind !== "arrow" || part.mode !== "any" || part.target !== name) return false;
    return this.#arrowSides(type, part.tupleset, name)?.sides.some((side) => side.type === type) ?? false;
  }

  /**
   * #closeOver extends `base` (bounds on objects of `type`) with every object whose tupleset (one
   * of `tuplesets`) holds an object already in it, until nothing changes: a walk up the reverse
   * index, one level a round, each round a level of depth toward the solver's bound (see
   * FixpointSolver.deepen: GIVE_UP where a check could fail for depth). A special relationship in
   * a tupleset extends only the possible side.
   */
  #closeOver(type: string, name: string, tuplesets: readonly string[], base: Bounds): Bounds {
    const sides = tuplesets.flatMap((tupleset) =>
      (this.#arrowSides(type, tupleset, name)?.sides ?? []).filter((side) => side.type === type).map((side) => ({ tupleset, relation: side.relation })),
    );
    // Each round reaches one more level of the hierarchy: one more level of a check's recursion.
    let deepest = 0;
    const walk = (start: BitmapSet): BitmapSet => {
      let reached = start;
      let frontier = start;
      for (let rounds = 0; ; rounds++) {
        const next = BitmapSet.empty();
        for (const side of sides) this.#join(frontier, type, side.relation, type, side.tupleset, next);
        frontier = next.andNot(reached);
        if (frontier.size === 0) {
          deepest = Math.max(deepest, rounds);
          return reached;
        }
        if (rounds >= this.#maxDepth) throw GIVE_UP;
        reached = reached.or(frontier);
      }
    };
    const certain = walk(base.certain);
    let possible = isExact(base) ? certain : walk(base.possible.or(certain));
    // Special relationships in a tupleset: a resource holding one to an object possibly in the
    // set is possibly in it too, and so is what it reaches in turn.
    for (;;) {
      const added = BitmapSet.empty();
      for (const tupleset of tuplesets) {
        for (const r of this.#index.resourcesWithSpecials(type, tupleset)?.values() ?? []) {
          if (possible.has(r)) continue;
          const held = this.#index.posting(type, r, tupleset)?.special ?? [];
          if (held.some(({ subject }) => subject.type === type && subject.id !== WILDCARD_ID && this.#inSet(possible, type, name, subject.id))) added.add(r);
        }
      }
      if (added.size === 0) {
        this.#solver.deepen(deepest);
        return { certain, possible };
      }
      possible = walk(possible.or(added));
    }
  }

  /** #inSet: is `type:id` in `set`, or the subject itself as the userset naming `name` (which need not be in any set)? */
  #inSet(set: BitmapSet, type: string, name: string, id: string): boolean {
    const subject = this.#subject;
    if (subject.type === type && subject.id === id && subject.relation === name) return true;
    const n = this.#index.numberOf(type, id);
    return n !== undefined && set.has(n);
  }

  // Any relation or permission holds for the userset naming it (`group:eng#member` is in group:eng's member).
  #withSelf(type: string, name: string, bounds: Bounds): Bounds {
    const subject = this.#subject;
    if (subject.type !== type || subject.relation !== name) return bounds;
    const n = this.#index.numberOf(type, subject.id);
    if (n === undefined || bounds.certain.has(n)) return bounds;
    const self = BitmapSet.empty();
    self.add(n);
    return union([bounds, { certain: self, possible: self }]);
  }

  #relationBounds(type: string, relation: Relation): Bounds {
    const index = this.#index;
    const subject = this.#subject;
    if (index.isClosed(type, relation.name)) {
      this.#memberships ??= index.memberships(subject);
      const members = BitmapSet.of(this.#memberships.get(`${type}#${relation.name}`));
      return { certain: members, possible: members };
    }
    const certain = BitmapSet.of(index.resourcesWithSubject(subject, type, relation.name));
    if (allowsWildcardOf(relation, subject.type)) {
      const holders = index.resourcesWithSubject({ type: subject.type, id: WILDCARD_ID }, type, relation.name);
      if (holders !== undefined) certain.addAll(holders);
    }
    let possible = certain;
    for (const userset of distinctUsersets(relation.allowedSubjects)) {
      const inner = this.bounds(userset.type, userset.relation);
      this.#join(inner.certain, userset.type, userset.relation, type, relation.name, certain);
      if (inner.possible !== inner.certain) {
        if (possible === certain) possible = BitmapSet.of(certain);
        this.#join(inner.possible, userset.type, userset.relation, type, relation.name, possible);
      }
    }
    const specials = index.resourcesWithSpecials(type, relation.name);
    if (specials === undefined) return { certain, possible: possible === certain ? certain : possible.or(certain) };
    const withSpecials = possible === certain ? BitmapSet.of(certain) : possible.or(certain);
    for (const r of specials.values()) {
      if (withSpecials.has(r)) continue;
      const held = index.posting(type, r, relation.name)?.special ?? [];
      if (held.some(({ subject: held }) => this.#mayMatch(held, relation))) withSpecials.add(r);
    }
    return { certain, possible: withSpecials };
  }

  /** #mayMatch: could a special relationship to `held` in `relation` count for the subject? */
  #mayMatch(held: SubjectRef, relation: Relation): boolean {
    const subject = this.#subject;
    if (held.id === WILDCARD_ID) return held.type === subject.type && allowsWildcardOf(relation, subject.type);
    if (held.type === subject.type && held.id === subject.id && held.relation === subject.relation) return true;
    if (held.relation === undefined) return false;
    if (!relation.allowedSubjects.some((allowed) => allowed.type === held.type && allowed.relation === held.relation)) return false;
    return this.#possiblyOn(held.type, held.relation, held.id);
  }

  /** #possiblyOn: may the subject have `name` on `type:id`? */
  #possiblyOn(type: string, name: string, id: string): boolean {
    const subject = this.#subject;
    if (subject.type === type && subject.id === id && subject.relation === name) return true;
    const n = this.#index.numberOf(type, id);
    return n !== undefined && this.bounds(type, name).possible.has(n);
  }

  /**
   * #join adds to `into` the resources of `resourceType` whose `relation` holds `subjectType:x`
   * (with `subjectRelation`, if set) for some x in `objects`: the reverse index, one read per x.
   */
  #join(objects: BitmapSet, subjectType: string, subjectRelation: string | undefined, resourceType: string, relation: string, into: BitmapSet): void {
    const table = this.#index.reverseTable(subjectType, subjectRelation, resourceType, relation);
    if (table === undefined) return;
    for (const x of objects.toUint32Array()) {
      const holders = table[x];
      if (holders !== undefined) into.addAll(holders);
    }
  }

  #expressionBounds(type: string, expression: PermissionExpression): Bounds {
    switch (expression.kind) {
      case "union":
        return union(expression.children.map((child) => this.#expressionBounds(type, child)));
      case "intersection":
        return intersection(expression.children.map((child) => this.#expressionBounds(type, child)));
      case "exclusion": {
        const base = this.#expressionBounds(type, expression.base);
        const subtract = this.#solver.subtracting(() => this.#expressionBounds(type, expression.subtract));
        return exclusion(base, subtract);
      }
      case "computed":
        return this.bounds(type, expression.name);
      case "arrow":
        return expression.mode === "any"
          ? this.#anyArrowBounds(type, expression.tupleset, expression.target)
          : this.#allArrowBounds(type, expression.tupleset, expression.target);
      case "nil":
        return emptyBounds();
      default:
        return assertNever(expression, "permission expression");
    }
  }

  /** #arrowSides: the tupleset's allowed subject types (usersets count as their objects) that have `target`. */
  #arrowSides(type: string, tupleset: string, target: string): { tupleset: Relation; sides: AllowedSubject[] } | undefined {
    const relation = this.#schema.definitions.get(type)?.relations.get(tupleset);
    if (relation === undefined) return undefined;
    const seen = new Set<string>();
    const sides = relation.allowedSubjects.filter((allowed) => {
      const key = `${allowed.type}#${allowed.relation ?? ""}`;
      if (allowed.wildcard || seen.has(key) || findRelationOrPermission(this.#schema, allowed.type, target) === undefined) return false;
      seen.add(key);
      return true;
    });
    return { tupleset: relation, sides };
  }

  /**
   * `tupleset->target`: the resources whose tupleset holds some object on which the target holds.
   * `skipType`: leave out the tupleset's objects of that type (#closeOver follows those).
   */
  #anyArrowBounds(type: string, tupleset: string, target: string, skipType?: string): Bounds {
    const arrow = this.#arrowSides(type, tupleset, target);
    if (arrow === undefined) return emptyBounds();
    const certain = BitmapSet.empty();
    let possible = certain;
    for (const side of arrow.sides) {
      if (side.type === skipType) continue;
      const inner = this.bounds(side.type, target);
      this.#join(inner.certain, side.type, side.relation, type, tupleset, certain);
      if (inner.possible !== inner.certain) {
        if (possible === certain) possible = BitmapSet.empty();
        this.#join(inner.possible, side.type, side.relation, type, tupleset, possible);
      }
    }
    const specials = this.#index.resourcesWithSpecials(type, tupleset);
    if (specials === undefined) return { certain, possible: possible === certain ? certain : possible.or(certain) };
    const withSpecials = possible === certain ? BitmapSet.of(certain) : possible.or(certain);
    for (const r of specials.values()) {
      if (withSpecials.has(r)) continue;
      const held = this.#index.posting(type, r, tupleset)?.special ?? [];
      const reaches = held.some(
        ({ subject }) =>
          subject.id !== WILDCARD_ID &&
          subject.type !== skipType &&
          findRelationOrPermission(this.#schema, subject.type, target) !== undefined &&
          this.#possiblyOn(subject.type, target, subject.id),
      );
      if (reaches) withSpecials.add(r);
    }
    return { certain, possible: withSpecials };
  }

  /**
   * `tupleset.all(target)`: the resources whose tupleset holds at least one object and where the
   * target holds on every object it holds. Candidates come from the `any` join; each is then read.
   * Certain only without special relationships in the tupleset.
   */
  #allArrowBounds(type: string, tupleset: string, target: string): Bounds {
    const any = this.#anyArrowBounds(type, tupleset, target);
    const certain = BitmapSet.empty();
    const possible = BitmapSet.empty();
    for (const r of any.possible.values()) {
      const posting = this.#index.posting(type, r, tupleset);
      if (posting === undefined) continue;
      let allCertain = posting.special.length === 0;
      let allPossible = true;
      let objects = 0;
      for (const [groupKey, members] of posting.groups) {
        if (members.size === 0) continue;
        objects += members.size;
        const subjectType = groupKeyType(groupKey);
        if (findRelationOrPermission(this.#schema, subjectType, target) === undefined) {
          allCertain = allPossible = false;
          break;
        }
        const inner = this.bounds(subjectType, target);
        for (const x of members.values()) {
          if (!inner.possible.has(x)) {
            allCertain = allPossible = false;
            break;
          }
          if (allCertain && !inner.certain.has(x)) allCertain = false;
        }
        if (!allPossible) break;
      }
      if (!allPossible || (objects === 0 && posting.special.length === 0)) continue;
      possible.add(r);
      if (allCertain && objects > 0) certain.add(r);
    }
    return { certain, possible };
  }
}

type ArrowExpression = Extract<PermissionExpression, { kind: "arrow" }>;

/** unionParts: the operands of a union, nested unions flattened; any other expression is its own one part. */
function unionParts(expression: PermissionExpression): PermissionExpression[] {
  return expression.kind === "union" ? expression.children.flatMap(unionParts) : [expression];
}

function emptyBounds(): Bounds {
  const none = BitmapSet.empty();
  return { certain: none, possible: none };
}

function sameBounds(a: Bounds, b: Bounds): boolean {
  return a.certain.size === b.certain.size && a.possible.size === b.possible.size;
}

function isExact(bounds: Bounds): boolean {
  return bounds.certain === bounds.possible;
}

function union(all: readonly Bounds[]): Bounds {
  return combine(all, (a, b) => a.or(b), (a, b) => a.or(b));
}

function intersection(all: readonly Bounds[]): Bounds {
  return combine(all, (a, b) => a.and(b), (a, b) => a.and(b));
}

function combine(all: readonly Bounds[], certainOp: (a: BitmapSet, b: BitmapSet) => BitmapSet, possibleOp: (a: BitmapSet, b: BitmapSet) => BitmapSet): Bounds {
  const [first, ...rest] = all;
  if (first === undefined) return emptyBounds();
  let result = first;
  for (const next of rest) {
    const certain = certainOp(result.certain, next.certain);
    result = isExact(result) && isExact(next) ? { certain, possible: certain } : { certain, possible: possibleOp(result.possible, next.possible) };
  }
  return result;
}

/** base - subtract: certainly in base and not possibly subtracted; possibly in base and not certainly subtracted. */
function exclusion(base: Bounds, subtract: Bounds): Bounds {
  const certain = base.certain.andNot(subtract.possible);
  if (isExact(base) && isExact(subtract)) return { certain, possible: certain };
  return { certain, possible: base.possible.andNot(subtract.certain) };
}
