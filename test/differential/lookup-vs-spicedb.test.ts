import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/index.ts";
import type { LookupResult, LookupSubjectsResult } from "../../src/engine/index.ts";
import { startGraphIndexFollower } from "../../src/graph/index.ts";
import { compileSchema } from "../../src/schema/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import { formatRelationship, WILDCARD_ID } from "../../src/tuple/index.ts";
import type { Relationship, SubjectRef } from "../../src/tuple/index.ts";
import { describeError } from "./check-system.ts";
import { collect, describeRequest, impliedSubjectAnswers, resourceCandidates, subjectCandidates } from "./lookup-judge.ts";
import type { DrawnLookup } from "./lookup-judge.ts";
import { drawRequest } from "./lookup-scenario.ts";
import { randomIdSpace, randomRelationships } from "./random-relationships.ts";
import { formatSchema, randomSchema } from "./random-schema.ts";
import { SeededRandom } from "./seeded-random.ts";
import { SpiceDBOracle } from "./spicedb-oracle.ts";
import type { FoundSubject } from "./spicedb-oracle.ts";

// Differential tests of lookups against the real SpiceDB: the foundation suite's random schemas
// and relationships (no caveats: SpiceDB evaluates caveats, Mandate does not yet), LookupResources
// and LookupSubjects by Mandate with and without a graph index, compared per candidate object
// with SpiceDB's streams normalised to an answer per id. Where they differ, SpiceDB's own Check
// decides: if it sides with Mandate, SpiceDB's lookup contradicts its Check (counted, printed,
// not a failure); otherwise Mandate is wrong. A SpiceDB error (max depth on cyclic data) is no
// reference answer. Replay with LOOKUP_SPICEDB_SEED=<seed>; LOOKUP_SPICEDB_SCHEMAS and
// LOOKUP_SPICEDB_LOOKUPS change its size.

const SEED = Number(process.env.LOOKUP_SPICEDB_SEED ?? 20261128);
const SCHEMAS = Number(process.env.LOOKUP_SPICEDB_SCHEMAS ?? 40);
const LOOKUPS = Number(process.env.LOOKUP_SPICEDB_LOOKUPS ?? 8);
const PRINTED = 5;

interface Report {
  schemas: number;
  rejected: string[];
  readonly lookups: Map<string, number>;
  candidates: number;
  readonly answers: Map<string, number>;
  readonly skipped: Map<string, number>;
  /** spicedbDuplicates: LookupSubjects or LookupResources streams that named an object twice. */
  spicedbDuplicates: number;
  /** spicedbConditional: objects SpiceDB called CONDITIONAL on a caveat-free schema (there should be none). */
  spicedbConditional: number;
  readonly spicedbSelfContradictions: string[];
  readonly differences: string[];
}

const count = (map: Map<string, number>, key: string, n = 1): void => {
  map.set(key, (map.get(key) ?? 0) + n);
};

describe("lookups agree with SpiceDB's", () => {
  let spicedb: SpiceDBOracle;

  beforeAll(async () => {
    spicedb = await SpiceDBOracle.start();
  });

  afterAll(async () => {
    await spicedb?.close();
  });

  it(`on ${SCHEMAS} random schemas, ${LOOKUPS} lookups each, with and without a graph index`, async () => {
    const report: Report = {
      schemas: 0,
      rejected: [],
      lookups: new Map(),
      candidates: 0,
      answers: new Map(),
      skipped: new Map(),
      spicedbDuplicates: 0,
      spicedbConditional: 0,
      spicedbSelfContradictions: [],
      differences: [],
    };
    const master = new SeededRandom(SEED);
    for (let i = 0; i < SCHEMAS && report.differences.length < PRINTED; i++) {
      await compareSchema(Math.floor(master.next() * 2 ** 32), spicedb, report);
    }
    const list = (map: ReadonlyMap<string, number>): string => [...map].map(([key, n]) => `${n} ${key}`).join(", ");
    console.log(
      [
        `lookups against SpiceDB, seed ${SEED} (replay with LOOKUP_SPICEDB_SEED=${SEED}): ${report.schemas} schemas, rejected by SpiceDB: ${report.rejected.length}`,
        ...report.rejected.map((r) => `    ${r}`),
        `  lookups compared: ${list(report.lookups)}`,
        `  candidates compared: ${report.candidates} (${list(report.answers)})`,
        `  skipped (no reference answer): ${list(report.skipped) || "none"}; SpiceDB timeouts: ${spicedb.timeouts}`,
        `  SpiceDB streams naming an object twice: ${report.spicedbDuplicates}; CONDITIONAL without caveats: ${report.spicedbConditional}`,
        `  SpiceDB lookups contradicting SpiceDB's Check (Mandate sided with Check): ${report.spicedbSelfContradictions.length}`,
        ...report.spicedbSelfContradictions.slice(0, 5).map((d) => `    ${d}`),
        `  differences: ${report.differences.length}`,
      ].join("\n"),
    );
    if (report.differences.length > 0) console.log(report.differences.slice(0, PRINTED).join("\n\n"));
    expect(report.differences.map((d) => d.split("\n").slice(0, 3).join(" | "))).toEqual([]);
    expect(report.rejected.length).toBeLessThanOrEqual(Math.ceil(SCHEMAS / 50));
    expect(report.spicedbConditional).toBe(0);
    // Nearly every lookup was compared, and both answers occur.
    const compared = [...report.lookups.values()].reduce((a, b) => a + b, 0);
    const skipped = [...report.skipped.values()].reduce((a, b) => a + b, 0);
    expect(skipped).toBeLessThanOrEqual(compared / 5);
    expect(report.answers.get("allowed") ?? 0).toBeGreaterThan(50);
    expect(report.answers.get("denied") ?? 0).toBeGreaterThan(50);
  }, 300_000);
});

/** compareSchema loads one seed's schema and relationships into SpiceDB and Mandate, and compares its lookups. */
async function compareSchema(seed: number, spicedb: SpiceDBOracle, report: Report): Promise<void> {
  const random = new SeededRandom(seed);
  const spec = randomSchema(random.fork());
  const ids = randomIdSpace(spec, random.fork());
  const relationships = randomRelationships(spec, ids, random.fork());
  const schemaText = formatSchema(spec);
  const load = await spicedb.load(schemaText, relationships);
  if (load.kind === "rejected") {
    report.rejected.push(`seed ${seed}: ${load.message}`);
    return;
  }
  report.schemas += 1;
  const schema = compileSchema(schemaText, "lookup-spicedb.zed");
  const store = new MemoryStore();
  await store.writeSchema(schemaText, async () => {});
  const revision = relationships.length === 0 ? await store.headRevision() : await store.write(relationships.map((relationship) => ({ operation: "touch" as const, relationship })));
  const follower = await startGraphIndexFollower(store);
  try {
    if (!(await follower.waitFor(revision, 5_000))) throw new Error(`seed ${seed}: the index did not reach revision ${revision}`);
    const reader = store.snapshot(revision);
    const engines: Array<[string, Engine]> = [
      ["plain", new Engine()],
      ["indexed", new Engine({}, { follower })],
    ];
    const lookupRandom = random.fork();
    for (let i = 0; i < LOOKUPS; i++) {
      const drawn = withoutContext(drawRequest(schema, ids, relationships, lookupRandom));
      const reference = await spicedbAnswers(spicedb, drawn, report);
      if (reference.kind === "error") {
        count(report.skipped, reference.message.replace(/^Error: \d+ /, "").slice(0, 50));
        continue;
      }
      for (const [label, engine] of engines) {
        await compareLookup(seed, label, engine, reader, schema, drawn, ids, relationships, reference.answer, spicedb, report, schemaText);
      }
    }
  } finally {
    await follower.stop();
    await store.close();
  }
}

// The schemas have no caveats; a context would only be ignored, so drop it.
function withoutContext(drawn: DrawnLookup): DrawnLookup {
  return drawn.kind === "resources" ? { kind: "resources", request: { ...drawn.request, context: undefined } } : { kind: "subjects", request: { ...drawn.request, context: undefined } };
}

type Answers = { readonly kind: "answer"; readonly answer: (id: string) => "allowed" | "denied"; readonly named: readonly string[] } | { readonly kind: "error"; readonly message: string };

/**
 * spicedbAnswers asks SpiceDB the lookup and normalises its stream into an answer per id:
 * LookupResources' objects are allowed (each once, whatever the stream repeats); for
 * LookupSubjects, a listed concrete subject is allowed, any other id is allowed when some `*`
 * response does not exclude it, and denied otherwise.
 */
async function spicedbAnswers(spicedb: SpiceDBOracle, drawn: DrawnLookup, report: Report): Promise<Answers> {
  if (drawn.kind === "resources") {
    const outcome = await spicedb.lookupResources(drawn.request);
    if (outcome.kind === "error") return outcome;
    const ids = outcome.results.map((r) => r.id);
    if (new Set(ids).size !== ids.length) report.spicedbDuplicates += 1;
    report.spicedbConditional += outcome.results.filter((r) => r.conditional).length;
    const allowed = new Set(ids);
    return { kind: "answer", answer: (id) => (allowed.has(id) ? "allowed" : "denied"), named: [...allowed] };
  }
  const outcome = await spicedb.lookupSubjects(drawn.request);
  if (outcome.kind === "error") return outcome;
  const results: readonly FoundSubject[] = outcome.results;
  const concrete = results.filter((r) => r.id !== WILDCARD_ID).map((r) => r.id);
  if (new Set(concrete).size !== concrete.length) report.spicedbDuplicates += 1;
  report.spicedbConditional += results.filter((r) => r.conditional || r.excluded.some((x) => x.conditional)).length;
  const listed = new Set(concrete);
  const wildcards = results.filter((r) => r.id === WILDCARD_ID).map((r) => new Set(r.excluded.map((x) => x.id)));
  return {
    kind: "answer",
    answer: (id) => (listed.has(id) || wildcards.some((excluded) => !excluded.has(id)) ? "allowed" : "denied"),
    named: [...listed, ...results.flatMap((r) => r.excluded.map((x) => x.id))],
  };
}

async function compareLookup(
  seed: number,
  label: string,
  engine: Engine,
  reader: RelationshipReader,
  schema: ReturnType<typeof compileSchema>,
  drawn: DrawnLookup,
  ids: ReturnType<typeof randomIdSpace>,
  relationships: readonly Relationship[],
  reference: (id: string) => "allowed" | "denied",
  spicedb: SpiceDBOracle,
  report: Report,
  schemaText: string,
): Promise<void> {
  let mandate: (id: string) => string;
  let candidates: Set<string>;
  const outcome =
    drawn.kind === "resources"
      ? await collect<LookupResult>(() => engine.lookupResources(reader, schema, drawn.request))
      : await collect<LookupSubjectsResult>(() => engine.lookupSubjects(reader, schema, drawn.request));
  const header = `schema seed ${seed} (replay with LOOKUP_SPICEDB_SEED=${SEED}), engine ${label}: ${describeRequest(drawn)}`;
  const reproduction = `schema:\n${schemaText}relationships:\n${relationships.map(formatRelationship).join("\n")}`;
  if (outcome.kind === "error") {
    report.differences.push(`${header}\n  - SpiceDB answered, Mandate failed: ${describeError(outcome.error)}\n${reproduction}`);
    return;
  }
  if (drawn.kind === "resources") {
    const found = new Map(outcome.results.map((r) => [r.id, r.permissionship]));
    mandate = (id) => found.get(id) ?? "denied";
    candidates = resourceCandidates(ids, relationships, drawn.request);
  } else {
    mandate = impliedSubjectAnswers(outcome.results as readonly LookupSubjectsResult[]);
    candidates = subjectCandidates(ids, relationships, drawn.request);
    for (const result of outcome.results as readonly LookupSubjectsResult[]) for (const id of result.excludedIds ?? []) candidates.add(id);
  }
  for (const result of outcome.results) if (result.id !== WILDCARD_ID) candidates.add(result.id);
  count(report.lookups, `${drawn.kind}/${label}`);
  const problems: string[] = [];
  for (const id of candidates) {
    const expected = reference(id);
    const actual = mandate(id);
    report.candidates += 1;
    count(report.answers, expected);
    if (actual === expected) continue;
    // SpiceDB's Check decides between its lookup and Mandate's.
    const check = await spicedb.check(checkOf(drawn, id));
    if (check.kind === "error") {
      count(report.skipped, "SpiceDB lookup and Mandate differ, SpiceDB's Check fails");
    } else if (check.answer === actual) {
      report.spicedbSelfContradictions.push(`${header}: ${id} is ${expected} by SpiceDB's lookup, ${actual} by its Check and by Mandate`);
    } else {
      problems.push(`${id}: SpiceDB's lookup and Check say ${expected}, Mandate's lookup ${actual}`);
    }
  }
  if (problems.length > 0) report.differences.push(`${header}\n${problems.map((p) => `  - ${p}`).join("\n")}\n${reproduction}`);
}

function checkOf(drawn: DrawnLookup, id: string): { resource: { type: string; id: string }; permission: string; subject: SubjectRef } {
  if (drawn.kind === "resources") return { resource: { type: drawn.request.resourceType, id }, permission: drawn.request.permission, subject: drawn.request.subject };
  const { resource, permission, subjectType, subjectRelation } = drawn.request;
  return { resource, permission, subject: { type: subjectType, id, relation: subjectRelation } };
}
