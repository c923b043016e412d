// The freshness phase's writer: writes a relationship, then at once checks it with at_least_as_fresh
// and the token of the write, while the load generator keeps the server at full load.
import { relationshipToWire } from "../src/api/index.ts";
import type { MandateClient } from "../src/api/index.ts";
import { answerOf, checkRequest, describeCheck } from "./check-wire.ts";
import { summarize } from "./latency.ts";
import type { LatencySummary } from "./latency.ts";
import type { Workload } from "./workloads/index.ts";

const MAX_PROBLEMS = 5;

/**
 * FreshnessMeasurement: `visibleMs` is from the write's answer to the answer of the check with its
 * token (how long a fresh write takes to be visible to a check: the target); `writeMs` is the
 * write itself; `totalMs` both. Every check must answer "allowed".
 */
export interface FreshnessMeasurement {
  readonly probes: number;
  readonly writesPerSecond: number;
  readonly visibleMs: LatencySummary;
  readonly writeMs: LatencySummary;
  readonly totalMs: LatencySummary;
  readonly errors: number;
  readonly notVisible: number;
  readonly problems: readonly string[];
}

/** measureFreshness runs probes `firstProbe`, `firstProbe + 1`, … for `durationMs`, starting one every 1/writesPerSecond s. */
export async function measureFreshness(client: MandateClient, workload: Workload, durationMs: number, writesPerSecond: number, firstProbe: number): Promise<FreshnessMeasurement> {
  const visible: number[] = [];
  const writes: number[] = [];
  const totals: number[] = [];
  const problems: string[] = [];
  let errors = 0;
  let notVisible = 0;
  const interval = 1000 / writesPerSecond;
  const started = performance.now();
  for (let n = 0; performance.now() - started < durationMs; n++) {
    const slot = started + n * interval;
    const wait = slot - performance.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    const probe = workload.freshnessProbe(firstProbe + n);
    try {
      const writeStart = performance.now();
      const written = await client.writeRelationships({ updates: [{ operation: "OPERATION_TOUCH", relationship: relationshipToWire(probe.relationship) }] });
      const writeEnd = performance.now();
      if (written.writtenAt === null || written.writtenAt === undefined) throw new Error("the write returned no token");
      const response = await client.check(checkRequest(probe.check, written.writtenAt));
      const checkEnd = performance.now();
      writes.push(writeEnd - writeStart);
      visible.push(checkEnd - writeEnd);
      totals.push(checkEnd - writeStart);
      const got = answerOf(response.permissionship);
      if (got !== "allowed") {
        notVisible++;
        if (problems.length < MAX_PROBLEMS) problems.push(`${describeCheck(probe.check)} after its write: ${got}`);
      }
    } catch (error) {
      errors++;
      if (problems.length < MAX_PROBLEMS) problems.push(`probe ${firstProbe + n}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    probes: visible.length,
    writesPerSecond: visible.length / seconds,
    visibleMs: summarize([visible]),
    writeMs: summarize([writes]),
    totalMs: summarize([totals]),
    errors,
    notVisible,
    problems,
  };
}
