import { AuthzError } from "../../tuple/index.ts";
import { AbortedError, StoreUnavailableError } from "../errors.ts";

// SQLSTATEs and Node socket codes that mean "the database cannot be reached right now": class 08
// (connection exception), admin/crash shutdown, cannot connect now, too many connections.
const UNAVAILABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "EAI_AGAIN"]);
// serialization_failure and deadlock_detected: the transaction lost a race and can be retried.
const ABORTED_CODES = new Set(["40001", "40P01"]);
// node-postgres reports some connection losses only in the message.
const UNAVAILABLE_MESSAGE = /Connection terminated|not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end/i;

/** sqlErrorCode is the SQLSTATE (or Node socket code) of a driver error, if it has one. */
export function sqlErrorCode(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/**
 * translateSqlError maps a driver error to the store's errors: a lost or refused connection to
 * StoreUnavailableError, a serialization failure or deadlock to AbortedError. Their messages say
 * what happened and never carry SQL; the driver error stays in `cause`, for logs only. Anything
 * else (AuthzErrors included) is returned unchanged.
 */
export function translateSqlError(error: unknown): unknown {
  if (error instanceof AuthzError) return error;
  const code = sqlErrorCode(error);
  if (code !== undefined && ABORTED_CODES.has(code)) {
    return new AbortedError("the transaction conflicted with a concurrent one and was rolled back; retry", { cause: error });
  }
  if ((code !== undefined && (code.startsWith("08") || UNAVAILABLE_CODES.has(code))) || (error instanceof Error && UNAVAILABLE_MESSAGE.test(error.message))) {
    return new StoreUnavailableError("the datastore is unavailable (connection refused or lost); retry later", { cause: error });
  }
  return error;
}
