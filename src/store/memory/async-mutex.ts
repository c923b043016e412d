/**
 * AsyncMutex runs tasks one at a time, in the order `run` was called. A task that throws or
 * rejects releases the mutex like one that succeeds; its error reaches only its own caller.
 */
export class AsyncMutex {
  #tail: Promise<void> = Promise.resolve();

  /** run waits for every earlier task to settle, then runs `task` and settles with its outcome. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
