// The harness's handle on the SpiceDB host child process (bench/spicedb-host.ts): load, run, stop.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { WorkerResult } from "./load-protocol.ts";
import { ROOT } from "./paths.ts";
import type { WorkloadSize } from "./workloads/index.ts";

/** SpiceDBHostRequest is what the harness asks the SpiceDB host. */
export type SpiceDBHostRequest =
  | {
      readonly type: "load";
      readonly workload: string;
      readonly size: WorkloadSize;
      readonly checks: number;
      readonly datastore: string;
      readonly datastoreUri?: string | undefined;
    }
  | { readonly type: "run"; readonly threads: number; readonly durationMs: number; readonly maxRequests: number };

/** SpiceDBHostReply is what the host sends: "ready" once, then "loaded" and "result" per request. */
export type SpiceDBHostReply =
  | { readonly type: "ready" }
  | { readonly type: "loaded"; readonly loadSeconds: number; readonly relationships: number; readonly peakRssBytes: number }
  | { readonly type: "result"; readonly results: readonly WorkerResult[]; readonly peakRssBytes: number };

/** SpiceDBProcess is a running spicedb-host.ts child; one request at a time. */
export class SpiceDBProcess {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** start forks the host (with `heapMB` of V8 old space) and waits until it is up. */
  static async start(heapMB: number): Promise<SpiceDBProcess> {
    const child = fork(join(ROOT, "bin", "run-ts.js"), ["bench/spicedb-host.ts"], {
      cwd: ROOT,
      execArgv: [`--max-old-space-size=${heapMB}`],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    const host = new SpiceDBProcess(child);
    await host.#next("ready");
    return host;
  }

  /** load has the host generate the workload and write it into a fresh SpiceDB. */
  async load(request: Omit<Extract<SpiceDBHostRequest, { type: "load" }>, "type">): Promise<Extract<SpiceDBHostReply, { type: "loaded" }>> {
    const reply = this.#next("loaded");
    this.#child.send({ type: "load", ...request } satisfies SpiceDBHostRequest);
    return reply;
  }

  /** run checks the mix from `threads` threads for `durationMs` and returns each thread's result. */
  async run(threads: number, durationMs: number, maxRequests: number): Promise<Extract<SpiceDBHostReply, { type: "result" }>> {
    const reply = this.#next("result");
    this.#child.send({ type: "run", threads, durationMs, maxRequests } satisfies SpiceDBHostRequest);
    return reply;
  }

  /** stop disconnects the host (which disposes SpiceDB and exits) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    child.disconnect();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }

  #next<T extends SpiceDBHostReply["type"]>(type: T): Promise<Extract<SpiceDBHostReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the SpiceDB host exited with code ${code}`));
      const onMessage = (reply: SpiceDBHostReply): void => {
        if (reply.type !== type) return;
        this.#child.off("exit", onExit);
        this.#child.off("message", onMessage);
        resolve(reply as Extract<SpiceDBHostReply, { type: T }>);
      };
      this.#child.once("exit", onExit);
      this.#child.on("message", onMessage);
    });
  }
}
