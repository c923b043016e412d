// One random scenario of the lookup property test: a schema, data that changes round by round, and
// lookups by engines with and without a graph index, each judged against Check.
import { Engine } from "../../src/engine/index.ts";
import type { CheckRequest, LookupSubjectsResult } from "../../src/engine/index.ts";
import { buildGraphIndex, startGraphIndexFollower } from "../../src/graph/index.ts";
import { compileSchema } from "../../src/schema/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import { formatRelationship, relationshipKey, WILDCARD_ID } from "../../src/tuple/index.ts";
import type { Relationship, Revision, SubjectRef } from "../../src/tuple/index.ts";
import { writeRandomly } from "./indexed-comparison.ts";
import { describeRequest, judgeLookup, pagingProblems, ReferenceChecks, UNNAMED_ID } from "./lookup-judge.ts";
import type { DrawnLookup } from "./lookup-judge.ts";
import { formatShrunk, shrinkLookupCase } from "./lookup-shrink.ts";
import { decoratedSchemaText, EXPIRY_STEP_MS, isSpecial, modelRelationships, randomRequestContext } from "./random-caveats.ts";
import type { ExpiryClock } from "./random-caveats.ts";
import { randomIdSpace, randomRelationships } from "./random-relationships.ts";
import type { IdSpace } from "./random-relationships.ts";
import { formatSchema, randomSchema } from "./random-schema.ts";
import { SeededRandom } from "./seeded-random.ts";

/** LookupReport sums the lookups of one or more scenarios. */
export interface LookupReport {
  scenarios: number;
  skippedScenarios: number;
  /** lookups: judged lookups by kind and engine, e.g. `resources/indexed`. */
  readonly lookups: Map<string, number>;
  /** answers: judged candidates by Check's answer. */
  readonly answers: Map<string, number>;
  judged: number;
  unjudged: number;
  /** failedWithCheck: lookups that failed as a candidate's check did. */
  failedWithCheck: number;
  /** shapes: LookupSubjects outcomes seen, e.g. `wildcard allowed`, `wildcard with exclusions`, `concrete subjects under a wildcard`. */
  readonly shapes: Map<string, number>;
  paged: number;
  /** olderRevision: lookups by an engine whose index is newer than the reader. */
  olderRevision: number;
  /** aheadOfIndex: lookups at a revision the following index had not reached yet when they started. */
  aheadOfIndex: number;
  /** sources: by engine label, lookups decided on the graph index, from the store, and candidates checked (EngineStats.lookups). */
  readonly sources: Map<string, { fromIndex: number; fromStore: number; checkedCandidates: number }>;
  readonly differences: string[];
}

/** emptyLookupReport starts a report. */
export function emptyLookupReport(): LookupReport {
  return {
    scenarios: 0,
    skippedScenarios: 0,
    lookups: new Map(),
    answers: new Map(),
    judged: 0,
    unjudged: 0,
    failedWithCheck: 0,
    shapes: new Map(),
    paged: 0,
    olderRevision: 0,
    aheadOfIndex: 0,
    sources: new Map(),
    differences: [],
  };
}

/** LookupScenarioOptions: rounds of writes, lookups per round, and whether to add caveats and expiry. */
export interface LookupScenarioOptions {
  readonly rounds: number;
  readonly lookupsPerRound: number;
  readonly caveats: boolean;
  /** objects: ids per type of a random schema (default: 3 to 6, drawn), for sets over many objects. */
  readonly objects?: number | undefined;
  /** fixedSchema: use this schema instead of a random one (relationships are still random). */
  readonly fixedSchema?: string | undefined;
}

/** World is what a scenario draws from: a schema, its ids, and relationships for it. */
interface World {
  readonly schemaText: string;
  readonly ids: IdSpace;
  draw(schema: Schema, random: SeededRandom, count: number, clock: ExpiryClock): Relationship[];
}

/**
 * randomWorld: a random schema (decorated with caveats and expiry if asked) and its random
 * relationships, loops included. With `objects`, every type has that many ids and each draw
 * repeats randomRelationships a few times, so that sets span many objects.
 */
function randomWorld(random: SeededRandom, caveats: boolean, objects: number | undefined): World {
  const spec = randomSchema(random.fork());
  const drawnIds = randomIdSpace(spec, random.fork());
  const ids: IdSpace =
    objects === undefined ? drawnIds : new Map([...drawnIds.keys()].map((type) => [type, Array.from({ length: objects }, (_, i) => `${type.slice(0, 1)}${i + 1}`)]));
  const repeats = objects === undefined ? 1 : Math.ceil(objects / 4);
  return {
    schemaText: caveats ? decoratedSchemaText(spec, random.fork()) : formatSchema(spec),
    ids,
    draw: (schema, r, count, clock) => [
      ...Array.from({ length: repeats }, () => randomRelationships(spec, ids, r)).flat(),
      ...(caveats ? modelRelationships(schema, ids, r, count * repeats, clock, isSpecial) : []),
    ],
  };
}

/** fixedWorld: a given schema, four ids per definition, relationships of every subject type it allows. */
function fixedWorld(schemaText: string): World {
  const names = [...schemaText.matchAll(/^definition\s+(\w+)/gm)].map((m) => m[1] ?? "");
  const ids = new Map(names.map((type) => [type, [1, 2, 3, 4].map((n) => `${type.slice(0, 1)}${n}`)]));
  return { schemaText, ids, draw: (schema, r, count, clock) => modelRelationships(schema, ids, r, 8 + count * 3, clock) };
}

const CLOCK_START = Date.UTC(2030, 0, 1);
// Differences per report that may be shrunk (each costs up to a few hundred fresh lookups).
const SHRUNK = 3;

/**
 * runLookupScenario draws everything from `seed`: a random schema (decorated with caveats and
 * expiry when asked) or the given fixed one, relationships in a MemoryStore with a fake clock,
 * and a graph index following it. Each round writes and deletes (each write its own revision),
 * sometimes moves the clock past some expiries, and asks random LookupResources and
 * LookupSubjects of four engines: plain (no index), on the following index with its cache and
 * without, and on a fixed index rebuilt at the head in some rounds (as new as the reader, or
 * older); the cached and the fixed one again at an older revision (index newer than the reader),
 * and the cached one right after each write (index older than the reader). Every lookup is
 * judged against reference checks (judgeLookup); some are also read in pages. Problems go to
 * `report` with the seed, the lookup, the schema and the relationships, the first of a scenario
 * also shrunk (shrinkLookupCase).
 */
export async function runLookupScenario(seed: number, options: LookupScenarioOptions, report: LookupReport): Promise<void> {
  const random = new SeededRandom(seed);
  const world = options.fixedSchema === undefined ? randomWorld(random, options.caveats, options.objects) : fixedWorld(options.fixedSchema);
  let schema: Schema;
  try {
    schema = compileSchema(world.schemaText, "lookup.zed");
  } catch {
    report.skippedScenarios += 1;
    return;
  }
  const { schemaText, ids } = world;
  const clock: ExpiryClock = { now: CLOCK_START };
  const store = new MemoryStore({ now: () => clock.now });
  await store.writeSchema(schemaText, async () => {});
  // One relationship per key: a caveated or expiring draw replaces a plain one of the same key.
  const draw = (r: SeededRandom, count: number): Relationship[] => [
    ...new Map(world.draw(schema, r, count, clock).map((relationship) => [relationshipKey(relationship), relationship])).values(),
  ];
  const live = new Map<string, Relationship>();
  const initial = draw(random.fork(), random.int(2, 8));
  let revision = await store.headRevision();
  if (initial.length > 0) revision = await store.write(initial.map((relationship) => ({ operation: "touch" as const, relationship })));
  for (const relationship of initial) live.set(relationshipKey(relationship), relationship);
  const follower = await startGraphIndexFollower(store);
  report.scenarios += 1;

  const engines = {
    plain: new Engine(),
    indexed: new Engine({}, { follower }),
    uncached: new Engine({ cacheEntries: 0 }, { follower }),
    // An index that does not follow the store: rebuilt at the head now and then, so it is as new
    // as the reader, older (the engine must not use it), or newer (for older readers).
    fixed: new Engine({}, { index: await buildGraphIndex(store) }),
  };
  const reference = new ReferenceChecks();
  const revisions: Revision[] = [revision];
  // Readers are taken once per revision and clock reading, so that a lookup and its reference
  // checks see the same expiries.
  const readers = new Map<string, RelationshipReader>();
  const readerAt = (at: Revision): { reader: RelationshipReader; key: string } => {
    const key = `${at}@${clock.now}`;
    let reader = readers.get(key);
    if (reader === undefined) {
      reader = store.snapshot(at);
      readers.set(key, reader);
    }
    return { reader, key };
  };

  let shrunkOnce = false;
  const judge = async (label: string, engine: Engine, at: Revision, drawn: DrawnLookup, paging: boolean): Promise<void> => {
    const { reader, key } = readerAt(at);
    const check = (request: CheckRequest): Promise<string> => reference.answer(reader, schema, request, key);
    const before = engine.stats().lookups;
    // Nothing awaits between the caller's write and the lookup's choice of index (the lookup's
    // first step is synchronous), so right after a write the index may not have it yet.
    if (label.startsWith("indexed") && follower.index.revision < at) report.aheadOfIndex += 1;
    const judgement = await judgeLookup(engine, reader, schema, drawn, ids, check);
    const after = engine.stats().lookups;
    const source = report.sources.get(label) ?? { fromIndex: 0, fromStore: 0, checkedCandidates: 0 };
    source.fromIndex += after.fromIndex - before.fromIndex;
    source.fromStore += after.fromStore - before.fromStore;
    source.checkedCandidates += after.checkedCandidates - before.checkedCandidates;
    report.sources.set(label, source);
    const { outcome, relationships } = judgement;
    let pagingIssues: string[] = [];
    if (paging && outcome.kind === "results" && outcome.results.length > 1) {
      report.paged += 1;
      const limit = random.int(1, outcome.results.length - 1);
      pagingIssues =
        drawn.kind === "resources"
          ? await pagingProblems(outcome.results, limit, (o) => engine.lookupResources(reader, schema, drawn.request, o))
          : await pagingProblems(outcome.results as readonly LookupSubjectsResult[], limit, (o) => engine.lookupSubjects(reader, schema, drawn.request, o));
    }
    if (drawn.kind === "subjects" && outcome.kind === "results") countShapes(report, outcome.results as readonly LookupSubjectsResult[]);
    const kind = `${drawn.kind}/${label}`;
    report.lookups.set(kind, (report.lookups.get(kind) ?? 0) + 1);
    report.judged += judgement.judged;
    report.unjudged += judgement.unjudged;
    if (judgement.failedWithCheck) report.failedWithCheck += 1;
    for (const [answer, n] of judgement.answers) report.answers.set(answer, (report.answers.get(answer) ?? 0) + n);
    const problems = [...judgement.problems, ...pagingIssues];
    if (problems.length === 0) return;
    // The first difference of a scenario is shrunk to the fewest relationships that still show one.
    const shrink = report.differences.length < SHRUNK && !shrunkOnce;
    shrunkOnce ||= shrink;
    const shrunk = shrink ? await shrinkLookupCase(schemaText, schema, relationships, drawn, ids, clock.now) : undefined;
    report.differences.push(
      `scenario seed ${seed} (replay with LOOKUP_SCENARIO_SEED=${seed}${options.fixedSchema !== undefined ? " LOOKUP_FIXED=1" : options.caveats ? " LOOKUP_CAVEATS=1" : ""}${options.objects === undefined ? "" : ` LOOKUP_OBJECTS=${options.objects}`}), engine ${label}, ` +
        `revision ${at} of ${revisions.at(-1)} (index at ${follower.index.revision}), clock +${clock.now - CLOCK_START} ms:\n` +
        `  ${describeRequest(drawn)}\n${problems.slice(0, 8).map((p) => `  - ${p}`).join("\n")}\n` +
        `schema:\n${schemaText}relationships:\n${relationships.map(formatRelationship).join("\n")}` +
        (shrunk === undefined ? "" : `\n${formatShrunk(shrunk)}`),
    );
  };

  try {
    for (let round = 0; round <= options.rounds; round++) {
      if (round > 0) {
        if (random.chance(0.3)) clock.now += EXPIRY_STEP_MS;
        for (let writes = random.int(1, 3); writes > 0; writes--) {
          revision = await writeRandomly(store, random, draw(random.fork(), 4), live);
          revisions.push(revision);
          await judge("indexed, right after a write", engines.indexed, revision, drawRequest(schema, ids, [...live.values()], random), false);
        }
        if (!(await follower.waitFor(revision, 5_000))) throw new Error(`seed ${seed}: the index did not reach revision ${revision}`);
        if (random.chance(0.5)) engines.fixed = new Engine({}, { index: await buildGraphIndex(store) });
      }
      for (let i = 0; i < options.lookupsPerRound; i++) {
        const drawn = drawRequest(schema, ids, [...live.values()], random);
        await judge("plain", engines.plain, revision, drawn, false);
        await judge("indexed", engines.indexed, revision, drawn, random.chance(0.5));
        await judge("indexed without cache", engines.uncached, revision, drawn, false);
        await judge("fixed index", engines.fixed, revision, drawn, false);
        const older = random.pick(revisions);
        if (older < revision) {
          report.olderRevision += 1;
          await judge("indexed, older revision", engines.indexed, older, drawn, false);
          await judge("fixed index, older revision", engines.fixed, older, drawn, false);
        }
      }
    }
  } finally {
    await follower.stop();
    await store.close();
  }
}


/**
 * drawRequest draws a LookupResources or LookupSubjects request: a permission or relation of a
 * definition, and as subject (type) mostly users, sometimes other objects or usersets (including
 * the resource type's own, e.g. `doc:d1#view`, which holds `view` on itself), named in the data
 * or not, with a caveat context a third of the time.
 */
export function drawRequest(schema: Schema, ids: IdSpace, live: readonly Relationship[], random: SeededRandom): DrawnLookup {
  const definitions = [...schema.definitions.values()];
  const resources = definitions.filter((d) => d.relations.size + d.permissions.size > 0);
  const definition = random.pick(resources);
  const namesOf = (type: string): string[] => {
    const d = schema.definitions.get(type);
    return d === undefined ? [] : [...d.relations.keys(), ...d.permissions.keys()];
  };
  const permission = random.pick(namesOf(definition.name));
  const idOf = (type: string): string => (random.chance(0.1) ? UNNAMED_ID : random.pick(ids.get(type) ?? [UNNAMED_ID]));
  const context = randomRequestContext(random);
  if (random.chance(0.5)) {
    const roll = random.next();
    let subject: SubjectRef;
    const anchor = live.length > 0 && random.chance(0.4) ? random.pick(live).subject : undefined;
    if (anchor !== undefined && anchor.id !== WILDCARD_ID) subject = anchor;
    else if (roll < 0.55) subject = { type: "user", id: idOf("user") };
    else if (roll < 0.7) {
      const type = random.pick(definitions).name;
      subject = { type, id: idOf(type) };
    } else if (roll < 0.8) subject = { type: definition.name, id: idOf(definition.name), relation: permission };
    else {
      const target = random.pick(resources);
      subject = { type: target.name, id: idOf(target.name), relation: random.pick(namesOf(target.name)) };
    }
    return { kind: "resources", request: { resourceType: definition.name, permission, subject, context } };
  }
  // Mostly a resource and a subject type that some relationship connects, so that most lookups find something.
  const anchor = live.length > 0 && random.chance(0.7) ? random.pick(live) : undefined;
  const resource = anchor?.resource ?? { type: definition.name, id: idOf(definition.name) };
  const resourcePermission = anchor === undefined ? permission : random.pick(namesOf(anchor.resource.type));
  const byAnchor = anchor !== undefined && random.chance(0.5);
  const subjectType = byAnchor ? anchor.subject.type : random.chance(0.6) ? "user" : random.pick(definitions).name;
  const subjectNames = namesOf(subjectType);
  const subjectRelation = byAnchor
    ? anchor.subject.relation
    : subjectNames.length > 0 && random.chance(0.25)
      ? random.pick(subjectNames)
      : undefined;
  return { kind: "subjects", request: { resource, permission: resourcePermission, subjectType, subjectRelation, context } };
}

function countShapes(report: LookupReport, results: readonly { id: string; excludedIds?: readonly string[] | undefined; permissionship: string }[]): void {
  const add = (shape: string): void => {
    report.shapes.set(shape, (report.shapes.get(shape) ?? 0) + 1);
  };
  const wildcard = results.find((r) => r.id === WILDCARD_ID);
  if (wildcard !== undefined) {
    add(`wildcard ${wildcard.permissionship}`);
    if ((wildcard.excludedIds?.length ?? 0) > 0) add("wildcard with exclusions");
    if (results.length > 1) add("concrete subjects under a wildcard");
  } else if (results.length > 0) add("concrete subjects only");
  else add("empty");
}
