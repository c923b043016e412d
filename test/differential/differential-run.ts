// Runs seeded random cases on a reference system and a system under test, and collects differences.
import { formatObjectRef, formatSubjectRef } from "../../src/tuple/index.ts";
import type { Relationship } from "../../src/tuple/index.ts";
import type { CheckOutcome, CheckSystem, LoadOutcome } from "./check-system.ts";
import { FixpointEvaluator } from "./fixpoint-evaluator.ts";
import { randomChecks, randomIdSpace, randomRelationships } from "./random-relationships.ts";
import type { CheckCase } from "./random-relationships.ts";
import { formatSchema, randomSchema } from "./random-schema.ts";
import type { RandomSchemaOptions, SchemaSpec } from "./random-schema.ts";
import { SeededRandom } from "./seeded-random.ts";

/** ReproCase is everything needed to replay one check: schema, relationships, the check. */
export interface ReproCase {
  readonly schema: SchemaSpec;
  readonly relationships: readonly Relationship[];
  readonly check: CheckCase;
}

/**
 * DifferenceKind names how the system under test departed from the reference:
 * `mismatch` (both answered, differently), `subject-error` (the reference answered, the subject
 * threw), `schema-rejected` (the reference took the schema, the subject refused it),
 * `load-failed` (the subject refused relationships the reference stored), `fixpoint-mismatch`
 * (the reference could not answer, and the subject's answer or error differs from the
 * FixpointEvaluator's).
 */
export type DifferenceKind = "mismatch" | "subject-error" | "schema-rejected" | "load-failed" | "fixpoint-mismatch";

/** Verdict is the comparison of one check: agreement, no reference answer, or a difference. */
export type Verdict =
  | { readonly kind: "agree"; readonly answer: string }
  | { readonly kind: "no-reference"; readonly reason: string }
  | { readonly kind: "difference"; readonly difference: DifferenceKind; readonly reference: string; readonly subject: string };

/** Difference is one failing case as found, before minimization; `schemaSeed` replays its schema. */
export interface Difference {
  readonly schemaSeed: number;
  readonly repro: ReproCase;
  readonly verdict: Extract<Verdict, { kind: "difference" }>;
}

/** DifferentialReport counts what a run did; `differences` is empty when the systems agreed. */
export interface DifferentialReport {
  readonly seed: number;
  schemas: number;
  referenceRejections: string[];
  checks: number;
  agreed: number;
  /** agreedAnswers counts agreed checks by answer, to show that runs test more than "denied". */
  agreedAnswers: Map<string, number>;
  skipped: number;
  skipReasons: Map<string, number>;
  /** Checks without a reference answer that the subject answered as the FixpointEvaluator did. */
  agreedWithFixpoint: number;
  /** Checks where the FixpointEvaluator contradicted SpiceDB: a flaw of the evaluator, listed. */
  fixpointDisagreements: string[];
  wavered: number;
  /** differencesFound counts every difference; `differences` keeps the first `maxDifferences`. */
  differencesFound: number;
  readonly differences: Difference[];
}

/** DifferentialOptions: `confirm` re-asks the reference on a fresh instance before a mismatch counts. */
export interface DifferentialOptions {
  readonly seed: number;
  readonly schemas: number;
  readonly checksPerSchema: number;
  readonly reference: CheckSystem;
  readonly subject: CheckSystem;
  readonly confirm?: ((repro: ReproCase) => Promise<CheckOutcome[]>) | undefined;
  readonly schemaOptions?: RandomSchemaOptions | undefined;
  /** Judges checks the reference cannot answer (and is itself checked where it can). */
  readonly fixpoint?: boolean | undefined;
  /** Stop collecting differences after this many (the run still counts every check). */
  readonly maxDifferences?: number | undefined;
}

/**
 * runDifferential draws `schemas` schemas from `seed` (redrawing any the reference rejects, which
 * is counted), loads each with its relationships into both systems, and compares
 * `checksPerSchema` checks on each. A reference error skips the check; a reference answer that
 * differs on a fresh instance (`confirm`) is counted as `wavered` and skipped too.
 */
export async function runDifferential(options: DifferentialOptions): Promise<DifferentialReport> {
  const master = new SeededRandom(options.seed);
  const report: DifferentialReport = {
    seed: options.seed,
    schemas: 0,
    referenceRejections: [],
    checks: 0,
    agreed: 0,
    agreedAnswers: new Map(),
    skipped: 0,
    skipReasons: new Map(),
    agreedWithFixpoint: 0,
    fixpointDisagreements: [],
    wavered: 0,
    differencesFound: 0,
    differences: [],
  };
  const maxDifferences = options.maxDifferences ?? 20;
  while (report.schemas < options.schemas) {
    const schemaSeed = Math.floor(master.next() * 4294967296);
    const drawn = drawCase(schemaSeed, options.checksPerSchema, options.schemaOptions);
    const text = formatSchema(drawn.schema);
    const referenceLoad = await options.reference.load(text, drawn.relationships);
    if (referenceLoad.kind === "rejected") {
      report.referenceRejections.push(`schema seed ${schemaSeed}: ${referenceLoad.message}`);
      continue;
    }
    report.schemas++;
    const subjectLoad = await options.subject.load(text, drawn.relationships);
    const evaluator = options.fixpoint ? new FixpointEvaluator(drawn.schema, drawn.relationships) : undefined;
    for (const check of drawn.checks) {
      report.checks++;
      const repro: ReproCase = { schema: drawn.schema, relationships: drawn.relationships, check };
      let verdict: Verdict;
      if (subjectLoad.kind === "rejected") {
        verdict = loadVerdict(subjectLoad);
      } else {
        const reference = await options.reference.check(check);
        const subject = await options.subject.check(check);
        verdict = compare(reference, subject);
        const expected = evaluator?.check(check);
        if (expected !== undefined && reference.kind === "answer" && reference.answer !== expected && report.fixpointDisagreements.length < 10) {
          report.fixpointDisagreements.push(`${formatCheck(check)}: SpiceDB says ${reference.answer}, fixpoint says ${expected} (schema seed ${schemaSeed})`);
        }
        if (expected !== undefined && verdict.kind === "no-reference") {
          const fallback = compareWithFixpoint(expected, verdict.reason, subject);
          if (fallback.kind === "agree") report.agreedWithFixpoint++;
          else verdict = fallback;
        }
      }
      if (verdict.kind === "agree") {
        report.agreed++;
        report.agreedAnswers.set(verdict.answer, (report.agreedAnswers.get(verdict.answer) ?? 0) + 1);
      } else if (verdict.kind === "no-reference") {
        report.skipped++;
        report.skipReasons.set(verdict.reason, (report.skipReasons.get(verdict.reason) ?? 0) + 1);
      } else if (verdict.difference === "mismatch" && options.confirm && !(await confirmed(options.confirm, repro, verdict.reference))) {
        report.wavered++;
      } else {
        report.differencesFound++;
        if (report.differences.length < maxDifferences) report.differences.push({ schemaSeed, repro, verdict });
      }
      // A schema the subject refused fails once, not once per check.
      if (subjectLoad.kind === "rejected") break;
    }
  }
  return report;
}

/** drawCase replays one schema seed: the schema, its id space, relationships and checks. */
export function drawCase(schemaSeed: number, checks: number, schemaOptions: RandomSchemaOptions = {}): { schema: SchemaSpec; relationships: Relationship[]; checks: CheckCase[] } {
  const random = new SeededRandom(schemaSeed);
  const schema = randomSchema(random.fork(), schemaOptions);
  const ids = randomIdSpace(schema, random.fork());
  const relationships = randomRelationships(schema, ids, random.fork());
  return { schema, relationships, checks: randomChecks(schema, ids, relationships, random.fork(), checks) };
}

/**
 * judge loads `repro` into both systems and compares its one check: the verdict that minimization
 * must preserve. A reference that refuses the case gives `no-reference`; with `fixpoint`, a
 * reference error is judged by the FixpointEvaluator instead.
 */
export async function judge(repro: ReproCase, reference: CheckSystem, subject: CheckSystem, fixpoint = false): Promise<Verdict> {
  const text = formatSchema(repro.schema);
  const referenceLoad = await reference.load(text, repro.relationships);
  if (referenceLoad.kind === "rejected") return { kind: "no-reference", reason: "reference rejected the case" };
  const subjectLoad = await subject.load(text, repro.relationships);
  if (subjectLoad.kind === "rejected") return loadVerdict(subjectLoad);
  const subjectOutcome = await subject.check(repro.check);
  const verdict = compare(await reference.check(repro.check), subjectOutcome);
  if (!fixpoint || verdict.kind !== "no-reference") return verdict;
  return compareWithFixpoint(new FixpointEvaluator(repro.schema, repro.relationships).check(repro.check), verdict.reason, subjectOutcome);
}

/** formatCheck renders a check as `resource#permission@subject`. */
export function formatCheck(check: CheckCase): string {
  return `${formatObjectRef(check.resource)}#${check.permission}@${formatSubjectRef(check.subject)}`;
}

function compareWithFixpoint(expected: string, referenceError: string, subject: CheckOutcome): Verdict {
  const actual = subject.kind === "answer" ? subject.answer : subject.message;
  if (actual === expected) return { kind: "agree", answer: expected };
  return { kind: "difference", difference: "fixpoint-mismatch", reference: `${expected} (by fixpoint; SpiceDB: ${referenceError})`, subject: actual };
}

function loadVerdict(subjectLoad: Extract<LoadOutcome, { kind: "rejected" }>): Verdict {
  const difference = subjectLoad.message.startsWith("schema") ? "schema-rejected" : "load-failed";
  return { kind: "difference", difference, reference: "loaded", subject: subjectLoad.message };
}

function compare(reference: CheckOutcome, subject: CheckOutcome): Verdict {
  if (reference.kind === "error") return { kind: "no-reference", reason: summarizeError(reference.message) };
  if (subject.kind === "error") return { kind: "difference", difference: "subject-error", reference: reference.answer, subject: subject.message };
  if (reference.answer === subject.answer) return { kind: "agree", answer: reference.answer };
  return { kind: "difference", difference: "mismatch", reference: reference.answer, subject: subject.answer };
}

async function confirmed(confirm: (repro: ReproCase) => Promise<CheckOutcome[]>, repro: ReproCase, answer: string): Promise<boolean> {
  const outcomes = await confirm(repro);
  return outcomes.every((o) => o.kind === "answer" && o.answer === answer);
}

// Groups reference errors by their gist, e.g. "max depth exceeded", for the run's summary.
function summarizeError(message: string): string {
  const gist = message.match(/desc = ([^:]+)/)?.[1] ?? message;
  return gist.slice(0, 80);
}
