import { describe, expect, it } from "vitest";
import { emptyLookupReport, runLookupScenario } from "./lookup-scenario.ts";
import type { LookupReport } from "./lookup-scenario.ts";
import { SeededRandom } from "./seeded-random.ts";

// The heart of the lookup tests: on random schemas and data that change between rounds, every
// LookupResources and LookupSubjects, by the engine with a graph index and without one, at the
// newest revision and older ones, implies for each candidate exactly what Check answers.
// Replay a run with LOOKUP_SEED=<seed>; one scenario with LOOKUP_SCENARIO_SEED=<seed> plus the
// LOOKUP_CAVEATS=1, LOOKUP_FIXED=1 or LOOKUP_OBJECTS=<n> printed with it (only the first test
// runs then). LOOKUP_SCENARIOS, LOOKUP_ROUNDS and LOOKUP_PER_ROUND change the run's size.

const SEED = Number(process.env.LOOKUP_SEED ?? 20261128);
const SCENARIOS = Number(process.env.LOOKUP_SCENARIOS ?? 24);
const ROUNDS = Number(process.env.LOOKUP_ROUNDS ?? 3);
const PER_ROUND = Number(process.env.LOOKUP_PER_ROUND ?? 6);
const ONE_SCENARIO = process.env.LOOKUP_SCENARIO_SEED;
// Ids per type in the run over many objects (the other runs draw 3 to 6).
const OBJECTS = 40;
// Differences beyond these are counted but not printed, to keep a bad run readable.
const PRINTED = 5;

// Wildcards under exclusions (`*` with excludedIds), caveated and expiring wildcards, nested and
// cyclic groups, recursive folders, intersections, `.all()` and `nil`: the shapes a random schema
// draws seldom.
const WILDCARD_SCHEMA = `use expiration

definition user {}

caveat on_shift(day int, hour int) {
  day < 5 && hour > 8
}

caveat with_flag(flag bool, level int) {
  flag && level > 2
}

definition group {
  relation member: user | group#member | user with on_shift | user with expiration | group#member with expiration
  relation banned: user | group#member
  permission active = member - banned
}

definition folder {
  relation parent: folder | folder with expiration
  relation viewer: user | user:* | group#member | group#active | user with with_flag | user:* with on_shift
  relation blocked: user | group#member | user with on_shift
  permission view = viewer - blocked + parent->view
  permission view_all = parent.all(view)
}

definition doc {
  relation parent: folder | folder with with_flag
  relation viewer: user | user:* | group#member | user with on_shift | user:* with on_shift | user:* with expiration
  relation editor: user | group#member | user:* with with_flag
  relation banned: user | group#member | user with with_flag | user with expiration
  permission view = viewer + parent->view - banned
  permission edit = editor & view
  permission both = viewer & editor - banned
  permission none = nil
  permission all_parents = parent.all(view_all) + nil
}
`;

async function run(seed: number, scenarios: number, caveats: boolean, more: { fixedSchema?: string; objects?: number } = {}): Promise<LookupReport> {
  const report = emptyLookupReport();
  const options = { rounds: ROUNDS, lookupsPerRound: PER_ROUND, caveats, ...more };
  if (ONE_SCENARIO !== undefined) {
    await runLookupScenario(
      Number(ONE_SCENARIO),
      {
        ...options,
        caveats: caveats || process.env.LOOKUP_CAVEATS === "1",
        fixedSchema: process.env.LOOKUP_FIXED === "1" ? WILDCARD_SCHEMA : undefined,
        objects: process.env.LOOKUP_OBJECTS === undefined ? undefined : Number(process.env.LOOKUP_OBJECTS),
      },
      report,
    );
    return report;
  }
  const random = new SeededRandom(seed);
  for (let i = 0; i < scenarios; i++) {
    await runLookupScenario(Math.floor(random.next() * 2 ** 32), options, report);
    if (report.differences.length >= PRINTED) break;
  }
  return report;
}

function summarize(title: string, report: LookupReport): string {
  const list = (map: ReadonlyMap<string, number>): string => [...map].map(([key, n]) => `${n} ${key}`).join(", ");
  return [
    `${title}: ${report.scenarios} scenarios (${report.skippedScenarios} skipped)`,
    `  lookups: ${list(report.lookups)}`,
    `  candidates judged: ${report.judged} (Check: ${list(report.answers)}); unjudged (their check failed): ${report.unjudged}; lookups failing as a check did: ${report.failedWithCheck}`,
    `  LookupSubjects shapes: ${list(report.shapes)}`,
    `  decided on the graph index / from the store (candidates checked): ${[...report.sources]
      .map(([label, n]) => `${label} ${n.fromIndex}/${n.fromStore} (${n.checkedCandidates})`)
      .join(", ")}`,
    `  paged: ${report.paged}; at an older revision than the index: ${report.olderRevision}; before the index caught up: ${report.aheadOfIndex}`,
    `  differences: ${report.differences.length}`,
  ].join("\n");
}

function expectNoDifferences(report: LookupReport): void {
  if (report.differences.length > 0) console.log(`LOOKUP_SEED=${SEED}\n\n${report.differences.slice(0, PRINTED).join("\n\n")}`);
  expect(report.differences.map((d) => d.split("\n").slice(0, 3).join(" | "))).toEqual([]);
}

describe("every lookup answers as Check does for each candidate", () => {
  it(`on ${SCENARIOS} random schemas with wildcards, nil, arrows, .all() and cyclic data, through ${ROUNDS} rounds of writes`, async () => {
    const report = await run(SEED, SCENARIOS, false);
    console.log(summarize(`random schemas, seed ${SEED}`, report));
    expectNoDifferences(report);
    if (ONE_SCENARIO !== undefined) return;
    expect(report.skippedScenarios).toBe(0);
    // The run compares something: allowed and denied candidates, wildcards with exclusions,
    // lookups at older revisions than the index and ahead of it.
    expect(report.answers.get("allowed") ?? 0).toBeGreaterThan(100);
    expect(report.answers.get("denied") ?? 0).toBeGreaterThan(100);
    expect(report.shapes.get("wildcard allowed") ?? 0).toBeGreaterThan(0);
    expect(report.paged).toBeGreaterThan(10);
    expect(report.olderRevision).toBeGreaterThan(10);
    expect(report.aheadOfIndex).toBeGreaterThan(0);
    expect(report.unjudged).toBeLessThan(report.judged / 20);
    // The engines on an index decide lookups on it (not only by checks from the store), or this
    // suite would not test the set-at-a-time evaluation.
    expect(report.sources.get("indexed")?.fromIndex ?? 0).toBeGreaterThan(report.lookups.get("resources/indexed") ?? 0);
  }, 240_000);

  it.skipIf(ONE_SCENARIO !== undefined)(`on ${Math.ceil(SCENARIOS / 2)} random schemas with caveats and expiring relationships`, async () => {
    const report = await run(SEED + 1, Math.ceil(SCENARIOS / 2), true);
    console.log(summarize(`random caveated schemas, seed ${SEED + 1}`, report));
    expectNoDifferences(report);
    expect(report.skippedScenarios).toBe(0);
    expect(report.answers.get("conditional") ?? 0).toBeGreaterThan(10);
    expect(report.answers.get("allowed") ?? 0).toBeGreaterThan(50);
  }, 240_000);

  it.skipIf(ONE_SCENARIO !== undefined)(`on a schema of wildcards under exclusions, caveats and expiry, ${SCENARIOS} scenarios`, async () => {
    const report = await run(SEED + 2, SCENARIOS, true, { fixedSchema: WILDCARD_SCHEMA });
    console.log(summarize(`wildcard schema, seed ${SEED + 2}`, report));
    expectNoDifferences(report);
    expect(report.shapes.get("wildcard with exclusions") ?? 0).toBeGreaterThan(5);
    expect(report.shapes.get("wildcard conditional") ?? 0).toBeGreaterThan(0);
    expect(report.shapes.get("concrete subjects under a wildcard") ?? 0).toBeGreaterThan(0);
    expect(report.answers.get("conditional") ?? 0).toBeGreaterThan(10);
  }, 240_000);

  it.skipIf(ONE_SCENARIO !== undefined)(`on ${Math.ceil(SCENARIOS / 6)} random schemas over ${OBJECTS} objects per type`, async () => {
    const report = await run(SEED + 3, Math.ceil(SCENARIOS / 6), false, { objects: OBJECTS });
    console.log(summarize(`random schemas over ${OBJECTS} objects per type, seed ${SEED + 3}`, report));
    expectNoDifferences(report);
    expect(report.answers.get("allowed") ?? 0).toBeGreaterThan(200);
    expect(report.sources.get("indexed")?.fromIndex ?? 0).toBeGreaterThan(0);
  }, 240_000);
});
