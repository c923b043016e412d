// The harness's handle on a Mandate server child process (bench/mandate-server.ts): start, stats, stop.
import type { ServiceStats } from "../src/cli/mandate-service.ts";
import { ChildHost } from "./child-host.ts";
import type { ServerReply, ServerRequest } from "./mandate-server-protocol.ts";

const READY_TIMEOUT_MS = 600_000;
// Generous: the server applies a change set in one synchronous step, and the change set of a 10M
// import keeps its event loop busy for minutes (stats wait behind it).
const STATS_TIMEOUT_MS = 30 * 60_000;

/** MandateProcessOptions choose the datastore and the cache of one server child. */
export interface MandateProcessOptions {
  readonly datastore: "memory" | "postgres";
  readonly databaseUrl?: string | undefined;
  /** cacheEntries: 0 disables the subproblem cache (the cold-cache phase); undefined is the default size. */
  readonly cacheEntries?: number | undefined;
  /** heapMB: the V8 old-space limit of the child; the memory datastore at 10M relationships needs far more than the default. */
  readonly heapMB: number;
}

/** ServerSnapshot is one stats answer: the service's own stats and the peak RSS sampled so far. */
export interface ServerSnapshot {
  readonly stats: ServiceStats;
  readonly peakRssBytes: number;
}

/**
 * MandateProcess is a running bench/mandate-server.ts child. `emptyRssBytes` is its RSS once
 * listening, before anything was loaded through it (for a postgres datastore that already holds
 * data it includes the index built at start).
 */
export class MandateProcess {
  readonly #host: ChildHost<ServerRequest, ServerReply>;
  readonly #pending: Array<(snapshot: ServerSnapshot) => void> = [];
  readonly port: number;
  readonly emptyRssBytes: number;

  private constructor(host: ChildHost<ServerRequest, ServerReply>, port: number, emptyRssBytes: number) {
    this.#host = host;
    this.port = port;
    this.emptyRssBytes = emptyRssBytes;
    host.onReply((reply) => {
      if (reply.type === "stats") this.#pending.shift()?.({ stats: reply.stats, peakRssBytes: reply.peakRssBytes });
    });
  }

  /** start forks the server and resolves once it listens; rejects if it exits first. */
  static async start(options: MandateProcessOptions): Promise<MandateProcess> {
    const args = ["--datastore", options.datastore];
    if (options.databaseUrl !== undefined) args.push("--database-url", options.databaseUrl);
    if (options.cacheEntries !== undefined) args.push("--cache-entries", String(options.cacheEntries));
    const host = ChildHost.fork<ServerRequest, ServerReply>("Mandate server", "bench/mandate-server.ts", args, ["--expose-gc", `--max-old-space-size=${options.heapMB}`]);
    const ready = await host.next("ready", { ms: READY_TIMEOUT_MS, what: "start" });
    return new MandateProcess(host, ready.port, ready.rssBytes);
  }

  /** address is where the server listens. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * stats asks the server for its stats; `collectGarbage` runs a full GC first (for RSS after a
   * load); `resetPeak` makes the next answer's peak that of what follows this one.
   */
  stats(collectGarbage = false, resetPeak = false): Promise<ServerSnapshot> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Mandate server did not answer a stats request within ${STATS_TIMEOUT_MS / 60_000} min`)), STATS_TIMEOUT_MS);
      this.#pending.push((snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      this.#host.send({ type: "stats", collectGarbage, resetPeak });
    });
  }

  /** stop asks the server to stop and waits for it to exit (SIGKILL after 30 s). */
  stop(): Promise<void> {
    return this.#host.stop({ type: "stop" });
  }
}
