import { describe, expect, it } from "vitest";
import { agentsWorkload, driveWorkload, nestedGroupsWorkload, rbacWorkload } from "../bench/workloads/index.ts";
import type { BenchCheck, Workload } from "../bench/workloads/index.ts";
import { Engine } from "../src/engine/index.ts";
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
