// Package tuple: objects, subjects, relationships and revisions, and their SpiceDB text forms.
export type { ErrorCode } from "./authz-error.ts";
export {
  AuthzError,
  InvalidArgumentError,
  FailedPreconditionError,
  NotFoundError,
  ResourceExhaustedError,
  UnauthenticatedError,
  PermissionDeniedError,
  BugError,
  assertNever,
} from "./authz-error.ts";
export { InvalidRelationshipError } from "./errors.ts";
export type { Revision, ObjectRef, SubjectRef, CaveatRef, Relationship } from "./relationship.ts";
export { WILDCARD_ID } from "./relationship.ts";
export { objectIdHash } from "./object-id-hash.ts";
export { validateTypeName, validateRelationName, validateCaveatName, validateObjectId } from "./names.ts";
export {
  parseObjectRef,
  parseSubjectRef,
  parseRelationship,
  formatObjectRef,
  formatSubjectRef,
  formatRelationship,
  relationshipKey,
} from "./relationship-text.ts";
