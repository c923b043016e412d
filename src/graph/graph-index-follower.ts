import { BugError, FailedPreconditionError, InvalidArgumentError } from "../tuple/index.ts";
import type { Revision } from "../tuple/index.ts";
import type { Store } from "../store/index.ts";
import type { GraphIndexFollower, GraphIndexFollowerOptions } from "./graph-follower-types.ts";
import { BROKEN_REVISION } from "./graph-index.ts";
import type { GraphIndex } from "./graph-index.ts";
import type { GraphIndexView } from "./graph-types.ts";
import { loadGraphIndex } from "./load-graph-index.ts";

const DEFAULT_RETRY_MS = 2_000;
const FIRST_RETRY_MS = 50;
// Applying a change set blocks the event loop for as long as it takes (with closure maintenance,
// 10M changes took 369 s and 6 GB); a paged load of the same takes ~93 s and lets requests in
// between pages. Up to this many changes, applying is the cheaper of the two by far.
const DEFAULT_MAX_CHANGES = 10_000;

/**
 * startGraphIndexFollower loads the index at the store's head (resolving once it is loaded) and
 * follows the store's watch from there, in the background, until `stop`. Throws
 * InvalidArgumentError naming `maxChanges` unless it is undefined or a positive integer.
 */
export async function startGraphIndexFollower(store: Store, options: GraphIndexFollowerOptions = {}): Promise<GraphIndexFollower> {
  const { maxChanges } = options;
  if (maxChanges !== undefined && !(Number.isSafeInteger(maxChanges) && maxChanges >= 1)) {
    throw new InvalidArgumentError(`maxChanges: must be a positive integer, got ${String(maxChanges)}`, { field: "maxChanges" });
  }
  const index = await loadGraphIndex(store, options);
  return new StoreGraphIndexFollower(store, index, options);
}

interface Waiter {
  readonly revision: Revision;
  readonly resolve: (reached: boolean) => void;
}

/**
 * StoreGraphIndexFollower is the GraphIndexFollower over a Store. Failures and their handling:
 * - the watch breaks off (store unreachable): `following` turns false and the watch resumes from
 *   the index's revision after a backoff doubling from 50 ms up to `retryMs`;
 * - the watch fell behind garbage collection (FailedPreconditionError), or applying a change set
 *   hit an impossible state (BugError): a fresh index is loaded at the head and replaces this one
 *   (`index` then returns the new object; the head is never older, so the index never goes back);
 * - the watch reports a revision with more than `maxChanges` changes (WatchOptions.maxChanges): the
 *   watch is closed and a fresh index is loaded at the head (at or after that revision) while the
 *   current one keeps answering at its revision, unchanged; then it replaces it, waiters and
 *   listeners are told, and the watch resumes from the fresh index's revision, which delivers what
 *   was committed during the load. `following` stays true meanwhile: the current index is still
 *   exactly the store as of its revision, which is what a reader of `index` is promised (a reader
 *   that needs a newer revision waits for it with `waitFor`, or reads the store).
 */
class StoreGraphIndexFollower implements GraphIndexFollower {
  readonly #store: Store;
  readonly #options: GraphIndexFollowerOptions;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<(revision: Revision) => void>();
  readonly #waiters = new Set<Waiter>();
  readonly #running: Promise<void>;
  #index: GraphIndex;
  #following = false;
  #stopped = false;
  // The head read when the current watch started: `following` turns true once it is reached.
  #catchUpTarget: Revision = Number.POSITIVE_INFINITY;

  constructor(store: Store, index: GraphIndex, options: GraphIndexFollowerOptions) {
    this.#store = store;
    this.#index = index;
    this.#options = options;
    this.#running = this.#run();
  }

  get index(): GraphIndexView {
    return this.#index;
  }

  get following(): boolean {
    return this.#following;
  }

  waitFor(revision: Revision, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#index.revision >= revision) return Promise.resolve(true);
    if (this.#stopped || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (reached: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#waiters.delete(waiter);
        resolve(reached);
      };
      const onAbort = (): void => finish(false);
      const waiter: Waiter = { revision, resolve: finish };
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  onAdvance(listener: (revision: Revision) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#following = false;
    this.#abort.abort();
    await this.#running;
    for (const waiter of [...this.#waiters]) waiter.resolve(false);
  }

  async #run(): Promise<void> {
    // Why the index must be loaded afresh before the watch resumes, if it must.
    let reload: string | undefined;
    let attempt = 0;
    while (!this.#stopped) {
      try {
        if (reload !== undefined) {
          await this.#reload(reload);
          if (this.#stopped) return;
          reload = undefined;
        }
        const oversized = await this.#follow(() => {
          attempt = 0;
        });
        if (oversized !== undefined) {
          reload = `revision ${oversized} changed more than ${this.#maxChanges} relationships`;
          continue;
        }
        // A watch ends by itself only when its store is going away: retried like a failure.
        if (!this.#stopped) throw new Error("the store's watch ended");
      } catch (error) {
        if (this.#stopped) return;
        this.#following = false;
        // A load that failed otherwise is not retried as such: the watch resumes from the current
        // index, and an oversized revision it then meets again asks for the load again.
        // A failed apply leaves the index at BROKEN_REVISION, whatever it threw: only a reload mends it.
        const cannotFollow = error instanceof FailedPreconditionError || error instanceof BugError || this.#index.revision === BROKEN_REVISION;
        reload = cannotFollow ? "the index cannot follow the store from its revision" : undefined;
        const delayMs = Math.min(this.#options.retryMs ?? DEFAULT_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
        attempt++;
        this.#options.logger?.warn(
          { err: error, revision: this.#index.revision, retryInMs: delayMs, reload: reload !== undefined },
          reload !== undefined ? "graph index: cannot follow the store from its revision; reloading" : "graph index: the store's watch failed; retrying",
        );
        await sleep(delayMs, this.#abort.signal);
      }
    }
  }

  // Loads a fresh index at the head, in pages (the current index keeps answering meanwhile), and
  // swaps it in. The head is read after every revision the current index holds was reported as
  // committed, so the fresh index is never older; should it be, that is a bug, and reloading again
  // is the way out (BugError).
  async #reload(reason: string): Promise<void> {
    const from = this.#index.revision;
    const started = performance.now();
    this.#options.logger?.info({ revision: from, reason }, "graph index: reloading in the background");
    const fresh = await loadGraphIndex(this.#store, { ...this.#options, signal: this.#abort.signal });
    if (this.#stopped) return;
    if (fresh.revision < this.#index.revision) {
      throw new BugError(`graph index: a reload read revision ${fresh.revision}, older than the index's revision ${this.#index.revision}`);
    }
    this.#index = fresh;
    this.#options.logger?.info(
      { from, revision: fresh.revision, relationships: fresh.stats().relationships, ms: Math.round(performance.now() - started) },
      "graph index: reloaded",
    );
    this.#advanced();
  }

  // Follows the watch from the index's revision until it is stopped (or the watch throws), or until
  // it reports an oversized revision, which it returns (having closed the watch).
  async #follow(onChangeSet: () => void): Promise<Revision | undefined> {
    this.#catchUpTarget = await this.#store.headRevision();
    this.#updateFollowing();
    const watch = this.#store.watch(this.#index.revision, this.#abort.signal, { checkpoints: true, maxChanges: this.#maxChanges });
    for await (const changeSet of watch) {
      if (this.#stopped) return undefined;
      onChangeSet();
      if (changeSet.oversized === true) return changeSet.revision;
      // A checkpoint that tells nothing new is harmless; a change set from the past is a bug (apply).
      if (changeSet.changes.length === 0 && !changeSet.schemaChanged && changeSet.revision <= this.#index.revision) continue;
      // A schema change set carries the text written at its revision (never readSchema(), which may
      // already return a newer schema: the index would pair this revision with another's schema).
      // Without the text, apply throws BugError and the index is reloaded.
      this.#index.apply(changeSet);
      this.#updateFollowing();
      this.#advanced();
    }
    return undefined;
  }

  get #maxChanges(): number {
    return this.#options.maxChanges ?? DEFAULT_MAX_CHANGES;
  }

  #updateFollowing(): void {
    if (this.#index.revision >= this.#catchUpTarget) this.#following = true;
  }

  #advanced(): void {
    const revision = this.#index.revision;
    for (const waiter of [...this.#waiters]) if (waiter.revision <= revision) waiter.resolve(true);
    for (const listener of [...this.#listeners]) {
      try {
        listener(revision);
      } catch (error) {
        this.#options.logger?.warn({ err: error, revision }, "graph index: an onAdvance listener threw");
      }
    }
  }
}

// Resolves after `ms`, or at once when `signal` aborts.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
