import { FailedPreconditionError, InvalidArgumentError, WILDCARD_ID } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import { findRelationOrPermission } from "../schema/index.ts";
import type { Schema } from "../schema/index.ts";
import type { CheckRequest } from "./engine-types.ts";
import type { LookupResourcesRequest, LookupSubjectsRequest } from "./lookup-types.ts";

/**
 * validateCheckRequest rejects a check the schema cannot answer, before any data is read, as
 * SpiceDB does: a wildcard subject (InvalidArgumentError, `subject.id`), then an unknown resource
 * definition (`resource.type`), relation or permission (`permission`), subject definition
 * (`subject.type`) or subject relation (`subject.relation`), each a FailedPreconditionError.
 */
export function validateCheckRequest(schema: Schema, request: CheckRequest): void {
  const { subject } = request;
  if (subject.id === WILDCARD_ID) {
    throw new InvalidArgumentError(`subject.id: cannot check a wildcard subject (${subject.type}:*); check a concrete subject`, {
      field: "subject.id",
    });
  }
  validateResourcePermission(schema, request.resource, request.permission);
  const subjectDefinition = schema.definitions.get(subject.type);
  if (subjectDefinition === undefined) {
    throw new FailedPreconditionError(`subject.type: object definition \`${subject.type}\` not found in the schema`, {
      field: "subject.type",
    });
  }
  if (subject.relation !== undefined && findRelationOrPermission(schema, subject.type, subject.relation) === undefined) {
    throw new FailedPreconditionError(
      `subject.relation: relation/permission \`${subject.relation}\` not found under definition \`${subject.type}\``,
      { field: "subject.relation" },
    );
  }
}

/**
 * validateResourcePermission rejects an unknown resource definition (`resource.type`) or a name
 * that is neither a relation nor a permission of it (`permission`), as FailedPreconditionError.
 */
export function validateResourcePermission(schema: Schema, resource: ObjectRef, permission: string): void {
  const definition = schema.definitions.get(resource.type);
  if (definition === undefined) {
    throw new FailedPreconditionError(`resource.type: object definition \`${resource.type}\` not found in the schema`, {
      field: "resource.type",
    });
  }
  if (findRelationOrPermission(schema, resource.type, permission) === undefined) {
    throw new FailedPreconditionError(
      `permission: relation/permission \`${permission}\` not found under definition \`${resource.type}\``,
      { field: "permission" },
    );
  }
}

/**
 * validateLookupResourcesRequest rejects what validateCheckRequest would for any resource of the
 * type, naming the lookup's own fields: `resourceType`, `permission`, `subject.id` (a wildcard),
 * `subject.type`, `subject.relation`.
 */
export function validateLookupResourcesRequest(schema: Schema, request: LookupResourcesRequest): void {
  try {
    validateCheckRequest(schema, { resource: { type: request.resourceType, id: "" }, permission: request.permission, subject: request.subject });
  } catch (error) {
    throw renamedField(error, "resource.type", "resourceType");
  }
}

/**
 * validateLookupSubjectsRequest rejects an unknown resource definition (`resource.type`),
 * permission (`permission`), subject definition (`subjectType`) or subject relation
 * (`subjectRelation`), each a FailedPreconditionError.
 */
export function validateLookupSubjectsRequest(schema: Schema, request: LookupSubjectsRequest): void {
  validateResourcePermission(schema, request.resource, request.permission);
  if (!schema.definitions.has(request.subjectType)) {
    throw new FailedPreconditionError(`subjectType: object definition \`${request.subjectType}\` not found in the schema`, { field: "subjectType" });
  }
  if (request.subjectRelation !== undefined && findRelationOrPermission(schema, request.subjectType, request.subjectRelation) === undefined) {
    throw new FailedPreconditionError(
      `subjectRelation: relation/permission \`${request.subjectRelation}\` not found under definition \`${request.subjectType}\``,
      { field: "subjectRelation" },
    );
  }
}

function renamedField(error: unknown, from: string, to: string): unknown {
  if (!(error instanceof FailedPreconditionError) || error.field !== from) return error;
  return new FailedPreconditionError(`${to}${error.message.slice(from.length)}`, { field: to, cause: error });
}
