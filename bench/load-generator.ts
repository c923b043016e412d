// The load generator: worker processes (load-worker.ts), each with its own gRPC client and a share
// of a fixed number of in-flight requests; their raw latencies are merged for exact percentiles.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { WireZedToken } from "../src/api/index.ts";
import { summarize } from "./latency.ts";
import type { LatencySummary } from "./latency.ts";
import type { LoadMode, LoadWorkerReply, LoadWorkerRequest, WorkerResult } from "./load-protocol.ts";
import { ROOT } from "./paths.ts";
import type { BenchCheck } from "./workloads/index.ts";

const MAX_PROBLEMS = 5;

/** PhaseOptions: `inFlight` requests in all (split across the workers), for `durationMs`, at most `maxRequests` per worker. */
export interface PhaseOptions {
  readonly inFlight: number;
  readonly durationMs: number;
  readonly bulkSize?: number | undefined;
  readonly maxRequests?: number | undefined;
}

/** PhaseMeasurement is what every worker measured in one phase, merged. */
export interface PhaseMeasurement {
  readonly mode: LoadMode;
  readonly requests: number;
  /** items: checks answered (for bulk, items per request × requests; for health, requests). */
  readonly items: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly itemsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly latencyMsByTag: Readonly<Record<string, LatencySummary>>;
  readonly errors: number;
  readonly wrongAnswers: number;
  readonly problems: readonly string[];
}

/** Worker is one forked load-worker process and the messages it sent that nobody took yet. */
class Worker {
  readonly #child: ChildProcess;
  readonly #inbox: LoadWorkerReply[] = [];
  readonly #waiting: Array<(reply: LoadWorkerReply) => void> = [];

  constructor() {
    this.#child = fork(join(ROOT, "bin", "run-ts.js"), ["bench/load-worker.ts"], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    this.#child.on("message", (reply: LoadWorkerReply) => {
      const waiter = this.#waiting.shift();
      if (waiter === undefined) this.#inbox.push(reply);
      else waiter(reply);
    });
  }

  send(request: LoadWorkerRequest): void {
    this.#child.send(request);
  }

  /** next resolves with the next message of `type`; rejects if the worker exits first. */
  next<T extends LoadWorkerReply["type"]>(type: T): Promise<Extract<LoadWorkerReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`a load worker exited with code ${code}`));
      this.#child.once("exit", onExit);
      const take = (reply: LoadWorkerReply): void => {
        this.#child.off("exit", onExit);
        if (reply.type === type) resolve(reply as Extract<LoadWorkerReply, { type: T }>);
        else reject(new Error(`a load worker sent "${reply.type}" where "${type}" was expected`));
      };
      const queued = this.#inbox.shift();
      if (queued === undefined) this.#waiting.push(take);
      else take(queued);
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((done) => this.#child.once("exit", () => done()));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * LoadGenerator drives phases from `workers` processes. Point it at a server with `target`, then
 * `run` phases; `stop` ends the workers.
 */
export class LoadGenerator {
  readonly #workers: readonly Worker[];

  private constructor(workers: readonly Worker[]) {
    this.#workers = workers;
  }

  /** start forks `count` workers and waits until each is up. */
  static async start(count: number): Promise<LoadGenerator> {
    const workers = Array.from({ length: count }, () => new Worker());
    const generator = new LoadGenerator(workers);
    try {
      await Promise.all(workers.map((worker) => worker.next("ready")));
    } catch (error) {
      await generator.stop();
      throw error;
    }
    return generator;
  }

  /** workerCount is how many worker processes generate the load. */
  get workerCount(): number {
    return this.#workers.length;
  }

  /** target points every worker at `address`, with the mix and the token its checks must be as fresh as. */
  async target(address: string, token: WireZedToken, checks: readonly BenchCheck[]): Promise<void> {
    const count = this.#workers.length;
    this.#workers.forEach((worker, i) => worker.send({ type: "target", address, token, checks, firstCheck: Math.floor((i * checks.length) / count) }));
    await Promise.all(this.#workers.map((worker) => worker.next("ready")));
  }

  /** run runs one phase of `mode` on every worker at once and merges what they measured. */
  async run(mode: LoadMode, options: PhaseOptions): Promise<PhaseMeasurement> {
    const count = this.#workers.length;
    if (options.inFlight < count) throw new RangeError(`inFlight: ${options.inFlight} is fewer than the ${count} workers`);
    this.#workers.forEach((worker, i) =>
      worker.send({
        type: "run",
        mode,
        // The in-flight requests are shared out as evenly as they divide.
        inFlight: Math.floor(options.inFlight / count) + (i < options.inFlight % count ? 1 : 0),
        durationMs: options.durationMs,
        bulkSize: options.bulkSize ?? 1,
        maxRequests: options.maxRequests ?? Number.MAX_SAFE_INTEGER,
      }),
    );
    const results = (await Promise.all(this.#workers.map((worker) => worker.next("result")))).map((reply) => reply.result);
    return mergeResults(mode, results);
  }

  /** stop disconnects every worker and waits for it to exit. */
  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.stop()));
  }
}

/** mergeResults merges the results of every worker (or thread) of one phase; latencies exactly, from the raw values. */
export function mergeResults(mode: LoadMode, results: readonly WorkerResult[]): PhaseMeasurement {
  const seconds = Math.max(...results.map((result) => result.seconds));
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  const items = results.reduce((sum, result) => sum + result.items, 0);
  const tags = [...new Set(results.flatMap((result) => Object.keys(result.latenciesByTag)))].sort();
  return {
    mode,
    requests,
    items,
    seconds,
    requestsPerSecond: requests / seconds,
    itemsPerSecond: items / seconds,
    latencyMs: summarize(results.map((result) => result.latencies)),
    latencyMsByTag: Object.fromEntries(tags.map((tag) => [tag, summarize(results.map((result) => result.latenciesByTag[tag] ?? new Float64Array(0)))])),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    wrongAnswers: results.reduce((sum, result) => sum + result.wrongAnswers, 0),
    problems: results.flatMap((result) => result.problems).slice(0, MAX_PROBLEMS),
  };
}
