// Package schema: SpiceDB's schema language, compiled to a typed model, and relationship validation against it.
export type {
  Schema,
  Definition,
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
export {
  validateRelationship,
  validateRelationshipForDelete,
  lookupDefinition,
  lookupRelationOrPermission,
  findRelationOrPermission,
} from "./relationship-validator.ts";
export type { RelationOrPermission } from "./relationship-validator.ts";
export { removedSubjectPatterns } from "./schema-change.ts";
export type { RelationshipPattern } from "./schema-change.ts";
