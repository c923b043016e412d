import { BugError, WILDCARD_ID, assertNever } from "../tuple/index.ts";
import type { ObjectRef, SubjectRef } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { PermissionExpression, Relation, Schema } from "../schema/index.ts";
import type { GraphIndexView, IdSet, Posting } from "../graph/index.ts";
import { groupKeyType } from "./allowed-subjects.ts";
import { subproblemText } from "./dispatcher.ts";
import { exclusionChain } from "./exclusion-chain.ts";
import { FALL_BACK, GIVE_UP, orFallBack } from "./fall-back.ts";
import { MembershipsMemo } from "./memberships-memo.ts";
import { ALLOWED, DENIED } from "./membership.ts";
import type { Membership } from "./membership.ts";
import type { SchemaDependencies } from "./schema-dependencies.ts";


/**
 * SubproblemAnswer is a decided subproblem: `depthRequired` counts the dispatch levels its
 * computation used, itself included, so that it is reused only where that much depth remains.
 */
export interface SubproblemAnswer {
  readonly allowed: boolean;
  readonly depthRequired: number;
}

/**
 * SubproblemCacheView is the cross-request cache as one evaluation sees it: bound to the index
 * revision being evaluated, answering only entries valid there. Keys are subproblemText values.
 */
export interface SubproblemCacheView {
  get(key: string, type: string, relation: string): SubproblemAnswer | undefined;
  set(key: string, type: string, relation: string, answer: SubproblemAnswer): void;
}

/** IndexedEvaluatorOptions: the index and schema to evaluate over, and the plain walk's bounds. */
export interface IndexedEvaluatorOptions {
  readonly index: GraphIndexView;
  readonly dependencies: SchemaDependencies;
  readonly maxDepth: number;
  readonly maxDispatches: number;
  readonly cache?: SubproblemCacheView | undefined;
  /** memberships remembers the subjects' closures; default: one for this evaluator alone. */
  readonly memberships?: MembershipsMemo | undefined;
}

/** sameSchema: the index follows `indexSchema`; the request was validated against `schema`. */
export function sameSchema(indexSchema: Schema | undefined, schema: Schema): boolean {
  return indexSchema === schema || (indexSchema !== undefined && indexSchema.source === schema.source);
}

/** FEW_OBJECTS: up to this many objects of a flat closed relation are read one by one (see #useClosure). */
const FEW_OBJECTS = 2;

/** PER_REQUEST_SUBJECTS bounds the closures an evaluator of its own remembers (a batch may name many subjects). */
const PER_REQUEST_SUBJECTS = 1_000;


/** Frame is one subproblem in progress on the current path. */
interface Frame {
  readonly key: string;
  readonly depth: number;
  /** subtractions: how many subtracted sides of exclusions enclosed this frame when it started. */
  readonly subtractions: number;
  /** lowestCut: the lowest path position that a cycle cut below this frame pointed at (Infinity: none). */
  lowestCut: number;
  depthRequired: number;
}

/**
 * IndexedEvaluator answers checks synchronously over a GraphIndexView, so that one check sees
 * exactly one revision (the index changes only between turns of the event loop). Its semantics
 * are the plain walk's (LocalDispatcher): a relation holds through the exact subject, the subject
 * type's wildcard (usersets of that type included) or a userset that holds; any relation or
 * permission holds for the userset naming it; arrows are unions (`.all()`: intersections) over
 * the tupleset's subject objects; a subproblem already on the current path is cut (DENIED for
 * that branch), and only answers that met no unresolved cut are remembered (in a per-request memo
 * shared by every check made with this evaluator, and in the cross-request cache if given).
 *
 * The closure replaces walks through nested groups: a userset group `T#R` of a posting, with
 * `T#R` closed (GraphIndexView.isClosed), holds iff the subject's memberships in `T#R` intersect
 * the group; an arrow whose target on `T` is closed likewise (a flat closed relation on one or
 * two objects is read directly instead, see #useClosure). Such a lookup costs no depth and no
 * dispatch: where the plain walk would fail with DepthExceededError through a chain of closed
 * relations longer than maxDepth (or DispatchLimitExceededError, visiting them one by one), the
 * evaluator answers. That is the one intended difference from the plain walk.
 *
 * It answers FALL_BACK, rather than guess, when it meets a posting holding caveated or expiring
 * relationships, a wildcard subject, an index whose schema is not the request's, recursion past
 * maxDepth, more than maxDispatches subproblems, or a cycle cut that reaches across the subtracted
 * side of an exclusion (the plain walk's answer then depends on its evaluation order). Where the
 * relations a subproblem depends on may hold caveated relationships, it evaluates every operand
 * instead of stopping at the first decisive one: the plain walk stops in its own order and could
 * meet a caveat that throws where the evaluator, stopping elsewhere, would not; visiting
 * everything and falling back on any caveat keeps the answers (errors included) equal.
 */
export class IndexedEvaluator {
  readonly #options: IndexedEvaluatorOptions;
  readonly #schema: Schema;
  readonly #revision: number;
  readonly #memo = new Map<string, SubproblemAnswer>();
  readonly #memberships: MembershipsMemo;

  // The check in progress.
  #subject: SubjectRef = { type: "", id: "" };
  #subjectNumber: number | undefined;
  #subjectGroup = "";
  #subjectMemberships: ReadonlyMap<string, IdSet> | undefined;
  #dispatches = 0;
  #subtractions = 0;
  readonly #stack: Frame[] = [];
  readonly #onPath = new Map<string, number>();

  constructor(options: IndexedEvaluatorOptions) {
    this.#options = options;
    this.#schema = options.dependencies.schema;
    this.#revision = options.index.revision;
    this.#memberships = options.memberships ?? new MembershipsMemo(PER_REQUEST_SUBJECTS);
  }

  /**
   * check answers whether `subject` has `permission` on `resource` (a request already validated
   * against the schema) at the index's current revision: ALLOWED, DENIED or FALL_BACK. It also
   * answers FALL_BACK once the index has moved past the revision this evaluator started at (its
   * memo belongs to that revision).
   */
  check(resource: ObjectRef, permission: string, subject: SubjectRef): Membership | typeof FALL_BACK {
    const { index } = this.#options;
    if (index.revision !== this.#revision || subject.id === WILDCARD_ID || !sameSchema(index.schema, this.#schema)) return FALL_BACK;
    this.#startCheck(subject);
    // The evaluation recurses on the call stack; a maxDepth far above the default can exhaust it,
    // and the plain walk (asynchronous, so on the heap) then answers instead (see orFallBack).
    return orFallBack(() => (this.#dispatch(resource.type, resource.id, permission, 1) ? ALLOWED : DENIED));
  }

  #startCheck(subject: SubjectRef): void {
    this.#subject = subject;
    this.#subjectNumber = this.#options.index.numberOf(subject.type, subject.id);
    this.#subjectGroup = subject.relation === undefined ? subject.type : `${subject.type}#${subject.relation}`;
    this.#subjectMemberships = undefined;
    this.#dispatches = 0;
    this.#subtractions = 0;
    this.#stack.length = 0;
    this.#onPath.clear();
  }

  /** #dispatch answers `relation` on `type:id` at `depth`, as the plain walk's dispatcher chain would. */
  #dispatch(type: string, id: string, relation: string, depth: number): boolean {
    const { maxDepth, maxDispatches, cache } = this.#options;
    const parent = this.#stack.at(-1);
    this.#dispatches += 1;
    if (this.#dispatches > maxDispatches) throw GIVE_UP;
    const key = subproblemText(type, id, relation, this.#subject);

    const position = this.#onPath.get(key);
    if (position !== undefined) {
      // A cycle in the data: denied for this branch. Across a subtraction that is not monotone.
      if ((this.#stack[position]?.subtractions ?? 0) < this.#subtractions) throw GIVE_UP;
      if (parent !== undefined) this.#childDone(parent, depth, 1, position);
      return false;
    }
    if (depth > maxDepth) throw GIVE_UP;
    const subject = this.#subject;
    if (subject.type === type && subject.id === id && subject.relation === relation) {
      if (parent !== undefined) this.#childDone(parent, depth, 1, Infinity);
      return true;
    }
    // Across requests, only permissions are cached (and the check asked): a relation costs a
    // posting read or two to recompute, less than a cache entry costs to keep.
    const shared = cache !== undefined && (parent === undefined || this.#isPermission(type, relation)) ? cache : undefined;
    const known = this.#memo.get(key) ?? shared?.get(key, type, relation);
    if (known !== undefined && depth - 1 + known.depthRequired <= maxDepth) {
      if (parent !== undefined) this.#childDone(parent, depth, known.depthRequired, Infinity);
      return known.allowed;
    }

    const frame: Frame = { key, depth, subtractions: this.#subtractions, lowestCut: Infinity, depthRequired: 1 };
    const own = this.#stack.length;
    this.#stack.push(frame);
    this.#onPath.set(key, own);
    const allowed = this.#evaluate(type, id, relation, depth);
    this.#stack.pop();
    this.#onPath.delete(key);

    if (frame.lowestCut >= own) {
      // No cut above this frame was met: the answer is final, whatever path reaches it next.
      const answer = { allowed, depthRequired: frame.depthRequired };
      this.#memo.set(key, answer);
      shared?.set(key, type, relation, answer);
    }
    if (parent !== undefined) this.#childDone(parent, depth, frame.depthRequired, frame.lowestCut);
    return allowed;
  }

  #isPermission(type: string, name: string): boolean {
    return this.#schema.definitions.get(type)?.permissions.has(name) ?? false;
  }

  #childDone(parent: Frame, childDepth: number, childDepthRequired: number, childLowestCut: number): void {
    parent.depthRequired = Math.max(parent.depthRequired, childDepth - parent.depth + childDepthRequired);
    if (childLowestCut < parent.lowestCut) parent.lowestCut = childLowestCut;
  }

  #evaluate(type: string, id: string, relation: string, depth: number): boolean {
    const exhaustive = this.#options.dependencies.of(type, relation).caveated;
    const found = findRelationOrPermission(this.#schema, type, relation);
    if (found === undefined) throw new BugError(`${type}#${relation} is neither a relation nor a permission; requests are validated first`);
    if (found.kind === "relation") return this.#checkRelation(type, id, found.relation, depth, exhaustive);
    return this.#checkExpression(type, id, found.permission.expression, depth, exhaustive);
  }

  /** #posting reads what `type:id#relation` holds, giving up on caveated or expiring relationships. */
  #posting(type: string, id: string, relation: string): Posting | undefined {
    const { index } = this.#options;
    const number = index.numberOf(type, id);
    const posting = number === undefined ? undefined : index.posting(type, number, relation);
    if (posting !== undefined && posting.special.length > 0) throw GIVE_UP;
    return posting;
  }

  #checkRelation(type: string, id: string, relation: Relation, depth: number, exhaustive: boolean): boolean {
    const posting = this.#posting(type, id, relation.name);
    if (posting === undefined) return false;
    const subject = this.#subject;
    let allowed = this.#subjectNumber !== undefined && (posting.groups.get(this.#subjectGroup)?.has(this.#subjectNumber) ?? false);
    // A wildcard stands for every subject of its type, usersets included (as in the plain walk).
    if (!allowed && posting.wildcards.has(subject.type)) {
      allowed = relation.allowedSubjects.some((allowedSubject) => allowedSubject.wildcard && allowedSubject.type === subject.type);
    }
    if (allowed && !exhaustive) return true;

    const seen = new Set<string>();
    for (const allowedSubject of relation.allowedSubjects) {
      if (allowedSubject.relation === undefined) continue;
      const groupKey = `${allowedSubject.type}#${allowedSubject.relation}`;
      if (seen.has(groupKey)) continue;
      seen.add(groupKey);
      const group = posting.groups.get(groupKey);
      if (group === undefined || group.size === 0) continue;
      if (this.#anyHolds(allowedSubject.type, allowedSubject.relation, group, depth + 1, exhaustive)) {
        allowed = true;
        if (!exhaustive) return true;
      }
    }
    return allowed;
  }

  /**
   * #useClosure: answer `type#relation` on `objects` from the subject's memberships? Only for a
   * closed relation, and for a flat one (no userset subjects, so one posting read per object
   * decides it) only when there are many objects: computing the memberships costs more than a
   * few reads.
   */
  #useClosure(type: string, relation: string, objects: IdSet): boolean {
    if (!this.#options.index.isClosed(type, relation)) return false;
    if (objects.size > FEW_OBJECTS) return true;
    const allowedSubjects = this.#schema.definitions.get(type)?.relations.get(relation)?.allowedSubjects ?? [];
    return allowedSubjects.some((allowed) => allowed.relation !== undefined);
  }

  /** #anyHolds: does `relation` hold on some object of `objects` (of `type`)? One intersection when closed. */
  #anyHolds(type: string, relation: string, objects: IdSet, depth: number, exhaustive: boolean): boolean {
    const { index } = this.#options;
    if (this.#useClosure(type, relation, objects)) {
      return this.#membershipsOf(type, relation)?.intersects(objects) ?? false;
    }
    let allowed = false;
    for (const number of objects.values()) {
      if (this.#dispatch(type, index.idOf(type, number), relation, depth)) {
        allowed = true;
        if (!exhaustive) return true;
      }
    }
    return allowed;
  }

  /** #allHold: does `relation` hold on every object of `objects` (of `type`)? */
  #allHold(type: string, relation: string, objects: IdSet, depth: number, exhaustive: boolean): boolean {
    const { index } = this.#options;
    if (this.#useClosure(type, relation, objects)) {
      const members = this.#membershipsOf(type, relation);
      for (const number of objects.values()) if (members?.has(number) !== true) return false;
      return true;
    }
    let allowed = true;
    for (const number of objects.values()) {
      if (!this.#dispatch(type, index.idOf(type, number), relation, depth)) {
        allowed = false;
        if (!exhaustive) return false;
      }
    }
    return allowed;
  }

  #membershipsOf(type: string, relation: string): IdSet | undefined {
    this.#subjectMemberships ??= this.#memberships.of(this.#options.index, this.#subject);
    return this.#subjectMemberships.get(`${type}#${relation}`);
  }

  #checkExpression(type: string, id: string, expression: PermissionExpression, depth: number, exhaustive: boolean): boolean {
    switch (expression.kind) {
      case "union": {
        let allowed = false;
        for (const child of expression.children) {
          if (this.#checkExpression(type, id, child, depth, exhaustive)) {
            allowed = true;
            if (!exhaustive) return true;
          }
        }
        return allowed;
      }
      case "intersection": {
        let allowed = true;
        for (const child of expression.children) {
          if (!this.#checkExpression(type, id, child, depth, exhaustive)) {
            allowed = false;
            if (!exhaustive) return false;
          }
        }
        return allowed;
      }
      case "exclusion": {
        const { base, subtracts } = exclusionChain(expression);
        let allowed = this.#checkExpression(type, id, base, depth, exhaustive);
        if (!allowed && !exhaustive) return false;
        for (const subtract of subtracts) {
          this.#subtractions += 1;
          const excluded = this.#checkExpression(type, id, subtract, depth, exhaustive);
          this.#subtractions -= 1;
          if (excluded) {
            allowed = false;
            if (!exhaustive) return false;
          }
        }
        return allowed;
      }
      case "computed":
        return this.#dispatch(type, id, expression.name, depth);
      case "arrow":
        return this.#checkArrow(type, id, expression.tupleset, expression.target, expression.mode, depth, exhaustive);
      case "nil":
        return false;
      default:
        return assertNever(expression, "permission expression");
    }
  }

  /**
   * #checkArrow: a userset subject of the tupleset counts as its object; wildcards name no object.
   * `.any()` skips subject types lacking the target; `.all()` fails on them, and on no subjects.
   */
  #checkArrow(type: string, id: string, tupleset: string, target: string, mode: "any" | "all", depth: number, exhaustive: boolean): boolean {
    const posting = this.#posting(type, id, tupleset);
    if (posting === undefined) return false;
    let allowed = mode === "all";
    let subjects = 0;
    for (const [groupKey, objects] of posting.groups) {
      if (objects.size === 0) continue;
      subjects += objects.size;
      const subjectType = groupKeyType(groupKey);
      const hasTarget = findRelationOrPermission(this.#schema, subjectType, target) !== undefined;
      if (mode === "any") {
        if (hasTarget && this.#anyHolds(subjectType, target, objects, depth + 1, exhaustive)) {
          allowed = true;
          if (!exhaustive) return true;
        }
      } else if (!hasTarget || !this.#allHold(subjectType, target, objects, depth + 1, exhaustive)) {
        allowed = false;
        if (!exhaustive) return false;
      }
    }
    return subjects > 0 && allowed;
  }
}
