import { AuthzError } from "../tuple/index.ts";

/** AlreadyExistsError: a `create` named a relationship that is already live. */
export class AlreadyExistsError extends AuthzError {
  override name = "AlreadyExistsError";
  readonly code = "already_exists";
}

/** AbortedError: the write raced with a schema change and was not applied; retrying may succeed. */
export class AbortedError extends AuthzError {
  override name = "AbortedError";
  readonly code = "aborted";
}

/** StoreUnavailableError: the store cannot be reached; retrying later may succeed. */
export class StoreUnavailableError extends AuthzError {
  override name = "StoreUnavailableError";
  readonly code = "unavailable";
}
