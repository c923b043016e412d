// Latency percentiles, computed exactly from the raw latencies of every worker.

/** LatencySummary is in milliseconds; the percentiles are nearest-rank over every request of a phase. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** summarize merges `parts` (raw latencies, ms) and returns their percentiles; NaN where there are none. */
export function summarize(parts: readonly (Float64Array | readonly number[])[]): LatencySummary {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const sorted = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    sorted.set(part, offset);
    offset += part.length;
  }
  sorted.sort();
  const at = (q: number): number => round(sorted[Math.min(total - 1, Math.max(0, Math.ceil(q * total) - 1))] ?? Number.NaN);
  return { count: total, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[total - 1] ?? Number.NaN) };
}

/** round keeps three decimals (microseconds, for milliseconds). */
export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
