import { AuthzError, InvalidArgumentError } from "../tuple/index.ts";
import type { Revision } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";
import type { GraphIndexView } from "../graph/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import type { CheckRequest, CheckResult } from "./engine-types.ts";
import { RequestAbortedError } from "./errors.ts";
import { FALL_BACK } from "./fall-back.ts";
import { sameSchema } from "./indexed-evaluator.ts";
import { probeId, resourceCandidates, subjectCandidates } from "./lookup-candidates.ts";
import { compareListed, idList, inLookupOrder } from "./lookup-order.ts";
import type { IdList } from "./lookup-order.ts";
import type { LookupCache } from "./lookup-cache.ts";
import type { LookupOptions, LookupResourcesRequest, LookupResult, LookupSubjectsRequest, LookupSubjectsResult } from "./lookup-types.ts";
import { resourceBounds } from "./resource-bounds.ts";
import { subjectBounds } from "./subject-bounds.ts";
import type { SubjectCandidates } from "./subject-bounds.ts";
import { validateLookupResourcesRequest, validateLookupSubjectsRequest } from "./validate-request.ts";

/**
 * LookupContext is what a lookup needs from the engine: the graph index (if any, as of now), the
 * horizon of a permission on that index, and checks of many requests at the reader's revision in one batch (an
 * error of any item fails the lookup with that error).
 */
export interface LookupContext {
  readonly index: GraphIndexView | undefined;
  /** maxDepth: the checks' depth bound, which the set evaluation keeps to as well (see FixpointOptions.maxHeight). */
  readonly maxDepth: number;
  /** horizon is the newest revision at which a stored relation that `type#permission` depends on changed, as `index` knows it (see FastPath.horizon). */
  horizon(index: GraphIndexView, type: string, permission: string): Revision;
  /** cache remembers what the index decided, across requests (undefined: none). */
  readonly cache: LookupCache | undefined;
  checkAll(requests: readonly CheckRequest[]): Promise<CheckResult[]>;
  /** count records where a lookup's candidates came from and how many needed a check. */
  count(source: "index" | "store", checked: number): void;
}

/**
 * Candidates split the objects a lookup may return: `allowed` are decided ALLOWED without a check,
 * `undecided` need one, `denied` are named by the data but decided DENIED (LookupSubjects lists them
 * as exclusions of the wildcard). Objects in none of them are DENIED.
 */
export interface Candidates {
  readonly allowed: IdList;
  readonly undecided: readonly string[];
  readonly denied: readonly string[];
}

/**
 * lookupResources finds the resources of request.resourceType on which request.subject has
 * request.permission at the reader's revision, and returns them as an iterable in lookup order (see
 * LookupOptions): everything is decided before it resolves, the order is computed as it is read.
 * The graph index decides most candidates set-at-a-time (see resourceBounds) when it can answer the
 * reader's revision; the rest, and every candidate when it cannot, are decided by checks.
 */
export async function lookupResources(
  reader: RelationshipReader,
  schema: Schema,
  request: LookupResourcesRequest,
  options: LookupOptions,
  context: LookupContext,
): Promise<Iterable<LookupResult>> {
  validateLookupResourcesRequest(schema, request);
  validateLimit(options.limit);
  const at = usableIndex(context, reader, schema, request.resourceType, request.permission);
  const { subject } = request;
  const key = JSON.stringify(["resources", request.resourceType, request.permission, subject.type, subject.id, subject.relation ?? null]);
  const fromIndex =
    at === undefined ? FALL_BACK : throughCache(context, at, schema, key, () => resourceBounds(at.index, schema, request, context.maxDepth));
  const found: Candidates =
    fromIndex === FALL_BACK ? { allowed: NONE, undecided: await resourceCandidates(reader, request.resourceType), denied: [] } : fromIndex;
  // A userset has every relation it names on its own object (and what that implies on the same
  // object), which need not be the resource of any relationship, nor known to the index when it
  // decided (or when the lookup cache remembered what it decided): a candidate in any case.
  const candidates = subject.type === request.resourceType && subject.relation !== undefined ? withCandidate(found, subject.id) : found;
  throwIfAborted(options.signal);
  context.count(fromIndex === FALL_BACK ? "store" : "index", candidates.undecided.length);
  const checks = await context.checkAll(
    candidates.undecided.map((id) => ({ resource: { type: request.resourceType, id }, permission: request.permission, subject: request.subject, context: request.context })),
  );
  throwIfAborted(options.signal);
  const checked: LookupResult[] = [];
  candidates.undecided.forEach((id, i) => {
    const found = toLookupResult(id, checks[i]);
    if (found !== undefined) checked.push(found);
  });
  return paged(mergedInLookupOrder(candidates.allowed, checked, options.after), options);
}

/**
 * lookupSubjects finds the subjects of request.subjectType that have request.permission on
 * request.resource at the reader's revision, returned as lookupResources returns resources: first
 * the wildcard `*` when a subject named by no relationship would not be DENIED (with its
 * exclusions), then, in lookup order, every subject whose answer differs from that (all subjects
 * not DENIED when there is no wildcard result).
 */
export async function lookupSubjects(
  reader: RelationshipReader,
  schema: Schema,
  request: LookupSubjectsRequest,
  options: LookupOptions,
  context: LookupContext,
): Promise<Iterable<LookupSubjectsResult>> {
  validateLookupSubjectsRequest(schema, request);
  validateLimit(options.limit);
  const { resource } = request;
  const at = usableIndex(context, reader, schema, resource.type, request.permission);
  const key = JSON.stringify(["subjects", resource.type, resource.id, request.permission, request.subjectType, request.subjectRelation ?? null]);
  const fromIndex =
    at === undefined ? FALL_BACK : throughCache(context, at, schema, key, () => subjectBounds(at.index, schema, request, context.maxDepth));
  let candidates: SubjectCandidates;
  let probe: string;
  if (fromIndex === FALL_BACK) {
    const named = await subjectCandidates(reader, request.subjectType);
    const namedSet = new Set(named);
    probe = probeId((id) => namedSet.has(id));
    candidates = { allowed: NONE, undecided: named, denied: [], probe: "undecided" };
  } else {
    probe = probeId((id) => at?.index.numberOf(request.subjectType, id) !== undefined);
    candidates = fromIndex;
  }
  // As in lookupResources: the resource itself, as the userset naming the relation.
  if (resource.type === request.subjectType && request.subjectRelation !== undefined) {
    candidates = { ...withCandidate(candidates, resource.id), probe: candidates.probe };
  }
  throwIfAborted(options.signal);
  const toCheck = candidates.probe === "undecided" ? [...candidates.undecided, probe] : candidates.undecided;
  context.count(fromIndex === FALL_BACK ? "store" : "index", toCheck.length);
  const checks = await context.checkAll(
    toCheck.map((id) => ({
      resource: request.resource,
      permission: request.permission,
      subject: { type: request.subjectType, id, relation: request.subjectRelation },
      context: request.context,
    })),
  );
  throwIfAborted(options.signal);

  const wildcard: LookupResult | undefined =
    candidates.probe === "allowed"
      ? { id: "*", permissionship: "allowed" }
      : candidates.probe === "denied"
        ? undefined
        : toLookupResult("*", checks[candidates.undecided.length]);
  const checked: LookupResult[] = [];
  const excludedIds = [...candidates.denied];
  candidates.undecided.forEach((id, i) => {
    const result = toLookupResult(id, checks[i]);
    if (result === undefined) excludedIds.push(id);
    else if (wildcard === undefined || !sameAnswer(result, wildcard)) checked.push(result);
  });
  // Subjects allowed anyway are not repeated under an allowed wildcard.
  const allowed = wildcard?.permissionship === "allowed" ? NONE : candidates.allowed;
  function* ordered(): Generator<LookupSubjectsResult> {
    if (wildcard !== undefined && options.after === undefined) yield { ...wildcard, excludedIds: excludedIds.sort() };
    yield* mergedInLookupOrder(allowed, checked, options.after === "*" ? undefined : options.after);
  }
  return paged(ordered(), options);
}

/** IndexAt is a graph index that answers a lookup, and the newest change to what the lookup depends on. */
interface IndexAt {
  readonly index: GraphIndexView;
  readonly horizon: Revision;
}

/**
 * usableIndex is the graph index if it answers the reader's revision for `type#permission`: it
 * follows the request's schema and is at that revision, or at a newer one where nothing the
 * permission depends on has changed since (its horizon, the newest such change, is not newer).
 */
function usableIndex(context: LookupContext, reader: RelationshipReader, schema: Schema, type: string, permission: string): IndexAt | undefined {
  const { index } = context;
  if (index === undefined || !sameSchema(index.schema, schema) || index.revision < reader.revision) return undefined;
  const horizon = context.horizon(index, type, permission);
  return index.revision === reader.revision || horizon <= reader.revision ? { index, horizon } : undefined;
}

/** throughCache is `compute()`, remembered across requests in the context's cache when it has one (see LookupCache). */
function throughCache<T extends Candidates>(context: LookupContext, at: IndexAt, schema: Schema, key: string, compute: () => T | typeof FALL_BACK): T | typeof FALL_BACK {
  return context.cache === undefined ? compute() : context.cache.through(key, at.index, schema.source, at.horizon, compute);
}

const NONE: IdList = idList([]);

/**
 * mergedInLookupOrder yields `allowed` (as ALLOWED results) and `checked` together, in lookup
 * order from `after`: two ordered streams merged, so that the first result costs no full sort.
 */
function* mergedInLookupOrder(allowed: IdList, checked: readonly LookupResult[], after: string | undefined): Generator<LookupResult> {
  const byCheck = idList(checked.map((result) => result.id));
  const left = inLookupOrder(allowed, after);
  const right = inLookupOrder(byCheck, after);
  let a = left.next();
  let b = right.next();
  while (!a.done || !b.done) {
    if (b.done || (!a.done && compareListed(allowed, a.value, byCheck, b.value) < 0)) {
      yield { id: allowed.idAt(a.value as number), permissionship: "allowed" };
      a = left.next();
    } else {
      yield checked[b.value] as LookupResult;
      b = right.next();
    }
  }
}

/** withCandidate: `candidates` with `id` undecided, unless it is already a candidate. */
function withCandidate(candidates: Candidates, id: string): Candidates {
  if (candidates.allowed.includes(id) || candidates.undecided.includes(id)) return candidates;
  return { allowed: candidates.allowed, undecided: [...candidates.undecided, id], denied: candidates.denied.filter((denied) => denied !== id) };
}

/** sameAnswer: equal permissionship, and equal missing parameters (sorted by the engine) when conditional. */
function sameAnswer(a: LookupResult, b: LookupResult): boolean {
  return a.permissionship === b.permissionship && (a.missingParameters ?? []).join(",") === (b.missingParameters ?? []).join(",");
}

function toLookupResult(id: string, check: CheckResult | undefined): LookupResult | undefined {
  if (check === undefined || check.permissionship === "denied") return undefined;
  if (check.permissionship === "allowed") return { id, permissionship: "allowed" };
  return { id, permissionship: "conditional", missingParameters: check.missingParameters };
}

/**
 * pagedInLookupOrder yields `results` (decided, in any order) in lookup order from options.after,
 * up to options.limit, as every lookup pages its results.
 */
export function pagedInLookupOrder(results: readonly LookupResult[], options: LookupOptions): Iterable<LookupResult> {
  return paged(mergedInLookupOrder(NONE, results, options.after), options);
}

/**
 * paged yields `results` up to options.limit, stopping (RequestAbortedError) once options.signal
 * aborts. A plain generator: a lookup's results cross no asynchronous boundary one by one (each
 * would cost ~0.5 µs and garbage; 100,000 results: ~40 ms a layer here).
 */
function* paged<T>(results: Iterable<T>, options: LookupOptions): Generator<T> {
  const limit = options.limit ?? Infinity;
  let sent = 0;
  for (const result of results) {
    if (sent >= limit) return;
    throwIfAborted(options.signal);
    yield result;
    sent++;
  }
}

/** validateLimit throws InvalidArgumentError (`limit`) unless `limit` is undefined or a positive safe integer. */
export function validateLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
    throw new InvalidArgumentError(`limit: must be a positive integer, got ${String(limit)}`, { field: "limit" });
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new RequestAbortedError("lookup", signal.reason);
}

/** resultsOrThrow rethrows the error of the first failed item of a batch; AuthzErrors only reach here. */
export function resultsOrThrow(answers: ReadonlyArray<{ result: CheckResult } | { error: AuthzError }>): CheckResult[] {
  return answers.map((answer) => {
    if ("error" in answer) throw answer.error;
    return answer.result;
  });
}
