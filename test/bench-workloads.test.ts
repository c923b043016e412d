import { describe, expect, it } from "vitest";
import { agentsWorkload, driveWorkload, folderLookupsWorkload, nestedGroupsWorkload, rbacWorkload } from "../bench/workloads/index.ts";
import type { BenchCheck, Workload } from "../bench/workloads/index.ts";
import { Engine } from "../src/engine/index.ts";
import { buildGraphIndex } from "../src/graph/index.ts";
import { compileSchema } from "../src/schema/index.ts";
import { MemoryStore } from "../src/store/index.ts";
import type { Relationship } from "../src/tuple/index.ts";

// The benchmarks verify every answer against the generator's `expected`; these tests pin that the
// generators are deterministic and that their expectations agree with Mandate's engine, so a
// benchmark run that reports wrong answers points at a regression, not at the workload.

const GENERATORS = [
  ["W1 rbac", rbacWorkload],
  ["W2 nested groups", nestedGroupsWorkload],
  ["W3 drive", driveWorkload],
  ["W4 agents", agentsWorkload],
] as const;

const CHECKS = 400;

async function answersOf(workload: Workload, extra: readonly Relationship[] = [], checks: readonly BenchCheck[] = workload.checks): Promise<string[]> {
  const schema = compileSchema(workload.schema, `${workload.name}.zed`);
  const store = new MemoryStore();
  await store.writeSchema(workload.schema, async () => {});
  const revision = await store.write([...workload.relationships, ...extra].map((relationship) => ({ operation: "touch" as const, relationship })));
  const engine = new Engine();
  const reader = store.snapshot(revision);
  const answers: string[] = [];
  for (const check of checks) {
    const result = await engine.check(reader, schema, check);
    answers.push(result.permissionship);
  }
  await store.close();
  return answers;
}

describe("benchmark workloads", () => {
  it.each(GENERATORS)("%s is the same on every run of one seed", (_, generate) => {
    const first = generate("small", CHECKS, 7);
    const second = generate("small", CHECKS, 7);
    expect(second.schema).toBe(first.schema);
    expect(second.relationships).toEqual(first.relationships);
    expect(second.checks).toEqual(first.checks);
  });

  it.each(GENERATORS)("%s expects what the engine answers, with both answers present", async (_, generate) => {
    const workload = generate("small", CHECKS, 11);
    const answers = await answersOf(workload);
    expect(answers).toEqual(workload.checks.map((check) => check.expected));
    expect(new Set(answers)).toEqual(new Set(["allowed", "denied"]));
  });

  it.each(GENERATORS)("%s freshness probes are denied before their write, allowed after it, and change no other answer", async (_, generate) => {
    const workload = generate("small", 100, 13);
    const probes = [0, 1, 2, 1_000_003].map((n) => workload.freshnessProbe(n));
    const probeChecks = probes.map((probe) => probe.check);
    expect(await answersOf(workload, [], probeChecks)).toEqual(probeChecks.map(() => "denied"));
    const written = probes.map((probe) => probe.relationship);
    expect(await answersOf(workload, written, probeChecks)).toEqual(probeChecks.map(() => "allowed"));
    expect(await answersOf(workload, written)).toEqual(workload.checks.map((check) => check.expected));
  });

  it.each(GENERATORS)("%s grows with the size knob, about tenfold from small to full", (_, generate) => {
    const small = generate("small", 10).relationships.length;
    const full = generate("full", 10).relationships.length;
    expect(full / small).toBeGreaterThan(8);
    expect(full / small).toBeLessThan(12);
  });
});

describe("the lookup benchmark workload", () => {
  it("is the same on every run of one seed", () => {
    const first = folderLookupsWorkload("small", 7);
    const second = folderLookupsWorkload("small", 7);
    expect(second.schema).toBe(first.schema);
    expect(second.relationships).toEqual(first.relationships);
    expect(second.lookups).toEqual(first.lookups);
  });

  it("lists every relationship once", () => {
    const { relationships } = folderLookupsWorkload("full");
    const texts = new Set(relationships.map((r) => `${r.resource.type}:${r.resource.id}#${r.relation}@${r.subject.type}:${r.subject.id}#${r.subject.relation ?? ""}`));
    expect(texts.size).toBe(relationships.length);
  });

  it("expects for each reader exactly the documents the engine looks up, and the engine's check agrees", async () => {
    const workload = folderLookupsWorkload("small", 11);
    const schema = compileSchema(workload.schema, "lookup.zed");
    const store = new MemoryStore();
    await store.writeSchema(workload.schema, async () => {});
    const revision = await store.write(workload.relationships.map((relationship) => ({ operation: "touch" as const, relationship })));
    const reader = store.snapshot(revision);
    const indexed = new Engine({}, { index: await buildGraphIndex(store) });
    const plain = new Engine();
    for (const query of workload.lookups) {
      const found: string[] = [];
      for (const result of await indexed.lookupResources(reader, schema, query)) {
        expect(result.permissionship).toBe("allowed");
        found.push(result.id);
      }
      expect(found.sort()).toEqual(query.expected);
      // The plain walk (no index) on a sample of the documents, viewed or not.
      const expected = new Set(query.expected);
      for (let d = 0; d < workload.documents; d += 97) {
        const result = await plain.check(reader, schema, { resource: { type: "document", id: `d${d}` }, permission: "view", subject: query.subject });
        expect(result.permissionship).toBe(expected.has(`d${d}`) ? "allowed" : "denied");
      }
    }
    await store.close();
  });

  it("gives its readers about 95%, 10% and 1% of the documents, at small and full size", () => {
    for (const size of ["small", "full"] as const) {
      const workload = folderLookupsWorkload(size);
      const shares = workload.lookups.map((query) => query.expected.length / workload.documents);
      expect(workload.lookups.map((query) => query.tag)).toEqual(["most", "tenth", "hundredth"]);
      expect(shares[0]).toBeGreaterThan(0.9);
      expect(shares[0]).toBeLessThan(1);
      expect(shares[1]).toBeGreaterThan(0.08);
      expect(shares[1]).toBeLessThan(0.13);
      expect(shares[2]).toBeGreaterThan(0.008);
      expect(shares[2]).toBeLessThan(0.02);
    }
  });
});
