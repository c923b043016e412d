// The harness's handle on the SpiceDB lookup host child process (bench/spicedb-lookup-host.ts).
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import type { WorkloadSize } from "./workloads/index.ts";

/** SpiceDBLookupHostRequest is what the harness asks the host; `memory` with `resetPeak` starts a new peak after its answer. */
export type SpiceDBLookupHostRequest =
  | { readonly type: "load"; readonly size: WorkloadSize; readonly seed: number }
  | { readonly type: "memory"; readonly resetPeak: boolean };

/** SpiceDBLookupHostReply is what the host sends: "ready" once, then one reply per request. */
export type SpiceDBLookupHostReply =
  | { readonly type: "ready" }
  | {
      readonly type: "loaded";
      readonly loadSeconds: number;
      readonly relationships: number;
      /** token: the ZedToken of the last write. */
      readonly token: string;
      /** target: the gRPC target of the instance's streaming RPCs (`unix:///…` or host:port). */
      readonly target: string;
    }
  | { readonly type: "memory"; readonly rssBytes: number; readonly peakRssBytes: number };

/** SpiceDBLookupProcess is a running spicedb-lookup-host.ts child; one request at a time. */
export class SpiceDBLookupProcess {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** start forks the host and waits until it is up. */
  static async start(heapMB: number): Promise<SpiceDBLookupProcess> {
    const child = fork(join(ROOT, "bin", "run-ts.js"), ["bench/spicedb-lookup-host.ts"], {
      cwd: ROOT,
      execArgv: ["--expose-gc", `--max-old-space-size=${heapMB}`],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    const host = new SpiceDBLookupProcess(child);
    await host.#next("ready");
    return host;
  }

  /** load has the host generate the lookup workload and write it into a fresh SpiceDB (memory datastore). */
  load(size: WorkloadSize, seed: number): Promise<Extract<SpiceDBLookupHostReply, { type: "loaded" }>> {
    return this.#ask({ type: "load", size, seed }, "loaded");
  }

  /** memory returns the host's RSS (after a forced GC) and peak RSS; `resetPeak` starts a new peak afterwards. */
  memory(resetPeak: boolean): Promise<Extract<SpiceDBLookupHostReply, { type: "memory" }>> {
    return this.#ask({ type: "memory", resetPeak }, "memory");
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

  #ask<T extends SpiceDBLookupHostReply["type"]>(request: SpiceDBLookupHostRequest, type: T): Promise<Extract<SpiceDBLookupHostReply, { type: T }>> {
    const reply = this.#next(type);
    this.#child.send(request);
    return reply;
  }

  #next<T extends SpiceDBLookupHostReply["type"]>(type: T): Promise<Extract<SpiceDBLookupHostReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the SpiceDB lookup host exited with code ${code}`));
      const onMessage = (reply: SpiceDBLookupHostReply): void => {
        if (reply.type !== type) return;
        this.#child.off("exit", onExit);
        this.#child.off("message", onMessage);
        resolve(reply as Extract<SpiceDBLookupHostReply, { type: T }>);
      };
      this.#child.once("exit", onExit);
      this.#child.on("message", onMessage);
    });
  }
}
