import type { Metadata } from "@grpc/grpc-js";
import type { ApiKeyRole } from "../store/index.ts";

/** Role is what an API key may do: `read` (Check, Lookup, Read, Watch, Expand, ListDelegations), `write` (also relationship writes and delegation grants/revocations), `admin` (also schema and key management). */
export type Role = ApiKeyRole;

/**
 * CALLER_KEY_HEADER is the request metadata key under which the authentication interceptor
 * records the id of the API key a call authenticated with (`anonymous` when authentication is
 * off). The interceptor removes any value a client sent under this name first, so that later
 * interceptors and handlers (rate limits, per-key stream limits, metrics, logs) can trust it.
 */
export const CALLER_KEY_HEADER = "x-mandate-caller-key";

/** ANONYMOUS_CALLER is the caller key of every call when authentication is off. */
export const ANONYMOUS_CALLER = "anonymous";

/** callerKeyOf returns the caller key the authentication interceptor recorded (ANONYMOUS_CALLER if none). */
export function callerKeyOf(metadata: Metadata): string {
  const value = metadata.get(CALLER_KEY_HEADER)[0];
  return typeof value === "string" && value !== "" ? value : ANONYMOUS_CALLER;
}
