import { BugError } from "../tuple/index.ts";
import { subproblemKey } from "./dispatcher.ts";
import type { DispatchCheckRequest, DispatchCheckResult, Dispatcher } from "./dispatcher.ts";

/**
 * RequestMemoDispatcher remembers subproblem answers for the lifetime of one request (one check,
 * or every item of one batch), so that a subproblem reached along several paths is computed once.
 * It keeps only answers that did not depend on a cycle cut (`cycleCuts` empty): such an answer may
 * be a false negative elsewhere. A remembered answer is reused only where enough depth remains to
 * have computed it, so that memoization never turns a depth error into an answer.
 */
export class RequestMemoDispatcher implements Dispatcher {
  readonly #maxDepth: number;
  readonly #memo = new Map<string, DispatchCheckResult>();
  #delegate: Dispatcher | undefined;

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
  }

  /** setDelegate sets the dispatcher that computes what is not remembered; call it once, before use. */
  setDelegate(delegate: Dispatcher): void {
    this.#delegate = delegate;
  }

  async dispatchCheck(request: DispatchCheckRequest): Promise<DispatchCheckResult> {
    if (this.#delegate === undefined) throw new BugError("RequestMemoDispatcher used before setDelegate");
    const key = subproblemKey(request);
    const remembered = this.#memo.get(key);
    if (remembered !== undefined && request.depth - 1 + remembered.depthRequired <= this.#maxDepth) {
      return remembered;
    }
    const result = await this.#delegate.dispatchCheck(request);
    if (result.cycleCuts === undefined) this.#memo.set(key, result);
    return result;
  }
}
