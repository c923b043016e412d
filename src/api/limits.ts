import { ResourceExhaustedError } from "../tuple/index.ts";

/**
 * ApiLimits bound what one request may ask for. Requests past a count limit fail with
 * RESOURCE_EXHAUSTED naming the limit; a read page larger than `maxReadPageSize`, or a delete
 * `optional_limit` larger than `maxDeletesPerRequest`, fails with INVALID_ARGUMENT (as SpiceDB does
 * for its read and delete limits), as does a lookup `optional_limit` larger than
 * `maxLookupPageSize`; a DeleteRelationships without `optional_limit` that would delete
 * more than `maxDeletesPerRequest` relationships fails with RESOURCE_EXHAUSTED and deletes nothing;
 * messages larger than `maxMessageBytes` are refused by gRPC itself with RESOURCE_EXHAUSTED.
 * The per-key limits (`rateLimitPerSecond`, `rateLimitBurst`, `maxStreamsPerKey`) are enforced
 * before the handler runs, by perKeyLimitsInterceptor, also with RESOURCE_EXHAUSTED.
 */
export interface ApiLimits {
  readonly maxUpdatesPerWrite: number;
  readonly maxPreconditionsPerWrite: number;
  readonly maxChecksPerBatch: number;
  readonly maxReadPageSize: number;
  /** maxLookupPageSize bounds `optional_limit` of LookupResources and LookupSubjects (0, no cap, is always allowed). */
  readonly maxLookupPageSize: number;
  readonly maxDeletesPerRequest: number;
  readonly maxMessageBytes: number;
  /**
   * rateLimitPerSecond is how many calls per second one caller key may start on average, counted
   * per server process (each replica has its own buckets); 0 turns the rate limit off.
   */
  readonly rateLimitPerSecond: number;
  /** rateLimitBurst is how many calls one caller key may start at once before the rate applies; 0 means equal to rateLimitPerSecond. */
  readonly rateLimitBurst: number;
  /** maxStreamsPerKey bounds the streaming calls (Watch, Lookup*, Read, Export, Import) one caller key has open at a time; 0 turns it off. */
  readonly maxStreamsPerKey: number;
}

/** DEFAULT_API_LIMITS are SpiceDB's defaults where it has one. */
export const DEFAULT_API_LIMITS: ApiLimits = {
  maxUpdatesPerWrite: 1000,
  maxPreconditionsPerWrite: 1000,
  maxChecksPerBatch: 1000,
  maxReadPageSize: 1000,
  // SpiceDB's default maximum lookup limit (--max-lookup-resources-limit).
  maxLookupPageSize: 1000,
  // SpiceDB's default delete limit: one revision stays a bounded transaction.
  maxDeletesPerRequest: 10_000,
  maxMessageBytes: 4 * 1024 * 1024,
  // Off: only the operator knows what a replica can take, and with authentication off every
  // client shares the one key `anonymous`, so a default rate would throttle them all together.
  rateLimitPerSecond: 0,
  rateLimitBurst: 0,
  // Far above what one well-behaved client keeps open (a few Watches, some lookups in flight),
  // low enough that one key cannot hold thousands of streams and their buffers.
  maxStreamsPerKey: 100,
};

/**
 * enforceCountLimit throws ResourceExhaustedError naming `field` and the limit when `count`
 * exceeds `limit`, e.g. "updates: 1001 updates exceed the limit of 1000 (maxUpdatesPerWrite)".
 */
export function enforceCountLimit(count: number, limit: number, field: string, what: string, limitName: keyof ApiLimits): void {
  if (count > limit) {
    throw new ResourceExhaustedError(`${field}: ${count} ${what} exceed the limit of ${limit} per request (${limitName})`, { field });
  }
}
