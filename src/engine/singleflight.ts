/**
 * Singleflight runs one computation per key at a time: a caller that asks for a key already in
 * flight gets the same promise (resolved or rejected alike) instead of starting a second one.
 * The key is forgotten as soon as its computation settles, so nothing is remembered afterwards.
 */
export class Singleflight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /** run returns the in-flight promise for `key`, or starts `compute` for it. */
  run(key: string, compute: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const started = compute().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }
}
