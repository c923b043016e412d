import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckOutcome } from "./check-system.ts";
import { drawCase, judge, runDifferential } from "./differential-run.ts";
import type { Difference, DifferentialReport, ReproCase } from "./differential-run.ts";
import { MandateSubject } from "./mandate-subject.ts";
import { formatReproduction, minimizeCase } from "./minimize.ts";
import { formatSchema } from "./random-schema.ts";
import { SpiceDBOracle } from "./spicedb-oracle.ts";

// Differential tests: seeded random schemas, relationships and checks, answered by Mandate and by
// the real SpiceDB; any difference fails, printed as a minimal playground reproduction.
// Replay a run with DIFF_SEED=<seed>; DIFF_SCHEMAS and DIFF_CHECKS change its size;
// DIFF_MISSING_ARROW_TARGETS=1 also draws arrows to names no subject type has (see random-schema.ts).

const SEED = Number(process.env.DIFF_SEED ?? 20261128);
const SCHEMAS = Number(process.env.DIFF_SCHEMAS ?? 120);
const CHECKS_PER_SCHEMA = Number(process.env.DIFF_CHECKS ?? 12);
const MISSING_ARROW_TARGETS = process.env.DIFF_MISSING_ARROW_TARGETS === "1";
// Differences beyond these are counted but not minimized, to keep a bad run short.
const MINIMIZED = 5;
const CONFIRMED = 30;

describe("differential tests against SpiceDB", () => {
  let spicedb: SpiceDBOracle;
  let mandate: MandateSubject;

  beforeAll(async () => {
    spicedb = await SpiceDBOracle.start();
    mandate = new MandateSubject();
  });

  afterAll(async () => {
    await mandate?.close();
    await spicedb?.close();
  });

  it("draws the same schema, relationships and checks for the same seed", () => {
    const first = drawCase(SEED, 5);
    const second = drawCase(SEED, 5);
    expect(formatSchema(second.schema)).toBe(formatSchema(first.schema));
    expect(second.relationships).toEqual(first.relationships);
    expect(second.checks).toEqual(first.checks);
  });

  it(`Mandate gives SpiceDB's answer to every check of ${SCHEMAS} random schemas`, async () => {
    let confirmations = 0;
    const report = await runDifferential({
      seed: SEED,
      schemas: SCHEMAS,
      checksPerSchema: CHECKS_PER_SCHEMA,
      reference: spicedb,
      subject: mandate,
      // A mismatch counts only if a fresh SpiceDB gives the same answer twice: on cyclic data its
      // answers can differ from run to run (DESIGN.md, notes on SpiceDB).
      confirm: async (repro) => (confirmations++ < CONFIRMED ? await askFreshSpiceDB(repro, 2) : []),
      fixpoint: true,
      schemaOptions: { missingArrowTargets: MISSING_ARROW_TARGETS },
    });
    console.log(summarize(report, spicedb.timeouts));

    const reproductions: string[] = [];
    for (const difference of report.differences.slice(0, MINIMIZED)) {
      reproductions.push(await reproduce(difference, spicedb, mandate));
    }
    if (reproductions.length > 0) console.log(reproductions.join("\n\n"));

    expect(report.differences.map((d) => `${d.verdict.difference} (schema seed ${d.schemaSeed})`)).toEqual([]);
    // The fixpoint evaluator judges the checks SpiceDB cannot answer; it must agree with SpiceDB
    // wherever SpiceDB answers, or its judgement is worthless.
    expect(report.fixpointDisagreements).toEqual([]);
    // SpiceDB refusing a generated schema is a generator bug; a few are tolerated, all are printed.
    expect(report.referenceRejections.length).toBeLessThanOrEqual(Math.ceil(SCHEMAS / 50));
    expect(report.schemas).toBe(SCHEMAS);
    expect(report.checks).toBe(SCHEMAS * CHECKS_PER_SCHEMA);
    // A reference that errs on most checks would compare nothing: demand that nearly every check
    // was actually compared, and that both answers occur.
    expect(report.agreed).toBeGreaterThanOrEqual(Math.floor(report.checks * 0.9));
    expect(report.agreedAnswers.get("allowed") ?? 0).toBeGreaterThan(0);
    expect(report.agreedAnswers.get("denied") ?? 0).toBeGreaterThan(0);
  }, 300_000);
});

async function askFreshSpiceDB(repro: ReproCase, times: number): Promise<CheckOutcome[]> {
  const fresh = await SpiceDBOracle.start();
  try {
    const load = await fresh.load(formatSchema(repro.schema), repro.relationships);
    if (load.kind === "rejected") return [{ kind: "error", message: load.message }];
    const outcomes: CheckOutcome[] = [];
    for (let i = 0; i < times; i++) outcomes.push(await fresh.check(repro.check));
    return outcomes;
  } finally {
    await fresh.close();
  }
}

// Minimizes one difference (keeping its kind and both answers) and prints it.
async function reproduce(difference: Difference, spicedb: SpiceDBOracle, mandate: MandateSubject): Promise<string> {
  const wanted = difference.verdict;
  const minimized = await minimizeCase(difference.repro, async (candidate) => {
    const verdict = await judge(candidate, spicedb, mandate, true);
    if (verdict.kind !== "difference") return false;
    // A difference on cyclic data may shrink into one SpiceDB can answer: a better reproduction.
    if (wanted.difference === "fixpoint-mismatch") return (verdict.difference === "fixpoint-mismatch" || verdict.difference === "mismatch") && verdict.subject === wanted.subject;
    if (verdict.difference !== wanted.difference) return false;
    return wanted.difference !== "mismatch" || (verdict.reference === wanted.reference && verdict.subject === wanted.subject);
  }, { keepCheck: wanted.difference !== "schema-rejected" });
  const final = await judge(minimized, spicedb, mandate, true);
  const verdict = final.kind === "difference" ? final : wanted;
  let header = `--- ${wanted.difference}, schema seed ${difference.schemaSeed}`;
  if (wanted.difference === "mismatch" || wanted.difference === "subject-error") {
    const fresh = await askFreshSpiceDB(minimized, 2);
    header += `; a fresh SpiceDB says: ${fresh.map((o) => (o.kind === "answer" ? o.answer : `error (${o.message})`)).join(", ")}`;
  }
  return [header, formatReproduction(minimized, verdict)].join("\n");
}

function summarize(report: DifferentialReport, timeouts: number): string {
  const reasons = [...report.skipReasons].map(([reason, count]) => `${count} x ${reason}`).join("; ");
  return [
    `differential seed ${report.seed} (replay with DIFF_SEED=${report.seed})`,
    `  schemas compared: ${report.schemas}, rejected by SpiceDB: ${report.referenceRejections.length}`,
    ...report.referenceRejections.map((r) => `    ${r}`),
    `  checks: ${report.checks}, agreed: ${report.agreed} (${[...report.agreedAnswers].map(([a, n]) => `${n} ${a}`).join(", ")}), differences: ${report.differencesFound}`,
    `  skipped (no reference answer): ${report.skipped}${reasons ? ` (${reasons})` : ""}, SpiceDB timeouts: ${timeouts}`,
    `  of those, answered by Mandate as the fixpoint evaluator does: ${report.agreedWithFixpoint}`,
    `  SpiceDB answers that did not hold on a fresh instance: ${report.wavered}`,
    ...report.fixpointDisagreements.map((d) => `  fixpoint evaluator contradicts SpiceDB: ${d}`),
  ].join("\n");
}
