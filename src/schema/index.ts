// Package schema: SpiceDB's schema language, compiled to a typed model, and relationship validation against it.
export type {
  Schema,
  Definition,
  Delegation,
  DelegationPrincipal,
  ScopeEntry,
  Relation,
  AllowedSubject,
  Permission,
  PermissionExpression,
  CaveatDefinition,
  CaveatParameterType,
} from "./model.ts";
export { SchemaError } from "./errors.ts";
export type { SchemaDiagnostic } from "./errors.ts";
export { compileSchema } from "./compiler.ts";
export { lookupDefinition } from "./lookup-definition.ts";
export {
  validateRelationship,
  validateRelationshipForDelete,
  lookupRelationOrPermission,
  findRelationOrPermission,
} from "./relationship-validator.ts";
export type { RelationOrPermission } from "./relationship-validator.ts";
export { validateCaveatContext, validateCaveatValue, caveatNumber, decodeBase64, parseDuration, parseTimestamp } from "./caveat-context.ts";
export type { Timestamp } from "./caveat-context.ts";
export { parseWholeDuration } from "./lifetime.ts";
export { parseIpAddress, ipInCidr, formatIpAddress } from "./ip-address.ts";
export { removedSubjectPatterns } from "./schema-change.ts";
export type { RelationshipPattern } from "./schema-change.ts";
export {
  DELEGATION_CAVEAT,
  MAX_BUDGET,
  grantToRelationship,
  grantFromRelationship,
  validateGrant,
  scopeCovers,
  scopeWithin,
  parseScopeEntry,
  formatScopeEntry,
} from "./delegation-grant.ts";
export type { DelegationGrant } from "./delegation-grant.ts";
