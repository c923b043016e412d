import { status } from "@grpc/grpc-js";
import type { Metadata } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ErrorCode } from "../tuple/index.ts";
import { AuthzError, assertNever } from "../tuple/index.ts";

// The only place that maps Mandate's error classification to gRPC status codes (STYLE.md habit 5).

/** grpcStatusFor maps a domain error code to its gRPC status code. */
export function grpcStatusFor(code: ErrorCode): status {
  switch (code) {
    case "invalid_argument":
      return status.INVALID_ARGUMENT;
    case "failed_precondition":
      return status.FAILED_PRECONDITION;
    case "not_found":
      return status.NOT_FOUND;
    case "already_exists":
      return status.ALREADY_EXISTS;
    case "resource_exhausted":
      return status.RESOURCE_EXHAUSTED;
    case "unavailable":
      return status.UNAVAILABLE;
    case "aborted":
      return status.ABORTED;
    case "unauthenticated":
      return status.UNAUTHENTICATED;
    case "permission_denied":
      return status.PERMISSION_DENIED;
    case "internal":
      return status.INTERNAL;
    default:
      return assertNever(code, "error code");
  }
}

/** GrpcErrorStatus is what a handler sends for a failed call: a status code and a client-safe message. */
export interface GrpcErrorStatus {
  readonly code: status;
  readonly details: string;
  readonly metadata?: Metadata | undefined;
}

/**
 * toGrpcStatus converts anything a handler threw into the status sent to the client, once, at the
 * edge. AuthzErrors keep their message (written for clients, naming the field), except those that
 * map to INTERNAL. Those, and anything else, become INTERNAL "internal error (request id X)": the
 * cause is logged at error level with `logger` and never sent, because it may carry internals
 * (SQL, paths, stack frames, a caveat context quoted by a BugError). X is the `requestId` binding
 * of `logger` (call-handler's per-call logger has one), so an operator can find the logged cause.
 */
export function toGrpcStatus(error: unknown, logger: Logger): GrpcErrorStatus {
  if (error instanceof AuthzError) {
    const code = grpcStatusFor(error.code);
    if (code !== status.INTERNAL) return { code, details: error.message };
  }
  // The per-call logger's line carries the request id already (a binding); the client gets it to quote.
  const requestId: unknown = logger.bindings()["requestId"];
  logger.error({ err: error }, "internal error");
  const reference = typeof requestId === "string" ? ` (request id ${requestId})` : "";
  return { code: status.INTERNAL, details: `internal error${reference}` };
}
