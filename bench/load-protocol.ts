// The IPC messages between the load generator (load-generator.ts) and its worker processes (load-worker.ts).
import type { WireZedToken } from "../src/api/index.ts";
import type { BenchCheck } from "./workloads/index.ts";

/**
 * LoadMode is what a phase sends: `check` (CheckPermission, one check of the mix per request),
 * `bulk` (CheckBulkPermissions, `bulkSize` consecutive checks of the mix per request) or `health`
 * (grpc.health.v1 Health/Check on the same server: the no-op RPC, the transport limit).
 */
export type LoadMode = "check" | "bulk" | "health";

/** LoadWorkerRequest is what the generator asks a worker. */
export type LoadWorkerRequest =
  | {
      readonly type: "target";
      /** address of the server; checks ask at_least_as_fresh(token), the token of the load. */
      readonly address: string;
      readonly token: WireZedToken;
      readonly checks: readonly BenchCheck[];
      /** firstCheck: where in the mix this worker starts, so that workers do not send the same checks in step. */
      readonly firstCheck: number;
    }
  | { readonly type: "run"; readonly mode: LoadMode; readonly inFlight: number; readonly durationMs: number; readonly bulkSize: number; readonly maxRequests: number };

/** WorkerResult is one worker's share of a phase; latencies are per request, in ms. */
export interface WorkerResult {
  readonly requests: number;
  /** items: checks answered (requests × bulkSize in bulk mode). */
  readonly items: number;
  readonly seconds: number;
  readonly latencies: Float64Array;
  readonly latenciesByTag: Readonly<Record<string, Float64Array>>;
  readonly errors: number;
  readonly wrongAnswers: number;
  readonly problems: readonly string[];
}

/** LoadWorkerReply is what a worker sends: "ready" after each target, "result" after each run. */
export type LoadWorkerReply = { readonly type: "ready" } | { readonly type: "result"; readonly result: WorkerResult };
