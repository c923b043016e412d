import type { GraphIndexStats } from "../graph/index.ts";

/**
 * ServiceStats is what a running service reports about itself (the bench reads it; metrics will
 * too): the engine's cache and fast-path counters since start, and the graph index.
 */
export interface ServiceStats {
  readonly cache: { readonly hits: number; readonly misses: number; readonly entries: number };
  /** indexed: checks answered on the graph index; fallbacks: checks answered by the plain walk on the store. */
  readonly indexed: number;
  readonly fallbacks: number;
  readonly index: GraphIndexStats | undefined;
  readonly rssBytes: number;
}

/** RunningService is a started `mandate serve`: where it listens, its stats, and how to stop it. */
export interface RunningService {
  readonly port: number;
  /** metricsPort is where the Prometheus metrics endpoint listens, if --metrics-port asked for one. */
  readonly metricsPort?: number | undefined;
  /** description names the datastore for logs, without credentials (e.g. "pglite ./data"). */
  readonly description: string;
  stats(): ServiceStats;
  /** stop shuts the server down (in-flight calls finish), stops the index and closes the store. */
  stop(): Promise<void>;
}
