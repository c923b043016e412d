import type { GraphIndexFollower } from "../graph/index.ts";

/** IndexProgress is what readiness needs of a graph index follower. */
export type IndexProgress = Pick<GraphIndexFollower, "following">;

/** READINESS_POLL_MS is how often ReadinessMonitor looks at the follower (a field read: cheap). */
export const READINESS_POLL_MS = 100;

/**
 * ReadinessMonitor tells `onChange` whether the server is ready: true once the graph index
 * follows the store (its watch runs and it has caught up with the store's head; see
 * GraphIndexFollower.following), false while it does not (at start, or while the store's watch
 * fails and the index falls behind). Without a follower the server is ready at once. `onChange`
 * hears the first state at `start` and then each change; the follower is polled, because it
 * announces advances but not the loss of its watch.
 *
 * A background reload (a bulk import) does not make the server unready: the old index keeps
 * answering consistently at its revision, and reads that need newer data wait or go to the store;
 * taking every replica out of rotation during the same import would be worse.
 */
export class ReadinessMonitor {
  readonly #follower: IndexProgress | undefined;
  readonly #onChange: (ready: boolean) => void;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #ready: boolean | undefined;

  constructor(follower: IndexProgress | undefined, onChange: (ready: boolean) => void, intervalMs = READINESS_POLL_MS) {
    this.#follower = follower;
    this.#onChange = onChange;
    this.#intervalMs = intervalMs;
  }

  /** start reports the current state and keeps watching until stop; a second start does nothing. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#check();
    this.#timer = setInterval(() => this.#check(), this.#intervalMs);
    // Never the reason the process stays up.
    this.#timer.unref();
  }

  /** stop ends the watching; onChange is not called again. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const ready = this.#follower === undefined || this.#follower.following;
    if (ready === this.#ready) return;
    this.#ready = ready;
    this.#onChange(ready);
  }
}
