import { WILDCARD_ID, assertNever } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { PermissionExpression, Relation, Schema } from "../schema/index.ts";
import { BitmapSet } from "../graph/index.ts";
import type { GraphIndexView, Posting } from "../graph/index.ts";
import { allowsWildcardOf, distinctUsersets, groupKeyType } from "./allowed-subjects.ts";
import { FALL_BACK, orFallBack } from "./fall-back.ts";
import { FixpointSolver } from "./fixpoint-solver.ts";
import type { Candidates } from "./lookup.ts";
import { numberList } from "./lookup-order.ts";
import type { LookupSubjectsRequest } from "./lookup-types.ts";

/**
 * SubjectSet is a set of subjects of the looked-up type: without `wildcard`, the subjects in
 * `numbers`; with it, every subject except those in `numbers` (a wildcard and its exclusions).
 */
interface SubjectSet {
  readonly wildcard: boolean;
  readonly numbers: BitmapSet;
}

/** SubjectBounds: the subjects that certainly have it (plain relationships alone) and those that possibly do. */
interface SubjectBounds {
  readonly certain: SubjectSet;
  readonly possible: SubjectSet;
}

/** SubjectCandidates are Candidates plus the answer for a subject that no relationship names. */
export type SubjectCandidates = Candidates & { readonly probe: "allowed" | "denied" | "undecided" };

const MAX_SOLVES = 1_000_000;
const NOBODY: SubjectSet = { wildcard: false, numbers: BitmapSet.empty() };
const NO_BOUNDS: SubjectBounds = { certain: NOBODY, possible: NOBODY };

/**
 * subjectBounds decides LookupSubjects on the graph index, set-at-a-time: from the resource down,
 * for every (object, relation or permission) on the way, the set of subjects that have it, as
 * bitmaps with a wildcard flag (`user:*` minus exclusions), combined with `+ & -`; arrows and
 * usersets are unions over the objects they name. Subjects decided only by caveated or expiring
 * relationships are left undecided (a check decides them). FALL_BACK as for resourceBounds.
 */
export function subjectBounds(
  index: GraphIndexView,
  schema: Schema,
  request: LookupSubjectsRequest,
  maxDepth: number,
): SubjectCandidates | typeof FALL_BACK {
  const evaluator = new SubjectBoundsEvaluator(index, schema, request.subjectType, request.subjectRelation, maxDepth);
  const bounds = orFallBack(() => evaluator.bounds(request.resource.type, request.resource.id, request.permission));
  if (bounds === FALL_BACK) return FALL_BACK;
  const allowed: number[] = [];
  const undecided: string[] = [];
  const denied: string[] = [];
  const type = request.subjectType;
  for (const n of evaluator.mentioned.values()) {
    if (isMember(bounds.certain, n)) allowed.push(n);
    else if (isMember(bounds.possible, n)) undecided.push(index.idOf(type, n));
    else denied.push(index.idOf(type, n));
  }
  const probe = bounds.certain.wildcard ? "allowed" : bounds.possible.wildcard ? "undecided" : "denied";
  return { allowed: numberList(index, type, Uint32Array.from(allowed)), undecided, denied, probe };
}

/** SubjectBoundsEvaluator computes SubjectBounds over one index revision for one subject type. */
class SubjectBoundsEvaluator {
  /** mentioned: every subject of the looked-up type that some relationship on the way names. */
  readonly mentioned = BitmapSet.empty();
  readonly #index: GraphIndexView;
  readonly #schema: Schema;
  readonly #subjectType: string;
  readonly #subjectRelation: string | undefined;
  readonly #subjectKey: string;
  readonly #solver: FixpointSolver<SubjectBounds>;

  constructor(index: GraphIndexView, schema: Schema, subjectType: string, subjectRelation: string | undefined, maxDepth: number) {
    this.#solver = new FixpointSolver<SubjectBounds>({ empty: NO_BOUNDS, same: sameBounds, maxSolves: MAX_SOLVES, maxHeight: maxDepth });
    this.#index = index;
    this.#schema = schema;
    this.#subjectType = subjectType;
    this.#subjectRelation = subjectRelation;
    this.#subjectKey = subjectRelation === undefined ? subjectType : `${subjectType}#${subjectRelation}`;
  }

  /** bounds: the subjects that have `name` (a relation or permission) on `type:id`. */
  bounds(type: string, id: string, name: string): SubjectBounds {
    return this.#solver.solve(`${type}:${id}#${name}`, () => {
      const found = findRelationOrPermission(this.#schema, type, name);
      if (found === undefined) return NO_BOUNDS;
      const n = this.#index.numberOf(type, id);
      const bounds = found.kind === "relation" ? this.#relationBounds(type, n, found.relation) : this.#expressionBounds(type, id, n, found.permission.expression);
      // Any relation or permission holds for the userset naming it (group:eng#member has group:eng's member).
      if (n === undefined || type !== this.#subjectType || name !== this.#subjectRelation) return bounds;
      this.mentioned.add(n);
      const self = BitmapSet.empty();
      self.add(n);
      const selfSet = { wildcard: false, numbers: self };
      return unionOf([bounds, { certain: selfSet, possible: selfSet }]);
    });
  }

  #relationBounds(type: string, n: number | undefined, relation: Relation): SubjectBounds {
    const posting = n === undefined ? undefined : this.#index.posting(type, n, relation.name);
    if (posting === undefined) return NO_BOUNDS;
    const certain = new SubjectUnion();
    const possible = new SubjectUnion();
    let exact = posting.special.length === 0;
    const direct = posting.groups.get(this.#subjectKey);
    if (direct !== undefined) {
      const numbers = BitmapSet.of(direct);
      this.mentioned.addAll(numbers);
      certain.add({ wildcard: false, numbers });
    }
    const wildcardAllowed = allowsWildcardOf(relation, this.#subjectType);
    if (wildcardAllowed && posting.wildcards.has(this.#subjectType)) certain.add({ wildcard: true, numbers: BitmapSet.empty() });
    for (const allowed of distinctUsersets(relation.allowedSubjects)) {
      for (const g of posting.groups.get(`${allowed.type}#${allowed.relation}`)?.values() ?? []) {
        const inner = this.bounds(allowed.type, this.#index.idOf(allowed.type, g), allowed.relation);
        certain.add(inner.certain);
        possible.add(inner.possible);
        exact &&= inner.certain === inner.possible;
      }
    }
    for (const { subject } of posting.special) {
      if (subject.id === WILDCARD_ID) {
        if (subject.type === this.#subjectType && wildcardAllowed) possible.add({ wildcard: true, numbers: BitmapSet.empty() });
        continue;
      }
      if (subject.type === this.#subjectType && subject.relation === this.#subjectRelation) {
        const s = this.#index.numberOf(subject.type, subject.id);
        if (s !== undefined) {
          this.mentioned.add(s);
          const one = BitmapSet.empty();
          one.add(s);
          possible.add({ wildcard: false, numbers: one });
        }
      }
      const userset = subject.relation;
      if (userset !== undefined && relation.allowedSubjects.some((allowed) => allowed.type === subject.type && allowed.relation === userset)) {
        possible.add(this.bounds(subject.type, subject.id, userset).possible);
      }
    }
    return finish(certain, possible, exact);
  }

  #expressionBounds(type: string, id: string, n: number | undefined, expression: PermissionExpression): SubjectBounds {
    switch (expression.kind) {
      case "union":
        return unionOf(expression.children.map((child) => this.#expressionBounds(type, id, n, child)));
      case "intersection":
        return combine(expression.children.map((child) => this.#expressionBounds(type, id, n, child)), intersect);
      case "exclusion": {
        const base = this.#expressionBounds(type, id, n, expression.base);
        const subtract = this.#solver.subtracting(() => this.#expressionBounds(type, id, n, expression.subtract));
        const certain = minus(base.certain, subtract.possible);
        const exact = base.possible === base.certain && subtract.possible === subtract.certain;
        return { certain, possible: exact ? certain : minus(base.possible, subtract.certain) };
      }
      case "computed":
        return this.bounds(type, id, expression.name);
      case "arrow": {
        const posting = n === undefined ? undefined : this.#index.posting(type, n, expression.tupleset);
        if (posting === undefined) return NO_BOUNDS;
        return expression.mode === "any" ? this.#anyArrowBounds(posting, expression.target) : this.#allArrowBounds(posting, expression.target);
      }
      case "nil":
        return NO_BOUNDS;
      default:
        return assertNever(expression, "permission expression");
    }
  }

  #hasTarget(type: string, target: string): boolean {
    return findRelationOrPermission(this.#schema, type, target) !== undefined;
  }

  /** `tupleset->target`: a union over the objects the tupleset holds (usersets count as their objects). */
  #anyArrowBounds(posting: Posting, target: string): SubjectBounds {
    const certain = new SubjectUnion();
    const possible = new SubjectUnion();
    let exact = posting.special.length === 0;
    for (const [groupKey, members] of posting.groups) {
      const subjectType = groupKeyType(groupKey);
      if (!this.#hasTarget(subjectType, target)) continue;
      for (const g of members.values()) {
        const inner = this.bounds(subjectType, this.#index.idOf(subjectType, g), target);
        certain.add(inner.certain);
        possible.add(inner.possible);
        exact &&= inner.certain === inner.possible;
      }
    }
    for (const { subject } of posting.special) {
      if (subject.id !== WILDCARD_ID && this.#hasTarget(subject.type, target)) possible.add(this.bounds(subject.type, subject.id, target).possible);
    }
    return finish(certain, possible, exact);
  }

  /**
   * `tupleset.all(target)`: an intersection over the objects the tupleset holds; none, or one whose
   * type lacks the target, gives nobody. With special relationships in the tupleset nothing is
   * certain, and possibly everyone the plain ones allow (or, without plain ones, any special's).
   */
  #allArrowBounds(posting: Posting, target: string): SubjectBounds {
    const plain: SubjectBounds[] = [];
    for (const [groupKey, members] of posting.groups) {
      if (members.size === 0) continue;
      const subjectType = groupKeyType(groupKey);
      if (!this.#hasTarget(subjectType, target)) return NO_BOUNDS;
      for (const g of members.values()) plain.push(this.bounds(subjectType, this.#index.idOf(subjectType, g), target));
    }
    const all = combine(plain, intersect);
    if (posting.special.length === 0) return all;
    if (plain.length > 0) return { certain: NOBODY, possible: all.possible };
    const possible = new SubjectUnion();
    for (const { subject } of posting.special) {
      if (subject.id !== WILDCARD_ID && this.#hasTarget(subject.type, target)) possible.add(this.bounds(subject.type, subject.id, target).possible);
    }
    return { certain: NOBODY, possible: possible.result() };
  }
}

/**
 * SubjectUnion accumulates a union of many SubjectSets without building one set per step: plain
 * sets are added into one bitmap, wildcards' exclusions intersected at the end.
 */
class SubjectUnion {
  readonly #included = BitmapSet.empty();
  #excluded: BitmapSet | undefined;

  add(set: SubjectSet): void {
    if (!set.wildcard) this.#included.addAll(set.numbers);
    else this.#excluded = this.#excluded === undefined ? set.numbers : this.#excluded.and(set.numbers);
  }

  result(): SubjectSet {
    if (this.#excluded === undefined) return { wildcard: false, numbers: this.#included };
    return { wildcard: true, numbers: this.#excluded.andNot(this.#included) };
  }
}

/** finish: the bounds of two accumulated unions; `exact` when every part was exact (then possible = certain). */
function finish(certain: SubjectUnion, possible: SubjectUnion, exact: boolean): SubjectBounds {
  const certainSet = certain.result();
  if (exact) return { certain: certainSet, possible: certainSet };
  possible.add(certainSet);
  return { certain: certainSet, possible: possible.result() };
}

function isMember(set: SubjectSet, n: number): boolean {
  return set.wildcard !== set.numbers.has(n);
}

function sameBounds(a: SubjectBounds, b: SubjectBounds): boolean {
  return sameSet(a.certain, b.certain) && sameSet(a.possible, b.possible);
}

function sameSet(a: SubjectSet, b: SubjectSet): boolean {
  return a.wildcard === b.wildcard && a.numbers.size === b.numbers.size;
}

function unionOf(all: readonly SubjectBounds[]): SubjectBounds {
  const certain = new SubjectUnion();
  const possible = new SubjectUnion();
  let exact = true;
  for (const bounds of all) {
    certain.add(bounds.certain);
    possible.add(bounds.possible);
    exact &&= bounds.certain === bounds.possible;
  }
  const certainSet = certain.result();
  return exact ? { certain: certainSet, possible: certainSet } : { certain: certainSet, possible: possible.result() };
}

function combine(all: readonly SubjectBounds[], op: (a: SubjectSet, b: SubjectSet) => SubjectSet): SubjectBounds {
  const [first, ...rest] = all;
  if (first === undefined) return NO_BOUNDS;
  let result = first;
  for (const next of rest) {
    const certain = op(result.certain, next.certain);
    const exact = result.certain === result.possible && next.certain === next.possible;
    result = exact ? { certain, possible: certain } : { certain, possible: op(result.possible, next.possible) };
  }
  return result;
}

function intersect(a: SubjectSet, b: SubjectSet): SubjectSet {
  if (!a.wildcard && !b.wildcard) return { wildcard: false, numbers: a.numbers.and(b.numbers) };
  if (a.wildcard && b.wildcard) return { wildcard: true, numbers: a.numbers.or(b.numbers) };
  const [plain, wild] = a.wildcard ? [b, a] : [a, b];
  return { wildcard: false, numbers: plain.numbers.andNot(wild.numbers) };
}

function minus(a: SubjectSet, b: SubjectSet): SubjectSet {
  if (!a.wildcard && !b.wildcard) return { wildcard: false, numbers: a.numbers.andNot(b.numbers) };
  if (!a.wildcard) return { wildcard: false, numbers: a.numbers.and(b.numbers) };
  if (!b.wildcard) return { wildcard: true, numbers: a.numbers.or(b.numbers) };
  return { wildcard: false, numbers: b.numbers.andNot(a.numbers) };
}
