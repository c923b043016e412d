// The harness's handle on the SpiceDB host child process (bench/spicedb-host.ts): load, run, stop.
import { ChildHost } from "./child-host.ts";
import type { WorkerResult } from "./load-protocol.ts";
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
  readonly #host: ChildHost<SpiceDBHostRequest, SpiceDBHostReply>;

  private constructor(host: ChildHost<SpiceDBHostRequest, SpiceDBHostReply>) {
    this.#host = host;
  }

  /** start forks the host (with `heapMB` of V8 old space) and waits until it is up. */
  static async start(heapMB: number): Promise<SpiceDBProcess> {
    const host = ChildHost.fork<SpiceDBHostRequest, SpiceDBHostReply>("SpiceDB host", "bench/spicedb-host.ts", [], [`--max-old-space-size=${heapMB}`]);
    await host.next("ready");
    return new SpiceDBProcess(host);
  }

  /** load has the host generate the workload and write it into a fresh SpiceDB. */
  load(request: Omit<Extract<SpiceDBHostRequest, { type: "load" }>, "type">): Promise<Extract<SpiceDBHostReply, { type: "loaded" }>> {
    return this.#host.ask({ type: "load", ...request }, "loaded");
  }

  /** run checks the mix from `threads` threads for `durationMs` and returns each thread's result. */
  run(threads: number, durationMs: number, maxRequests: number): Promise<Extract<SpiceDBHostReply, { type: "result" }>> {
    return this.#host.ask({ type: "run", threads, durationMs, maxRequests }, "result");
  }

  /** stop disconnects the host (which disposes SpiceDB and exits) and waits for it to exit. */
  stop(): Promise<void> {
    return this.#host.stop();
  }
}
