import { FailedPreconditionError, ResourceExhaustedError, formatRelationship } from "../tuple/index.ts";
import type { Relationship, Revision } from "../tuple/index.ts";
import { AlreadyExistsError } from "./errors.ts";
import type { Precondition } from "./store.ts";

// Errors shared by every Store implementation, so that a client sees the same words whichever
// store answers (the API passes these messages on).

/** revisionNewerThanHead is the error for a revision (`field`) this store has not reached yet. */
export function revisionNewerThanHead(revision: Revision, head: Revision, field: string): FailedPreconditionError {
  return new FailedPreconditionError(`${field}: ${revision} is newer than the head revision ${head} of this store`, { field });
}

/**
 * revisionOlderThanHistory is the error for a revision (`field`) whose history garbage collection
 * removed; `window` describes the kept history when the caller knows it, e.g. "24h".
 */
export function revisionOlderThanHistory(revision: Revision, oldest: Revision, field: string, window?: string): FailedPreconditionError {
  const kept = window === undefined ? `the kept history (oldest kept revision ${oldest})` : `the kept history (${window}; oldest kept revision ${oldest})`;
  return new FailedPreconditionError(`${field}: revision ${revision} is older than ${kept}; use a newer consistency token`, { field });
}

/** importConflict is the error for a relationship (`key`, its text form) that an import would create while it is live, or twice. */
export function importConflict(key: string): AlreadyExistsError {
  return new AlreadyExistsError(`relationships: cannot import ${key}: it is already live or appears twice in the input; nothing was imported`, {
    field: "relationships",
  });
}

/** createConflict is the error for `updates[index]`, a create of `key` (its text form) while it is live. */
export function createConflict(index: number, key: string): AlreadyExistsError {
  return new AlreadyExistsError(`updates[${index}]: cannot create ${key}: it already exists (touch replaces an existing relationship)`, {
    field: `updates[${index}]`,
  });
}

/** preconditionFailed is the error for `preconditions[index]`; `found` is the first live match of a failed must_not_match. */
export function preconditionFailed(index: number, operation: Precondition["operation"], found: Relationship | undefined): FailedPreconditionError {
  const why = operation === "must_match" ? "must_match failed: no live relationship matches the filter" : `must_not_match failed: ${found === undefined ? "a relationship" : formatRelationship(found)} matches the filter`;
  return new FailedPreconditionError(`preconditions[${index}]: ${why}`, { field: `preconditions[${index}]` });
}

/** deleteLimitExceeded is the error for a deleteByFilter that would delete `count` relationships, more than `limit`. */
export function deleteLimitExceeded(limit: number, count: number): ResourceExhaustedError {
  return new ResourceExhaustedError(`limit: more than ${limit} relationships match the filter (${count}); nothing was deleted`, { field: "limit" });
}
