import { BugError } from "../tuple/index.ts";
import type { DispatchCheckRequest, DispatchCheckResult, Dispatcher } from "./dispatcher.ts";
import { DispatchLimitExceededError, RequestAbortedError } from "./errors.ts";

/** YIELD_EVERY is how many dispatches a check may run before it lets other work use the event loop. */
const YIELD_EVERY = 1_000;

/** BudgetDispatcherOptions bound one check: `maxDispatches` per item, `signal` to abort it. */
export interface BudgetDispatcherOptions {
  readonly maxDispatches: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * BudgetDispatcher is the outermost decorator of a request's dispatcher chain. It counts every
 * subproblem (memoized ones included) and fails the check with DispatchLimitExceededError past
 * `maxDispatches`; it fails it with RequestAbortedError once `signal` is aborted; and every
 * YIELD_EVERY dispatches it waits for the next turn of the event loop, so that one long check
 * cannot keep a server from answering anything else. `startItem` resets the count for the next
 * item of a batch, so that the limit is per check.
 */
export class BudgetDispatcher implements Dispatcher {
  readonly #options: BudgetDispatcherOptions;
  #delegate: Dispatcher | undefined;
  #dispatches = 0;

  constructor(options: BudgetDispatcherOptions) {
    this.#options = options;
  }

  /** setDelegate sets the dispatcher that does the work; call it once, before use. */
  setDelegate(delegate: Dispatcher): void {
    this.#delegate = delegate;
  }

  /** startItem begins a new check's budget. */
  startItem(): void {
    this.#dispatches = 0;
  }

  async dispatchCheck(request: DispatchCheckRequest): Promise<DispatchCheckResult> {
    if (this.#delegate === undefined) throw new BugError("BudgetDispatcher used before setDelegate");
    const { maxDispatches, signal } = this.#options;
    this.#dispatches += 1;
    if (this.#dispatches > maxDispatches) throw new DispatchLimitExceededError(maxDispatches);
    if (this.#dispatches % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted === true) throw new RequestAbortedError("check", signal.reason);
    return this.#delegate.dispatchCheck(request);
  }
}
