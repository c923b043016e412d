/**
 * KeyedStreamSlots counts the streams each key has open against a maximum per key. tryAcquire
 * takes a slot and returns the function that gives it back (idempotent: calling it twice frees
 * one slot), or undefined when the key already holds `maxPerKey` slots.
 */
export class KeyedStreamSlots {
  readonly #maxPerKey: number;
  readonly #open = new Map<string, number>();

  constructor(maxPerKey: number) {
    if (!(maxPerKey >= 1)) throw new RangeError(`stream slots need a maximum of at least 1 (got ${maxPerKey})`);
    this.#maxPerKey = maxPerKey;
  }

  /** tryAcquire takes one of `key`'s slots; see the class comment. */
  tryAcquire(key: string): (() => void) | undefined {
    const open = this.#open.get(key) ?? 0;
    if (open >= this.#maxPerKey) return undefined;
    this.#open.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const remaining = (this.#open.get(key) ?? 1) - 1;
      // Keys without open streams are forgotten, so the map holds only keys streaming now.
      if (remaining === 0) this.#open.delete(key);
      else this.#open.set(key, remaining);
    };
  }

  /** openStreams is how many slots `key` holds now. */
  openStreams(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}
