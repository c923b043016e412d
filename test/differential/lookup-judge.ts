// Judges one lookup against Check: the answer a lookup implies for each candidate must be Check's.
import { compareLookupOrder, DepthExceededError, Engine } from "../../src/engine/index.ts";
import type { CheckRequest, LookupOptions, LookupResourcesRequest, LookupResult, LookupSubjectsRequest, LookupSubjectsResult } from "../../src/engine/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import { formatObjectRef, formatSubjectRef, WILDCARD_ID } from "../../src/tuple/index.ts";
import type { Relationship } from "../../src/tuple/index.ts";
import { describeError } from "./check-system.ts";
import type { IdSpace } from "./random-relationships.ts";

/** Verdict text of one object: `allowed`, `denied`, `conditional [a, b]`, or `error: <class>: <message>`. */
export type AnswerText = string;

/** answerText renders a lookup result or check answer for comparison; missing parameters count. */
export function answerText(result: { permissionship: string; missingParameters?: readonly string[] | undefined } | undefined): AnswerText {
  if (result === undefined) return "denied";
  const missing = result.missingParameters === undefined ? "" : ` [${[...result.missingParameters].sort().join(", ")}]`;
  return `${result.permissionship}${missing}`;
}

/**
 * ReferenceChecks answers single checks with the plain walk (depth 50), retried without a depth
 * limit when it runs out of depth (an engine on a graph index answers those through its closure).
 * Answers are memoized per reader, so that every engine's lookup is judged by the same checks.
 */
export class ReferenceChecks {
  readonly #plain = new Engine();
  readonly #unlimited = new Engine({ maxDepth: 100_000 });
  readonly #memo = new Map<string, Promise<AnswerText>>();

  answer(reader: RelationshipReader, schema: Schema, request: CheckRequest, readerKey: string): Promise<AnswerText> {
    const key = `${readerKey} ${formatObjectRef(request.resource)}#${request.permission}@${formatSubjectRef(request.subject)} ${JSON.stringify(request.context ?? null)}`;
    let answer = this.#memo.get(key);
    if (answer === undefined) {
      answer = this.#check(reader, schema, request);
      this.#memo.set(key, answer);
    }
    return answer;
  }

  async #check(reader: RelationshipReader, schema: Schema, request: CheckRequest): Promise<AnswerText> {
    try {
      return answerText(await this.#plain.check(reader, schema, request));
    } catch (error) {
      if (!(error instanceof DepthExceededError)) return `error: ${describeError(error)}`;
    }
    try {
      return answerText(await this.#unlimited.check(reader, schema, request));
    } catch (error) {
      return `error: ${describeError(error)}`;
    }
  }
}

/** LookupOutcome is what a lookup gave: its results in order, or the error it failed with. */
export type LookupOutcome<T> = { readonly kind: "results"; readonly results: readonly T[] } | { readonly kind: "error"; readonly error: unknown };

/** collect drains a lookup into a LookupOutcome. */
export async function collect<T>(lookup: () => AsyncIterable<T> | Promise<Iterable<T>>): Promise<LookupOutcome<T>> {
  const results: T[] = [];
  try {
    for await (const result of await lookup()) results.push(result);
    return { kind: "results", results };
  } catch (error) {
    return { kind: "error", error };
  }
}

/** Judgement counts what one lookup was judged on, and lists what was wrong with it. */
export interface Judgement {
  judged: number;
  /** unjudged: candidates whose reference check failed (a caveat needing evaluation, a dispatch limit). */
  unjudged: number;
  /** failedWithCheck: the lookup failed, and so did a reference check of some candidate (the expected failure). */
  failedWithCheck: boolean;
  readonly answers: Map<string, number>;
  readonly problems: string[];
}

function emptyJudgement(): Judgement {
  return { judged: 0, unjudged: 0, failedWithCheck: false, answers: new Map(), problems: [] };
}

/**
 * judgeResources compares a LookupResources outcome with the reference check of every candidate
 * id (plus every id the lookup returned): a returned id must carry Check's answer, and every
 * candidate Check does not deny must be returned. Also checks the result's shape: lookup order,
 * no duplicates, no DENIED result, missing parameters exactly on CONDITIONAL ones. A failed lookup
 * is right only when some candidate's check fails too (with an error of the same class).
 */
export async function judgeResources(
  outcome: LookupOutcome<LookupResult>,
  request: LookupResourcesRequest,
  candidates: Iterable<string>,
  reference: (request: CheckRequest) => Promise<AnswerText>,
): Promise<Judgement> {
  const judgement = emptyJudgement();
  const ids = new Set(candidates);
  if (outcome.kind === "results") for (const result of outcome.results) ids.add(result.id);
  const expected = new Map<string, AnswerText>();
  for (const id of ids) {
    expected.set(id, await reference({ resource: { type: request.resourceType, id }, permission: request.permission, subject: request.subject, context: request.context }));
  }
  if (outcome.kind === "error") return judgeFailure(judgement, outcome.error, expected);

  const got = new Map<string, AnswerText>();
  for (const result of outcome.results) {
    if (got.has(result.id)) judgement.problems.push(`returned ${result.id} twice`);
    got.set(result.id, answerText(result));
    judgement.problems.push(...shapeProblems(result));
  }
  judgement.problems.push(...orderProblems(outcome.results.map((r) => r.id)));
  compareAnswers(judgement, expected, (id) => got.get(id) ?? "denied");
  return judgement;
}

/**
 * impliedSubjectAnswers turns LookupSubjects results into an answer per id, as LookupSubjectsResult
 * defines them: a listed concrete subject has its own answer; an id the wildcard excludes is
 * DENIED; any other id has the wildcard's answer if there is one, else it is DENIED.
 */
export function impliedSubjectAnswers(results: readonly LookupSubjectsResult[]): (id: string) => AnswerText {
  const wildcard = results.find((r) => r.id === WILDCARD_ID);
  const excluded = new Set(wildcard?.excludedIds ?? []);
  const listed = new Map(results.filter((r) => r.id !== WILDCARD_ID).map((r) => [r.id, answerText(r)]));
  return (id) => listed.get(id) ?? (wildcard === undefined || excluded.has(id) ? "denied" : answerText(wildcard));
}

/**
 * judgeSubjects compares a LookupSubjects outcome with the reference check of every candidate
 * subject id (plus every id the lookup named): the answer the results imply for an id (see
 * impliedSubjectAnswers) must be Check's. Also checks the shape: `*` only first and only with
 * `excludedIds`, excluded ids not listed, concrete subjects listed only where they differ from the
 * wildcard, lookup order, no duplicates, no DENIED result, missing parameters only on CONDITIONAL.
 */
export async function judgeSubjects(
  outcome: LookupOutcome<LookupSubjectsResult>,
  request: LookupSubjectsRequest,
  candidates: Iterable<string>,
  reference: (request: CheckRequest) => Promise<AnswerText>,
): Promise<Judgement> {
  const judgement = emptyJudgement();
  const ids = new Set(candidates);
  if (outcome.kind === "results") {
    for (const result of outcome.results) {
      if (result.id !== WILDCARD_ID) ids.add(result.id);
      for (const id of result.excludedIds ?? []) ids.add(id);
    }
  }
  const expected = new Map<string, AnswerText>();
  for (const id of ids) {
    const subject = { type: request.subjectType, id, relation: request.subjectRelation };
    expected.set(id, await reference({ resource: request.resource, permission: request.permission, subject, context: request.context }));
  }
  if (outcome.kind === "error") return judgeFailure(judgement, outcome.error, expected);

  const { results } = outcome;
  const wildcard = results.find((r) => r.id === WILDCARD_ID);
  if (wildcard !== undefined) {
    if (results[0] !== wildcard) judgement.problems.push("the wildcard `*` is not the first result");
    if (results.filter((r) => r.id === WILDCARD_ID).length > 1) judgement.problems.push("the wildcard `*` is returned twice");
    if (wildcard.excludedIds === undefined) judgement.problems.push("the wildcard `*` has no excludedIds");
    const excluded = wildcard.excludedIds ?? [];
    if (new Set(excluded).size !== excluded.length) judgement.problems.push(`excludedIds repeat an id: ${excluded.join(", ")}`);
    if (excluded.includes(WILDCARD_ID)) judgement.problems.push("excludedIds contain `*`");
  }
  const concrete = results.filter((r) => r.id !== WILDCARD_ID);
  const seen = new Set<string>();
  for (const result of concrete) {
    if (seen.has(result.id)) judgement.problems.push(`returned ${result.id} twice`);
    seen.add(result.id);
    if (result.excludedIds !== undefined) judgement.problems.push(`concrete subject ${result.id} has excludedIds`);
    if (wildcard?.excludedIds?.includes(result.id) === true) judgement.problems.push(`${result.id} is both listed and excluded by the wildcard`);
    if (wildcard !== undefined && answerText(result) === answerText(wildcard)) {
      judgement.problems.push(`${result.id} is listed although its answer (${answerText(result)}) is the wildcard's`);
    }
  }
  for (const result of results) judgement.problems.push(...shapeProblems(result));
  judgement.problems.push(...orderProblems(concrete.map((r) => r.id)));
  compareAnswers(judgement, expected, impliedSubjectAnswers(results));
  return judgement;
}

function judgeFailure(judgement: Judgement, error: unknown, expected: ReadonlyMap<string, AnswerText>): Judgement {
  const errorClass = error instanceof Error ? error.name : "non-Error";
  const failing = [...expected.values()].filter((answer) => answer.startsWith("error: "));
  if (failing.some((answer) => answer.startsWith(`error: ${errorClass}:`))) {
    judgement.failedWithCheck = true;
    return judgement;
  }
  judgement.problems.push(
    `the lookup failed with ${describeError(error)}, ` +
      (failing.length === 0 ? "while every candidate's check answered" : `while the candidates' checks failed differently: ${failing[0]}`),
  );
  return judgement;
}

function compareAnswers(judgement: Judgement, expected: ReadonlyMap<string, AnswerText>, got: (id: string) => AnswerText): void {
  for (const [id, answer] of expected) {
    if (answer.startsWith("error: ")) {
      judgement.unjudged += 1;
      continue;
    }
    judgement.judged += 1;
    const kind = answer.split(" ")[0] ?? answer;
    judgement.answers.set(kind, (judgement.answers.get(kind) ?? 0) + 1);
    const actual = got(id);
    if (actual !== answer) judgement.problems.push(`${id}: the lookup implies ${actual}, Check answers ${answer}`);
  }
}

function shapeProblems(result: LookupResult): string[] {
  const problems: string[] = [];
  const missing = result.missingParameters;
  if (result.permissionship !== "allowed" && result.permissionship !== "conditional") problems.push(`${result.id} has permissionship ${String(result.permissionship)}`);
  if (result.permissionship === "conditional" && (missing === undefined || missing.length === 0)) problems.push(`${result.id} is conditional without missing parameters`);
  if (result.permissionship === "allowed" && missing !== undefined) problems.push(`${result.id} is allowed with missing parameters ${missing.join(", ")}`);
  return problems;
}

function orderProblems(ids: readonly string[]): string[] {
  for (let i = 1; i < ids.length; i++) {
    const before = ids[i - 1] ?? "";
    const after = ids[i] ?? "";
    if (compareLookupOrder(before, after) >= 0) return [`results are not in lookup order: ${before} before ${after}`];
  }
  return [];
}

/**
 * pagingProblems reads the lookup again in pages of `limit`, each resuming after the last id of
 * the previous one, and reports where the concatenation differs from the full result list.
 */
export async function pagingProblems<T extends LookupResult>(
  full: readonly T[],
  limit: number,
  lookup: (options: LookupOptions) => AsyncIterable<T> | Promise<Iterable<T>>,
): Promise<string[]> {
  const pages: T[] = [];
  let after: string | undefined;
  for (let page = 0; page <= full.length + 1; page++) {
    const outcome = await collect(() => lookup({ after, limit }));
    if (outcome.kind === "error") return [`page ${page} (after ${after ?? "nothing"}, limit ${limit}) failed: ${describeError(outcome.error)}`];
    if (outcome.results.length > limit) return [`page ${page} has ${outcome.results.length} results, over the limit ${limit}`];
    pages.push(...outcome.results);
    const last = outcome.results.at(-1);
    if (outcome.results.length < limit || last === undefined) break;
    after = last.id;
  }
  const text = (results: readonly T[]): string => results.map((r) => `${r.id}=${answerText(r)}${"excludedIds" in r && r.excludedIds !== undefined ? `-{${String(r.excludedIds)}}` : ""}`).join(" ");
  return text(pages) === text(full) ? [] : [`paging by ${limit} gives ${text(pages)}; unpaged: ${text(full)}`];
}

/** DrawnLookup is a LookupResources or LookupSubjects request as drawn. */
export type DrawnLookup = { readonly kind: "resources"; readonly request: LookupResourcesRequest } | { readonly kind: "subjects"; readonly request: LookupSubjectsRequest };

/** UNNAMED_ID is an id no relationship names: it answers as the wildcard does. */
export const UNNAMED_ID = "zz_unnamed";

/** resourceCandidates: every id of the type drawn or named in the data, an unnamed one, and the subject's own id if of the type. */
export function resourceCandidates(ids: IdSpace, relationships: readonly Relationship[], request: LookupResourcesRequest): Set<string> {
  const candidates = new Set([...(ids.get(request.resourceType) ?? []), UNNAMED_ID]);
  for (const r of relationships) {
    if (r.resource.type === request.resourceType) candidates.add(r.resource.id);
    if (r.subject.type === request.resourceType && r.subject.id !== WILDCARD_ID) candidates.add(r.subject.id);
  }
  if (request.subject.type === request.resourceType) candidates.add(request.subject.id);
  return candidates;
}

/** subjectCandidates: every id of the subject type drawn or named in the data, an unnamed one, and the resource's own id if of the type. */
export function subjectCandidates(ids: IdSpace, relationships: readonly Relationship[], request: LookupSubjectsRequest): Set<string> {
  const candidates = new Set([...(ids.get(request.subjectType) ?? []), UNNAMED_ID]);
  for (const r of relationships) {
    if (r.resource.type === request.subjectType) candidates.add(r.resource.id);
    if (r.subject.type === request.subjectType && r.subject.id !== WILDCARD_ID) candidates.add(r.subject.id);
  }
  if (request.resource.type === request.subjectType) candidates.add(request.resource.id);
  return candidates;
}

/** describeRequest renders a drawn lookup on one line. */
export function describeRequest(drawn: DrawnLookup): string {
  const context = drawn.request.context === undefined ? "" : ` with context ${JSON.stringify(drawn.request.context)}`;
  if (drawn.kind === "resources") {
    const { resourceType, permission, subject } = drawn.request;
    return `LookupResources ${resourceType}#${permission} for ${formatSubjectRef(subject)}${context}`;
  }
  const { resource, permission, subjectType, subjectRelation } = drawn.request;
  return `LookupSubjects ${formatObjectRef(resource)}#${permission} of ${subjectType}${subjectRelation === undefined ? "" : `#${subjectRelation}`}${context}`;
}

/** LookupJudgement is a judged lookup: its outcome, the judgement, and the candidates' source. */
export interface LookupJudgement extends Judgement {
  readonly outcome: LookupOutcome<LookupResult> | LookupOutcome<LookupSubjectsResult>;
}

/**
 * judgeLookup runs `drawn` on `engine` over `reader` and judges it against `reference` checks of
 * every candidate: the ids of `ids` for the type, those `relationships` name, and an unnamed one
 * (see resourceCandidates, subjectCandidates). `relationships` are read from the reader after the
 * lookup when not given, so that the lookup starts in the caller's tick.
 */
export async function judgeLookup(
  engine: Engine,
  reader: RelationshipReader,
  schema: Schema,
  drawn: DrawnLookup,
  ids: IdSpace,
  reference: (request: CheckRequest) => Promise<AnswerText>,
): Promise<LookupJudgement & { readonly relationships: Relationship[] }> {
  if (drawn.kind === "resources") {
    const request = drawn.request;
    const outcome = await collect(() => engine.lookupResources(reader, schema, request));
    const relationships = await reader.queryRelationships({});
    return { ...(await judgeResources(outcome, request, resourceCandidates(ids, relationships, request), reference)), outcome, relationships };
  }
  const request = drawn.request;
  const outcome = await collect(() => engine.lookupSubjects(reader, schema, request));
  const relationships = await reader.queryRelationships({});
  return { ...(await judgeSubjects(outcome, request, subjectCandidates(ids, relationships, request), reference)), outcome, relationships };
}
