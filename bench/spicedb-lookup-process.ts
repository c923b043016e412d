// The harness's handle on the SpiceDB lookup host child process (bench/spicedb-lookup-host.ts).
import { ChildHost } from "./child-host.ts";
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
  readonly #host: ChildHost<SpiceDBLookupHostRequest, SpiceDBLookupHostReply>;

  private constructor(host: ChildHost<SpiceDBLookupHostRequest, SpiceDBLookupHostReply>) {
    this.#host = host;
  }

  /** start forks the host and waits until it is up. */
  static async start(heapMB: number): Promise<SpiceDBLookupProcess> {
    const host = ChildHost.fork<SpiceDBLookupHostRequest, SpiceDBLookupHostReply>("SpiceDB lookup host", "bench/spicedb-lookup-host.ts", [], [
      "--expose-gc",
      `--max-old-space-size=${heapMB}`,
    ]);
    await host.next("ready");
    return new SpiceDBLookupProcess(host);
  }

  /** load has the host generate the lookup workload and write it into a fresh SpiceDB (memory datastore). */
  load(size: WorkloadSize, seed: number): Promise<Extract<SpiceDBLookupHostReply, { type: "loaded" }>> {
    return this.#host.ask({ type: "load", size, seed }, "loaded");
  }

  /** memory returns the host's RSS (after a forced GC) and peak RSS; `resetPeak` starts a new peak afterwards. */
  memory(resetPeak: boolean): Promise<Extract<SpiceDBLookupHostReply, { type: "memory" }>> {
    return this.#host.ask({ type: "memory", resetPeak }, "memory");
  }

  /** stop disconnects the host (which disposes SpiceDB and exits) and waits for it to exit. */
  stop(): Promise<void> {
    return this.#host.stop();
  }
}
