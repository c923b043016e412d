// Medians over repeated lookup runs: `node bin/run-ts.js bench/lookup-summarize.ts [results.json ...]`
// (default: every bench/results/lookup-*.json) prints, per size, one Markdown row per query and
// system with the median of each figure over its runs, then the SpiceDB/Mandate ratios (the median
// of each run's ratio), for bench/README.md.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

/** LookupRunResult is the part of a results file (written by lookup-run.ts) this summary reads. */
interface LookupRunResult {
  readonly size: string;
  readonly relationships: number;
  readonly mandate?: SystemResult;
  readonly mandateCold?: SystemResult;
  readonly spicedb?: SystemResult;
  readonly engine?: SystemResult;
  readonly ratios: readonly Ratio[];
  readonly coldRatios?: readonly Ratio[];
}

interface SystemResult {
  readonly peakRssDuringLookupsMB?: number;
  readonly rssAfterLoadMB?: number;
  readonly queries: readonly Query[];
}

interface Query {
  readonly tag: string;
  readonly expectedResults: number;
  readonly lookups: number;
  readonly firstMs: Percentiles;
  readonly lastMs: Percentiles;
  readonly endMs: Percentiles;
  readonly idleTimeouts: number;
  readonly lookupsPerSecond: number;
  readonly resultsPerSecond: number;
  readonly wrongLookups: number;
  readonly duplicates: number;
  readonly errors: number;
}

interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

interface Ratio {
  readonly tag: string;
  readonly lastP50: number;
  readonly lastP95: number;
  readonly lastP99: number;
  readonly firstP50: number;
  readonly resultsPerSecond: number;
}

type Row = { readonly run: LookupRunResult; readonly system: SystemResult; readonly query: Query };

const QUERY_COLUMNS: ReadonlyArray<readonly [string, (row: Row) => number | undefined, number]> = [
  ["lookups", (row) => row.query.lookups, 0],
  ["first p50", (row) => row.query.firstMs.p50, 1],
  ["first p95", (row) => row.query.firstMs.p95, 1],
  ["first p99", (row) => row.query.firstMs.p99, 1],
  ["last p50", (row) => row.query.lastMs.p50, 0],
  ["last p95", (row) => row.query.lastMs.p95, 0],
  ["last p99", (row) => row.query.lastMs.p99, 0],
  ["end p50", (row) => row.query.endMs.p50, 0],
  ["lookups/s", (row) => row.query.lookupsPerSecond, 2],
  ["results/s", (row) => row.query.resultsPerSecond, 0],
  ["RSS loaded MB", (row) => row.system.rssAfterLoadMB, 0],
  ["peak RSS MB", (row) => row.system.peakRssDuringLookupsMB, 0],
];

const RATIO_COLUMNS: ReadonlyArray<readonly [string, (ratio: Ratio) => number]> = [
  ["last p50", (ratio) => ratio.lastP50],
  ["last p95", (ratio) => ratio.lastP95],
  ["last p99", (ratio) => ratio.lastP99],
  ["first p50", (ratio) => ratio.firstP50],
  ["results/s (Mandate/SpiceDB)", (ratio) => ratio.resultsPerSecond],
];

function median(values: ReadonlyArray<number | undefined>): number | undefined {
  const sorted = values.filter((value): value is number => value !== undefined && !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function cell(value: number | undefined, digits: number): string {
  return value === undefined ? "–" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const directory = join(ROOT, "bench", "results");
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(directory)
        .filter((file) => file.startsWith("lookup-") && file.endsWith(".json"))
        .map((file) => join(directory, file));
const bySize = new Map<string, LookupRunResult[]>();
for (const file of files) {
  const run = JSON.parse(readFileSync(file, "utf8")) as LookupRunResult;
  const key = `${run.size} (${run.relationships} relationships)`;
  bySize.set(key, [...(bySize.get(key) ?? []), run]);
}
for (const [size, runs] of bySize) {
  process.stdout.write(`\n${size}, ${runs.length} runs; times in ms, medians over the runs\n\n`);
  process.stdout.write(`| query (results) | system | problems | ${QUERY_COLUMNS.map(([name]) => name).join(" | ")} |\n`);
  process.stdout.write(`|---|---|---:|${QUERY_COLUMNS.map(() => "---:").join("|")}|\n`);
  const tags = [...new Set(runs.flatMap((run) => (run.mandate ?? run.spicedb)?.queries.map((query) => query.tag) ?? []))];
  for (const tag of tags) {
    for (const name of ["mandate", "mandateCold", "spicedb", "engine"] as const) {
      const rows: Row[] = runs.flatMap((run) => {
        const system = run[name];
        const query = system?.queries.find((q) => q.tag === tag);
        return system === undefined || query === undefined ? [] : [{ run, system, query }];
      });
      const first = rows[0];
      if (first === undefined) continue;
      const problems = rows.reduce((sum, row) => sum + row.query.wrongLookups + row.query.errors + row.query.duplicates, 0);
      const timeouts = rows.reduce((sum, row) => sum + row.query.idleTimeouts, 0);
      const label = { mandate: "Mandate", mandateCold: "Mandate, caches off", spicedb: `SpiceDB${timeouts > 0 ? ` (${timeouts} idle timeouts)` : ""}`, engine: "Mandate's engine, in process" }[name];
      const cells = QUERY_COLUMNS.map(([, figure, digits]) => cell(median(rows.map(figure)), digits));
      process.stdout.write(`| ${tag} (${first.query.expectedResults}) | ${label} | ${problems} | ${cells.join(" | ")} |\n`);
    }
  }
  process.stdout.write(`\nSpiceDB / Mandate (above 1: Mandate faster), median of the per-run ratios\n\n`);
  process.stdout.write(`| query | ${RATIO_COLUMNS.map(([name]) => name).join(" | ")} | Mandate / its engine in process, last p50 |\n`);
  process.stdout.write(`|---|${RATIO_COLUMNS.map(() => "---:").join("|")}|---:|\n`);
  for (const [variant, ratiosOf, system] of [
    ["", (run: LookupRunResult) => run.ratios, "mandate"],
    [", caches off", (run: LookupRunResult) => run.coldRatios ?? [], "mandateCold"],
  ] as const) {
    for (const tag of tags) {
      const ratios = runs.flatMap((run) => ratiosOf(run).filter((ratio) => ratio.tag === tag));
      if (ratios.length === 0) continue;
      const transport = runs.map((run) => {
        const mandate = run[system]?.queries.find((query) => query.tag === tag);
        const engine = run.engine?.queries.find((query) => query.tag === tag);
        return mandate === undefined || engine === undefined ? undefined : mandate.lastMs.p50 / engine.lastMs.p50;
      });
      process.stdout.write(`| ${tag}${variant} | ${RATIO_COLUMNS.map(([, figure]) => `×${cell(median(ratios.map(figure)), 1)}`).join(" | ")} | ×${cell(median(transport), 1)} |\n`);
    }
  }
}
