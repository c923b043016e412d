// Medians over repeated runs: `node bin/run-ts.js bench/summarize.ts [results.json ...]` (default:
// every file in bench/results/) prints one Markdown row per workload, size, datastore and in-flight count with the
// median of each figure over its runs, for bench/README.md.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

/** RunResult is the part of a results file (written by run.ts) this summary reads. */
interface RunResult {
  readonly workload: string;
  readonly size: string;
  readonly relationships: number;
  readonly options: { readonly datastore: string; readonly inFlight: number };
  readonly warmServer?: { readonly loadSeconds: number; readonly indexCatchUpSeconds: number };
  readonly coldServer?: { readonly indexBuildMs?: number };
  readonly memory?: { readonly bytesPerRelationship?: number };
  readonly noop?: Phase;
  readonly warm?: Phase & { readonly server?: { readonly cacheHitRatio?: number } };
  readonly cold?: Phase;
  readonly bulk?: Phase;
  readonly fresh?: { readonly visibleMs: { readonly p99: number } };
  readonly spicedb?: { readonly loadSeconds: number; readonly measurement: Phase };
}

interface Phase {
  readonly itemsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly latencyMsByTag: Readonly<Record<string, { readonly p99: number }>>;
  readonly errors: number;
  readonly wrongAnswers: number;
}

const COLUMNS: ReadonlyArray<readonly [string, (run: RunResult) => number | undefined, number]> = [
  ["no-op/s", (run) => run.noop?.itemsPerSecond, 0],
  ["warm/s", (run) => run.warm?.itemsPerSecond, 0],
  ["warm p50 ms", (run) => run.warm?.latencyMs.p50, 2],
  ["warm p99 ms", (run) => run.warm?.latencyMs.p99, 2],
  ["hit ratio", (run) => run.warm?.server?.cacheHitRatio, 2],
  ["cold/s", (run) => run.cold?.itemsPerSecond, 0],
  ["cold p99 ms", (run) => run.cold?.latencyMs.p99, 2],
  ["batch items/s", (run) => run.bulk?.itemsPerSecond, 0],
  ["fresh p99 ms", (run) => run.fresh?.visibleMs.p99, 2],
  ["SpiceDB/s", (run) => run.spicedb?.measurement.itemsPerSecond, 0],
  ["SpiceDB p99 ms", (run) => run.spicedb?.measurement.latencyMs.p99, 1],
  ["warm/SpiceDB", (run) => ratio(run.warm?.itemsPerSecond, run.spicedb?.measurement.itemsPerSecond), 1],
  ["cold/SpiceDB", (run) => ratio(run.cold?.itemsPerSecond, run.spicedb?.measurement.itemsPerSecond), 1],
  ["warm/no-op", (run) => ratio(run.warm?.itemsPerSecond, run.noop?.itemsPerSecond), 2],
  ["batch/warm", (run) => ratio(run.bulk?.itemsPerSecond, run.warm?.itemsPerSecond), 1],
  ["depth8/depth1 p99", (run) => ratio(run.warm?.latencyMsByTag["depth8"]?.p99, run.warm?.latencyMsByTag["depth1"]?.p99), 2],
  ["load s", (run) => run.warmServer?.loadSeconds, 1],
  ["index catch-up s", (run) => run.warmServer?.indexCatchUpSeconds, 1],
  // Only a server opened on a loaded Postgres database builds its index at start (memory: built empty, then followed).
  ["index build s", (run) => (run.options.datastore !== "postgres" || run.coldServer?.indexBuildMs === undefined ? undefined : run.coldServer.indexBuildMs / 1000), 1],
  ["B/relationship", (run) => run.memory?.bytesPerRelationship, 0],
];

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function median(values: readonly number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const directory = join(ROOT, "bench", "results");
// lookup-*.json are the lookup benchmark's (bench/lookup-summarize.ts).
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(directory)
        .filter((file) => file.endsWith(".json") && !file.startsWith("lookup-"))
        .map((file) => join(directory, file));
const groups = new Map<string, RunResult[]>();
for (const file of files) {
  const run = JSON.parse(readFileSync(file, "utf8")) as RunResult;
  const key = `${run.workload} | ${run.size} (${run.relationships}) | ${run.options.datastore} | ${run.options.inFlight}`;
  groups.set(key, [...(groups.get(key) ?? []), run]);
}
process.stdout.write(`| workload | size (relationships) | datastore | in flight | runs | problems | ${COLUMNS.map(([name]) => name).join(" | ")} |\n`);
process.stdout.write(`|---|---|---|---:|---:|---:|${COLUMNS.map(() => "---:").join("|")}|\n`);
for (const [key, runs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
  const problems = runs.reduce((sum, run) => sum + [run.noop, run.warm, run.cold, run.bulk, run.spicedb?.measurement].reduce((n, phase) => n + (phase === undefined ? 0 : phase.errors + phase.wrongAnswers), 0), 0);
  const cells = COLUMNS.map(([, figure, digits]) => {
    const value = median(runs.map(figure).filter((x): x is number => x !== undefined && !Number.isNaN(x)));
    return value === undefined ? "–" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  });
  process.stdout.write(`| ${key} | ${runs.length} | ${problems} | ${cells.join(" | ")} |\n`);
}
