import { describe, expect, it } from "vitest";
import type { CheckRequest } from "../../src/engine/index.ts";
import { compileSchema } from "../../src/schema/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import { WILDCARD_ID } from "../../src/tuple/index.ts";
import type { Relationship, SubjectRef } from "../../src/tuple/index.ts";
import { emptyReport, runScenario } from "./indexed-comparison.ts";
import type { ComparisonReport, ScenarioDriver } from "./indexed-comparison.ts";
import { formatSchema, randomSchema } from "./random-schema.ts";
import { randomChecks, randomIdSpace, randomRelationships } from "./random-relationships.ts";
import { SeededRandom } from "./seeded-random.ts";

// The engine on a graph index (fast path, with and without its cache) must give the plain walk's
// answers, errors included, on random schemas and data that change between rounds of checks.
// Replay with INDEXED_SEED=<seed>; INDEXED_SCENARIOS and INDEXED_ROUNDS change its size.

const SEED = Number(process.env.INDEXED_SEED ?? 20261128);
const SCENARIOS = Number(process.env.INDEXED_SCENARIOS ?? 40);
const ROUNDS = Number(process.env.INDEXED_ROUNDS ?? 4);
const CHECKS_PER_ROUND = 16;
// Small limits make the plain walk run out of depth often, which exercises the fallback on depth.
const DEPTHS = [3, 5, 50];

/** randomSchemaDriver: the differential suite's random schemas (no caveats), relationships and checks. */
function randomSchemaDriver(random: SeededRandom): ScenarioDriver {
  const spec = randomSchema(random.fork());
  const ids = randomIdSpace(spec, random.fork());
  return {
    schemaText: formatSchema(spec),
    maxDepth: random.pick(DEPTHS),
    initial: (r) => randomRelationships(spec, ids, r),
    candidates: (r) => randomRelationships(spec, ids, r),
    checks: (r, live, count) => randomChecks(spec, ids, live, r, count).map((check): CheckRequest => ({ ...check })),
  };
}

// Caveats (with and without their parameters in the relationship), expiring relationships,
// wildcards, nested and cyclic groups, recursive folders, arrows and exclusions.
const CAVEATED_SCHEMA = `use expiration

definition user {}

caveat only_if(flag bool, level int) {
  flag && level > 2
}

caveat other(x int) {
  x > 1
}

definition group {
  relation member: user | group#member
  relation admin: user
  permission is_admin = admin
}

definition folder {
  relation parent: folder
  relation owner: user
  relation viewer: user | group#member | user with only_if
  relation temp: user with expiration
  permission view = viewer + owner + parent->view + temp
}

definition doc {
  relation parent: folder | folder#owner | folder with other
  relation viewer: user | user:* | group#member | user with only_if | user with other
  relation editor: user | group#member | user with other
  relation banned: user | group#member | user with other
  permission view = viewer + parent->view - banned
  permission both = viewer & editor
  permission pall = parent.all(view)
  permission edit = editor - banned
}
`;

/** caveatedDriver draws relationships and checks for CAVEATED_SCHEMA from its compiled model. */
function caveatedDriver(random: SeededRandom): ScenarioDriver {
  const schema = compileSchema(CAVEATED_SCHEMA);
  const ids = new Map([...schema.definitions.keys()].map((type) => [type, [1, 2, 3, 4].map((n) => `${type.slice(0, 1)}${n}`)]));
  return {
    schemaText: CAVEATED_SCHEMA,
    maxDepth: random.pick(DEPTHS),
    initial: (r) => modelRelationships(schema, ids, r, r.int(8, 24)),
    candidates: (r) => modelRelationships(schema, ids, r, 8),
    checks: (r, live, count) => modelChecks(schema, ids, live, r, count),
  };
}

function modelRelationships(schema: Schema, ids: ReadonlyMap<string, readonly string[]>, random: SeededRandom, count: number): Relationship[] {
  const slots = [...schema.definitions.values()].flatMap((definition) =>
    [...definition.relations.values()].flatMap((relation) => relation.allowedSubjects.map((allowed) => ({ type: definition.name, relation: relation.name, allowed }))),
  );
  const relationships: Relationship[] = [];
  for (let i = 0; i < count; i++) {
    const slot = random.pick(slots);
    const resource = { type: slot.type, id: random.pick(ids.get(slot.type) ?? []) };
    const subject: SubjectRef = slot.allowed.wildcard
      ? { type: slot.allowed.type, id: WILDCARD_ID }
      : { type: slot.allowed.type, id: random.pick(ids.get(slot.allowed.type) ?? []), relation: slot.allowed.relation };
    if (subject.type === resource.type && subject.id === resource.id) continue;
    const caveatName = slot.allowed.caveat;
    relationships.push({
      resource,
      relation: slot.relation,
      subject,
      ...(caveatName === undefined ? {} : { caveat: { name: caveatName, context: randomContext(schema, caveatName, random) } }),
      ...(slot.allowed.expiration ? { expiresAt: new Date("2099-01-01T00:00:00Z") } : {}),
    });
  }
  return relationships;
}

/** randomContext gives a random subset of the caveat's parameters a value (the check's context may supply the rest). */
function randomContext(schema: Schema, caveatName: string, random: SeededRandom): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [name, type] of schema.caveats.get(caveatName)?.parameters ?? []) {
    if (random.chance(0.6)) continue;
    context[name] = type.kind === "bool" ? random.chance(0.5) : random.int(0, 5);
  }
  return context;
}

function modelChecks(schema: Schema, ids: ReadonlyMap<string, readonly string[]>, live: readonly Relationship[], random: SeededRandom, count: number): CheckRequest[] {
  const resources = [...schema.definitions.values()].filter((d) => d.relations.size + d.permissions.size > 0);
  const checks: CheckRequest[] = [];
  for (let i = 0; i < count; i++) {
    const anchor = live.length > 0 && random.chance(0.5) ? random.pick(live) : undefined;
    const definition = schema.definitions.get(anchor?.resource.type ?? "") ?? random.pick(resources);
    const resource = anchor?.resource ?? { type: definition.name, id: random.pick(ids.get(definition.name) ?? []) };
    const permission = random.pick([...definition.relations.keys(), ...definition.permissions.keys()]);
    let subject: SubjectRef = { type: "user", id: random.pick(ids.get("user") ?? []) };
    if (anchor !== undefined && anchor.subject.id !== WILDCARD_ID && random.chance(0.5)) subject = anchor.subject;
    else if (random.chance(0.15)) subject = { type: "group", id: random.pick(ids.get("group") ?? []), relation: "member" };
    const roll = random.next();
    // The last kind gives `x` a value of the wrong type: a caveat that needs it fails to evaluate,
    // which both paths must report alike.
    const context =
      roll < 0.6 ? undefined : roll < 0.75 ? { flag: true } : roll < 0.85 ? { x: 5 } : roll < 0.93 ? { flag: true, level: 1, x: 0 } : { x: "many" };
    checks.push({ resource, permission, subject, context });
  }
  return checks;
}

function summarize(title: string, report: ComparisonReport): string {
  const answers = [...report.byAnswer].map(([answer, n]) => `${answer} ${n}`).join(", ");
  const share = (part: number, whole: number): string => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;
  const { uncached, cached } = report.stats;
  const cachedTotal = cached.indexed + cached.hits + cached.fallbacks;
  return (
    `${title}: ${report.scenarios} scenarios (${report.skippedScenarios} skipped), ${report.checks} checks (plain walk: ${answers}).\n` +
    `  without cache, at the newest revision: ${uncached.indexed} from the index, ${uncached.fallbacks} fallbacks (${share(uncached.fallbacks, uncached.indexed + uncached.fallbacks)});\n` +
    `  with cache (older revisions and batches included): ${cached.hits} cache hits (${share(cached.hits, cachedTotal)}), ${cached.indexed} from the index, ` +
    `${cached.fallbacks} fallbacks (${share(cached.fallbacks, cachedTotal)});\n` +
    `  depth errors of the plain walk that the closure answered (counted per comparison): ${report.depthAnswered}; ` +
    `writes checked before the index caught up: ${report.aheadOfIndex}`
  );
}

describe("the engine on a graph index agrees with the plain walk", () => {
  it(`on ${SCENARIOS} random schemas, through ${ROUNDS} rounds of writes`, async () => {
    const report = emptyReport();
    const random = new SeededRandom(SEED);
    for (let i = 0; i < SCENARIOS; i++) {
      const seed = Math.floor(random.next() * 2 ** 32);
      const scenarioRandom = new SeededRandom(seed);
      await runScenario(seed, randomSchemaDriver(scenarioRandom), scenarioRandom, { rounds: ROUNDS, checksPerRound: CHECKS_PER_ROUND }, report);
      if (report.differences.length >= 3) break;
    }
    console.log(summarize(`random schemas, seed ${SEED}`, report));
    if (report.differences.length > 0) console.log(`INDEXED_SEED=${SEED}\n${report.differences.join("\n\n")}`);
    expect(report.differences.slice(0, 3).map((d) => d.split("\n")[0])).toEqual([]);
    expect(report.skippedScenarios).toBeLessThanOrEqual(Math.ceil(SCENARIOS / 20));
    // Both answers occur, and most checks took the fast path rather than the fallback.
    expect(report.byAnswer.get("allowed") ?? 0).toBeGreaterThan(0);
    expect(report.byAnswer.get("denied") ?? 0).toBeGreaterThan(0);
    expect(report.stats.uncached.indexed).toBeGreaterThan(report.stats.uncached.fallbacks);
    expect(report.aheadOfIndex).toBeGreaterThan(0);
  }, 120_000);

  it(`on a schema with caveats and expiring relationships, ${Math.ceil(SCENARIOS / 4)} scenarios`, async () => {
    const report = emptyReport();
    const random = new SeededRandom(SEED + 1);
    for (let i = 0; i < Math.ceil(SCENARIOS / 4); i++) {
      const seed = Math.floor(random.next() * 2 ** 32);
      const scenarioRandom = new SeededRandom(seed);
      await runScenario(seed, caveatedDriver(scenarioRandom), scenarioRandom, { rounds: ROUNDS, checksPerRound: CHECKS_PER_ROUND }, report);
      if (report.differences.length >= 3) break;
    }
    console.log(summarize(`caveated schema, seed ${SEED + 1}`, report));
    if (report.differences.length > 0) console.log(`INDEXED_SEED=${SEED}\n${report.differences.join("\n\n")}`);
    expect(report.differences.slice(0, 3).map((d) => d.split("\n")[0])).toEqual([]);
    expect(report.byAnswer.get("conditional") ?? 0).toBeGreaterThan(0);
    expect(report.byAnswer.get("error") ?? 0).toBeGreaterThan(0);
    expect(report.stats.uncached.indexed).toBeGreaterThan(0);
  }, 120_000);
});
