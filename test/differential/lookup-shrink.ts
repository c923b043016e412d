// Shrinks a lookup that disagrees with Check to the fewest relationships that still show a difference.
import { Engine } from "../../src/engine/index.ts";
import { buildGraphIndex, startGraphIndexFollower } from "../../src/graph/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import { formatRelationship } from "../../src/tuple/index.ts";
import type { Relationship } from "../../src/tuple/index.ts";
import { describeRequest, judgeLookup, ReferenceChecks } from "./lookup-judge.ts";
import type { DrawnLookup } from "./lookup-judge.ts";
import type { IdSpace } from "./random-relationships.ts";

/** ShrunkCase is a reproduction on a fresh store: the lookup, the relationships left, and what each engine got wrong. */
export interface ShrunkCase {
  readonly drawn: DrawnLookup;
  readonly relationships: readonly Relationship[];
  /** problems: by engine label, the judge's findings on the shrunk case; empty when a fresh store does not reproduce the difference. */
  readonly problems: ReadonlyMap<string, readonly string[]>;
}

/**
 * freshProblems loads `relationships` into a fresh MemoryStore (clock fixed at `nowMs`), and
 * judges `drawn` by three engines at its head: plain, on a following index, and on an index built
 * once. Returns each engine's problems (engines without any are left out).
 */
export async function freshProblems(
  schemaText: string,
  schema: Schema,
  relationships: readonly Relationship[],
  drawn: DrawnLookup,
  ids: IdSpace,
  nowMs: number,
): Promise<Map<string, string[]>> {
  const store = new MemoryStore({ now: () => nowMs });
  await store.writeSchema(schemaText, async () => {});
  const revision =
    relationships.length === 0 ? await store.headRevision() : await store.write(relationships.map((relationship) => ({ operation: "touch" as const, relationship })));
  const follower = await startGraphIndexFollower(store);
  try {
    if (!(await follower.waitFor(revision, 5_000))) throw new Error(`freshProblems: the index did not reach revision ${revision}`);
    const reader = store.snapshot(revision);
    const reference = new ReferenceChecks();
    const engines: Array<[string, Engine]> = [
      ["plain", new Engine()],
      ["indexed", new Engine({}, { follower })],
      ["fixed index", new Engine({}, { index: await buildGraphIndex(store) })],
    ];
    const problems = new Map<string, string[]>();
    for (const [label, engine] of engines) {
      const judgement = await judgeLookup(engine, reader, schema, drawn, ids, (request) => reference.answer(reader, schema, request, "fresh"));
      if (judgement.problems.length > 0) problems.set(label, judgement.problems);
    }
    return problems;
  } finally {
    await follower.stop();
    await store.close();
  }
}

/**
 * shrinkLookupCase removes relationships one at a time, keeping each removal after which some
 * engine still disagrees with Check on `drawn` (freshProblems), until no single removal keeps a
 * difference. If the full set does not reproduce on a fresh store (the difference needed the
 * scenario's history of writes, or a lagging index), it returns the full set with no problems.
 */
export async function shrinkLookupCase(
  schemaText: string,
  schema: Schema,
  relationships: readonly Relationship[],
  drawn: DrawnLookup,
  ids: IdSpace,
  nowMs: number,
): Promise<ShrunkCase> {
  let kept = [...relationships];
  let problems = await freshProblems(schemaText, schema, kept, drawn, ids, nowMs);
  if (problems.size === 0) return { drawn, relationships: kept, problems };
  for (let removed = true; removed; ) {
    removed = false;
    for (let i = kept.length - 1; i >= 0; i--) {
      const candidate = kept.filter((_, j) => j !== i);
      const found = await freshProblems(schemaText, schema, candidate, drawn, ids, nowMs);
      if (found.size > 0) {
        kept = candidate;
        problems = found;
        removed = true;
      }
    }
  }
  return { drawn, relationships: kept, problems };
}

/** formatShrunk prints a ShrunkCase for a test report. */
export function formatShrunk(shrunk: ShrunkCase): string {
  if (shrunk.problems.size === 0) return "(a fresh store with these relationships at its head does not reproduce it: the history of writes or a lagging index matters)";
  const problems = [...shrunk.problems].map(([label, list]) => `  ${label}: ${list.slice(0, 3).join("; ")}`);
  return [
    `minimal reproduction on a fresh store: ${describeRequest(shrunk.drawn)} over ${shrunk.relationships.length} relationships`,
    ...shrunk.relationships.map((r) => `  ${formatRelationship(r)}${r.expiresAt === undefined ? "" : ` (expires ${r.expiresAt.toISOString()})`}`),
    ...problems,
  ].join("\n");
}
