// The targets of issue 4, checked against the figures of one run.

/** TargetResult is one target: what it asks, the measured ratio or value, and whether it was met (undefined: not measured in this run). */
export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** RunFigures are the figures the targets need; undefined where a phase did not run. */
export interface RunFigures {
  readonly noopPerSecond: number | undefined;
  readonly warmPerSecond: number | undefined;
  readonly warmP99: number | undefined;
  readonly coldPerSecond: number | undefined;
  readonly bulkItemsPerSecond: number | undefined;
  readonly spicedbPerSecond: number | undefined;
  readonly spicedbP99: number | undefined;
  readonly depth1P99: number | undefined;
  readonly depth8P99: number | undefined;
  readonly freshnessP99: number | undefined;
  readonly bytesPerRelationship: number | undefined;
  readonly relationships: number;
}

/** MEMORY_TARGET_RELATIONSHIPS: the index-memory target is stated at 10M relationships; below it, the figure is reported but not judged. */
const MEMORY_TARGET_RELATIONSHIPS = 9_000_000;

/** evaluateTargets compares the figures of one run with each target of issue 4. */
export function evaluateTargets(figures: RunFigures): TargetResult[] {
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
  const results: TargetResult[] = [];
  const judge = (target: string, value: number | undefined, format: (value: number) => string, ok: (value: number) => boolean): void => {
    results.push(value === undefined || Number.isNaN(value) ? { target, measured: "not measured", met: undefined } : { target, measured: format(value), met: ok(value) });
  };
  const times = (value: number): string => `×${value.toFixed(2)}`;

  judge("warm-cache checks/s ≥ 3× SpiceDB", ratio(figures.warmPerSecond, figures.spicedbPerSecond), times, (value) => value >= 3);
  judge("warm-cache p99 ≤ SpiceDB p99", ratio(figures.warmP99, figures.spicedbP99), times, (value) => value <= 1);
  judge("warm-cache checks/s ≥ 60% of the no-op RPC", ratio(figures.warmPerSecond, figures.noopPerSecond), (value) => `${(value * 100).toFixed(0)}%`, (value) => value >= 0.6);
  judge("cold-cache checks/s ≥ 2× SpiceDB", ratio(figures.coldPerSecond, figures.spicedbPerSecond), times, (value) => value >= 2);
  if (figures.depth1P99 !== undefined || figures.depth8P99 !== undefined) {
    judge("W2 p99 at depth 8 ≤ 1.5× p99 at depth 1 (warm)", ratio(figures.depth8P99, figures.depth1P99), times, (value) => value <= 1.5);
  }
  judge("batch of 100: items/s ≥ 20× single checks/s (warm)", ratio(figures.bulkItemsPerSecond, figures.warmPerSecond), times, (value) => value >= 20);
  judge("freshness: write visible to at_least_as_fresh within 10 ms p99", figures.freshnessP99, (value) => `${value.toFixed(2)} ms`, (value) => value <= 10);
  const memory = figures.bytesPerRelationship;
  if (figures.relationships >= MEMORY_TARGET_RELATIONSHIPS) {
    judge("index memory ≤ 100 B RSS per relationship at 10M", memory, (value) => `${value.toFixed(0)} B`, (value) => value <= 100);
  } else {
    results.push({
      target: "index memory ≤ 100 B RSS per relationship at 10M",
      measured: memory === undefined ? "not measured" : `${memory.toFixed(0)} B at ${figures.relationships} relationships (judged at 10M only)`,
      met: undefined,
    });
  }
  return results;
}
