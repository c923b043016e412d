import type { Revision } from "../tuple/index.ts";
import type { GraphIndexView } from "./graph-types.ts";

/** GraphLogger is the slice of a pino logger the index logs through (graph does not own pino). */
export interface GraphLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** GraphIndexFollowerOptions tune the initial load and the following. */
export interface GraphIndexFollowerOptions {
  /** pageSize: relationships per store read during the initial load (default 10,000). */
  readonly pageSize?: number | undefined;
  /** logger: progress of the initial load (every ~100k relationships and at the end, with the time taken), watch restarts. */
  readonly logger?: GraphLogger | undefined;
  /** retryMs: the longest wait between attempts to resume a watch the store broke off (default 2,000). */
  readonly retryMs?: number | undefined;
  /**
   * maxChanges: the most relationship changes of one revision applied as a change set (default
   * 10,000). A bigger revision (a bulk import) is not applied but loaded: a fresh index is read at
   * the head in pages, in the background, and swapped in (see GraphIndexFollower).
   */
  readonly maxChanges?: number | undefined;
}

/**
 * GraphIndexFollower keeps a graph index equal to the store: `start` loads every live relationship
 * (and the schema) at the head, then follows the store's watch with checkpoints, applying each
 * change set in one synchronous step. If the watch fails (the store is unreachable), it retries
 * with backoff, and `following` is false meanwhile; if it fell behind garbage collection, it
 * reloads. A revision with more than `maxChanges` changes is not applied either: a fresh index is
 * loaded at the head while the current one keeps answering at its own revision (`following` stays
 * true: it is consistent, only older), then replaces it, and the watch resumes from the fresh
 * index's revision (so writes committed during the load are applied after it). The index never
 * goes backwards.
 */
export interface GraphIndexFollower {
  readonly index: GraphIndexView;
  /** following is true while the watch is running and has caught up with the head once. */
  readonly following: boolean;
  /**
   * waitFor resolves true as soon as index.revision >= `revision`, false after `timeoutMs` or when
   * `signal` aborts or the follower stops.
   */
  waitFor(revision: Revision, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** onAdvance registers a listener called after each change set is applied or a reloaded index is swapped in; returns its remover. */
  onAdvance(listener: (revision: Revision) => void): () => void;
  /** stop ends the watch; the index keeps its last state. */
  stop(): Promise<void>;
}
