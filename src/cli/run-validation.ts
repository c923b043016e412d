import { Engine } from "../engine/index.ts";
import type { CheckRequest, CheckResult, Permissionship } from "../engine/index.ts";
import { compileSchema, SchemaError, validateRelationship } from "../schema/index.ts";
import type { Schema } from "../schema/index.ts";
import { MemoryStore } from "../store/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { formatSubjectRef, formatObjectRef, relationshipKey, WILDCARD_ID } from "../tuple/index.ts";
import type { SubjectRef } from "../tuple/index.ts";
import { applyValidationGrants, ValidationBudgets } from "./apply-validation-grants.ts";
import { ValidationFileError } from "./validation-file.ts";
import type { AssertionKind, Diagnostic, ExpectedSubjects, SourcePosition, ValidationAssertion, ValidationFile } from "./validation-file.ts";

/** ValidationFailure is one assertion or `validation:` entry that does not hold, where it is written. */
export interface ValidationFailure {
  readonly position: SourcePosition;
  readonly message: string;
}

/**
 * ValidationReport is the outcome of running a validation file: `failures` in file order (empty
 * when everything holds) and how many assertions and `validation:` keys were run.
 */
export interface ValidationReport {
  readonly fileName: string;
  readonly failures: readonly ValidationFailure[];
  readonly assertionCount: number;
  readonly validationCount: number;
}

const EXPECTED: Record<AssertionKind, Permissionship> = {
  assertTrue: "allowed",
  assertFalse: "denied",
  assertCaveated: "conditional",
};

/**
 * runValidation compiles the file's schema, loads its relationships into a fresh MemoryStore and
 * checks every assertion and `validation:` key with the engine, as a server would, with no
 * network. Throws ValidationFileError (positions mapped into the files the user edits) when the
 * schema does not compile or a relationship does not fit it.
 *
 * A `validation:` key compares sets of subjects: the actual set is found by checking every
 * candidate subject (each object and userset named in the relationships or the expected list, and
 * each wildcard), so it agrees with Check by construction. An allowed wildcard `user:*` covers
 * every subject of type user (usersets included, as in Check): listing them is allowed, not
 * required, and those it does not reach must be listed as its exclusions
 * (`[user:* - {user:bob}]`). The `is <...>` explanations are not checked.
 *
 * Time: the run happens at the file's `at:`, else at `options.now`, else now; relationship
 * expirations and delegation edges are judged by that clock. Grants (`delegations:`) are applied
 * after the relationships, in order, each at its `granted_at` (default: the run's clock), so an
 * edge granted in the past may have expired by the time the assertions run. Budgets: each check
 * sees every budget as the file sets it (`used:`), whatever the other checks spent.
 */
export async function runValidation(file: ValidationFile, options: { readonly maxDepth?: number; readonly now?: Date } = {}): Promise<ValidationReport> {
  const schema = compileOrThrow(file);
  const at = file.at ?? options.now ?? new Date();
  let clock = at.getTime();
  const store = new MemoryStore({ now: () => clock });
  try {
    const budgets = new ValidationBudgets();
    const reader = await load(store, file, schema, at, (time) => (clock = time.getTime()), budgets);
    const engine = new Engine({ maxDepth: options.maxDepth ?? 50 }, { budgets });
    const check: CheckFunction = (request) => engine.check(reader, schema, request, { trace: false });

    const failures: ValidationFailure[] = [];
    for (const assertion of file.assertions) {
      const failure = await runAssertion(assertion, check);
      if (failure) failures.push(failure);
    }
    const candidates = candidateSubjects(file);
    for (const expected of file.validation) {
      failures.push(...(await runExpectedSubjects(expected, candidates, check)));
    }
    failures.sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);
    return { fileName: file.fileName, failures, assertionCount: file.assertions.length, validationCount: file.validation.length };
  } finally {
    await store.close();
  }
}

const UNSEEN_ID = "mandate-validation-unseen-subject";

type CheckFunction = (request: CheckRequest) => Promise<CheckResult>;

function compileOrThrow(file: ValidationFile): Schema {
  try {
    return compileSchema(file.schema.text, file.schema.fileName);
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    throw new ValidationFileError(
      error.diagnostics.map((d) => ({ ...file.schema.positionOf(d.line, d.column), message: d.message })),
    );
  }
}

async function load(
  store: MemoryStore,
  file: ValidationFile,
  schema: Schema,
  at: Date,
  setClock: (time: Date) => void,
  budgets: ValidationBudgets,
): Promise<RelationshipReader> {
  const diagnostics: Diagnostic[] = [];
  const seen = new Map<string, SourcePosition>();
  for (const { relationship, position } of file.relationships) {
    const key = relationshipKey(relationship);
    const first = seen.get(key);
    if (first) {
      diagnostics.push({ ...position, message: `duplicate relationship ${key} (first at line ${first.line})` });
      continue;
    }
    seen.set(key, position);
    // The same validation a server applies on write, so that a file never passes here with
    // data a server would refuse.
    try {
      validateRelationship(schema, relationship);
    } catch (error) {
      diagnostics.push({ ...position, message: `${key}: ${messageOf(error)}` });
    }
  }
  // The relationships are there from the first grant on (or the run's clock, if earlier).
  const firstGrantAt = file.delegations[0]?.grantedAt;
  setClock(firstGrantAt !== undefined && firstGrantAt < at ? firstGrantAt : at);
  await store.writeSchema(schema.source, async () => {});
  if (diagnostics.length === 0 && file.relationships.length > 0) {
    await store.write(file.relationships.map(({ relationship }) => ({ operation: "touch", relationship })));
  }
  // Grants are planned even when a relationship is refused: they do not read relationships, and
  // every problem of the file is reported at once.
  diagnostics.push(...(await applyValidationGrants(store, schema, file.delegations, at, setClock, budgets)));
  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ValidationFileError(diagnostics);
  }
  setClock(at);
  return store.snapshot(await store.headRevision());
}

async function runAssertion(assertion: ValidationAssertion, check: CheckFunction): Promise<ValidationFailure | undefined> {
  const expected = EXPECTED[assertion.kind];
  const { resource, permission, subject, context, onBehalfOf } = assertion;
  let found: CheckResult;
  try {
    found = await check({ resource, permission, subject, context, onBehalfOf });
  } catch (error) {
    return { position: assertion.position, message: `${assertion.kind} ${assertion.text}: the check failed: ${messageOf(error)}` };
  }
  if (found.permissionship === expected) return undefined;
  return {
    position: assertion.position,
    message: `${assertion.kind} ${assertion.text}: expected ${expected.toUpperCase()}, found ${describeResult(found)}`,
  };
}

/**
 * describeResult says what a check found, with why where it helps fix the file: the missing
 * context of a CONDITIONAL answer, and for a check on behalf of someone the delegation path
 * (`through agent:coder -> agent:planner -> user:ann`) or the reason it was DENIED.
 */
function describeResult(result: CheckResult): string {
  let text = result.permissionship.toUpperCase();
  const path = result.delegation?.path ?? [];
  if (result.permissionship !== "denied" && path.length > 0) {
    const names = [path[0]?.actor, ...path.map((hop) => hop.grantedBy)].filter((name) => name !== undefined).map(formatObjectRef);
    text += ` through ${names.join(" -> ")}`;
  }
  if (result.missingParameters !== undefined && result.missingParameters.length > 0) text += ` (missing context: ${result.missingParameters.join(", ")})`;
  if (result.delegation?.reason !== undefined) text += `: ${result.delegation.reason}`;
  return text;
}

// Every subject the file names: relationship subjects (objects, usersets, wildcards), resources
// as plain objects, the actors and principals of grants, and the subjects of the expected lists.
function candidateSubjects(file: ValidationFile): SubjectRef[] {
  const byKey = new Map<string, SubjectRef>();
  const add = (subject: SubjectRef) => byKey.set(formatSubjectRef(subject), subject);
  for (const { relationship } of file.relationships) {
    add(relationship.subject);
    add({ type: relationship.resource.type, id: relationship.resource.id });
  }
  for (const { request } of file.delegations) {
    add(request.actor);
    add(request.principal);
  }
  for (const expected of file.validation) {
    for (const entry of expected.subjects) {
      add(entry.subject);
      entry.excluded.forEach(add);
    }
  }
  return [...byKey.values()].sort((a, b) => formatSubjectRef(a).localeCompare(formatSubjectRef(b)));
}

interface ActualSubject {
  readonly subject: SubjectRef;
  readonly conditional: boolean;
  /** For an allowed wildcard: the other candidates of its type (objects and usersets) that are denied. */
  readonly excluded: readonly string[];
}

async function runExpectedSubjects(expected: ExpectedSubjects, candidates: readonly SubjectRef[], check: CheckFunction): Promise<ValidationFailure[]> {
  const self = `${formatObjectRef(expected.resource)}#${expected.permission}`;
  const results = new Map<string, Permissionship>();
  for (const subject of candidates) {
    const key = formatSubjectRef(subject);
    if (key === self) continue;
    // A wildcard cannot be checked; an id that appears nowhere in the data is reached only
    // through wildcards, so checking it answers for `type:*`.
    const checked = subject.id === WILDCARD_ID ? { type: subject.type, id: UNSEEN_ID } : subject;
    try {
      results.set(key, (await check({ resource: expected.resource, permission: expected.permission, subject: checked })).permissionship);
    } catch (error) {
      return [{ position: expected.position, message: `validation ${expected.key}: checking ${key} failed: ${messageOf(error)}` }];
    }
  }
  const actual = new Map<string, ActualSubject>();
  for (const subject of candidates) {
    const key = formatSubjectRef(subject);
    const result = results.get(key);
    if (result === undefined || result === "denied") continue;
    const excluded =
      subject.id === WILDCARD_ID
        ? candidates
            .filter((c) => c.type === subject.type && c.id !== WILDCARD_ID && results.get(formatSubjectRef(c)) === "denied")
            .map(formatSubjectRef)
        : [];
    actual.set(key, { subject, conditional: result === "conditional", excluded });
  }
  // As in Check, a wildcard stands for every subject of its type, usersets included.
  const coveredByWildcard = (subject: SubjectRef): boolean => subject.id !== WILDCARD_ID && actual.has(`${subject.type}:${WILDCARD_ID}`);

  const failures: ValidationFailure[] = [];
  const listed = new Set<string>();
  for (const entry of expected.subjects) {
    const key = formatSubjectRef(entry.subject);
    listed.add(key);
    const found = actual.get(key);
    const prefix = `validation ${expected.key}: ${entry.text}`;
    if (!found) {
      failures.push({ position: entry.position, message: `${prefix}: expected ${key} to have the permission, found it does not` });
      continue;
    }
    if (found.conditional !== entry.conditional) {
      const describe = (conditional: boolean) => (conditional ? "CONDITIONAL (marked [...])" : "ALLOWED");
      failures.push({ position: entry.position, message: `${prefix}: expected ${describe(entry.conditional)}, found ${describe(found.conditional)}` });
    }
    if (entry.subject.id === WILDCARD_ID) {
      const expectedExcluded = entry.excluded.map(formatSubjectRef).sort();
      if (expectedExcluded.join(",") !== [...found.excluded].sort().join(",")) {
        failures.push({
          position: entry.position,
          message: `${prefix}: expected exclusions {${expectedExcluded.join(", ")}}, found {${found.excluded.join(", ")}}`,
        });
      }
    }
  }
  const unlisted = [...actual.values()].filter((a) => !listed.has(formatSubjectRef(a.subject)) && !coveredByWildcard(a.subject));
  if (unlisted.length > 0) {
    const names = unlisted.map((a) => `${formatSubjectRef(a.subject)}${a.conditional ? "[...]" : ""}`).join(", ");
    failures.push({ position: expected.position, message: `validation ${expected.key}: found subjects that are not listed: ${names}` });
  }
  return failures;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
