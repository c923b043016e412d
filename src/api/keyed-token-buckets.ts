import { performance } from "node:perf_hooks";

// Past this many tracked keys, buckets that have refilled completely are dropped when a new key
// arrives: a full bucket is exactly what an unknown key gets, so forgetting it changes nothing.
const PRUNE_ABOVE_KEYS = 1024;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * KeyedTokenBuckets is one token bucket per key, in memory: each holds up to `burst` tokens,
 * refills at `ratePerSecond` tokens per second, and tryTake spends one. A key seen for the first
 * time starts full, so a client may send `burst` requests at once and then `ratePerSecond` per
 * second on average. Keys never affect each other. `now` (milliseconds, monotonic) is injectable
 * so tests control time.
 */
export class KeyedTokenBuckets {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(ratePerSecond: number, burst: number, now: () => number = () => performance.now()) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs a positive rate and a burst of at least 1 (got ${ratePerSecond}, ${burst})`);
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
  }

  /** tryTake spends one of `key`'s tokens and returns true, or returns false (spending nothing) when it has none left. */
  tryTake(key: string): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= PRUNE_ABOVE_KEYS) this.#pruneFull(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = this.#refilled(bucket, now);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** hasToken tells whether `key` has a token left, spending none. */
  hasToken(key: string): boolean {
    const bucket = this.#buckets.get(key);
    return bucket === undefined || this.#refilled(bucket, this.#now()) >= 1;
  }

  #refilled(bucket: Bucket, now: number): number {
    // max(0, …): a clock that steps back must not drain a bucket.
    return Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.at) * this.#ratePerMs);
  }

  #pruneFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (this.#refilled(bucket, now) >= this.#burst) this.#buckets.delete(key);
    }
  }
}
