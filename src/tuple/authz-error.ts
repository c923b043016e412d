/**
 * ErrorCode is the domain classification of a failure. `api/errors.ts` is the only place that maps
 * it to a gRPC status code; every other module speaks in these terms.
 */
export type ErrorCode =
  | "invalid_argument"
  | "failed_precondition"
  | "not_found"
  | "already_exists"
  | "resource_exhausted"
  | "unavailable"
  | "aborted"
  | "unauthenticated"
  | "permission_denied"
  | "internal";

/**
 * AuthzError is the base of every error Mandate raises on purpose. `field` names the request field
 * (or schema position) at fault, so that a client can tell exactly what to fix.
 */
export abstract class AuthzError extends Error {
  abstract readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
  }
}

/** InvalidArgumentError reports input that can never be valid, whatever the stored data. */
export class InvalidArgumentError extends AuthzError {
  override name = "InvalidArgumentError";
  readonly code = "invalid_argument";
}

/** FailedPreconditionError reports input that is valid in form but conflicts with stored state. */
export class FailedPreconditionError extends AuthzError {
  override name = "FailedPreconditionError";
  readonly code = "failed_precondition";
}

/** NotFoundError reports a reference to something that does not exist (a definition, a relation). */
export class NotFoundError extends AuthzError {
  override name = "NotFoundError";
  readonly code = "not_found";
}

/** ResourceExhaustedError reports a limit that was exceeded; the message names the limit. */
export class ResourceExhaustedError extends AuthzError {
  override name = "ResourceExhaustedError";
  readonly code = "resource_exhausted";
}

/**
 * UnauthenticatedError: the call carried no credentials, or ones that are not (or no longer)
 * valid. The message says which, and never quotes a secret.
 */
export class UnauthenticatedError extends AuthzError {
  override name = "UnauthenticatedError";
  readonly code = "unauthenticated";
}

/** PermissionDeniedError: the caller is authenticated but its role may not make this call; the message names the role needed. */
export class PermissionDeniedError extends AuthzError {
  override name = "PermissionDeniedError";
  readonly code = "permission_denied";
}

/**
 * BugError marks a state the code believes impossible. It surfaces as INTERNAL with a `BUG:` prefix
 * so that it is never mistaken for bad input.
 */
export class BugError extends AuthzError {
  override name = "BugError";
  readonly code = "internal";

  constructor(message: string) {
    super(`BUG: ${message}`);
  }
}

/** assertNever ends every exhaustive switch: reaching it means a case was added and not handled. */
export function assertNever(value: never, what = "value"): never {
  throw new BugError(`unhandled ${what}: ${JSON.stringify(value)}`);
}
