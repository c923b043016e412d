import type { CaveatRef, ObjectRef, Relationship, SubjectRef } from "../tuple/index.ts";
import {
  InvalidArgumentError,
  WILDCARD_ID,
  assertNever,
  validateCaveatName,
  validateObjectId,
  validateRelationName,
  validateTypeName,
} from "../tuple/index.ts";
import type { Precondition, RelationshipFilter, RelationshipUpdate, SubjectFilter } from "../store/index.ts";
import type { CheckRequest, LookupResourcesRequest, LookupSubjectsRequest } from "../engine/index.ts";
import type { ConsistencyRequirement } from "./consistency.ts";
import { decodeZedToken } from "./consistency-token.ts";
import { fromWireStruct, fromWireTimestamp } from "./struct-codec.ts";
import type {
  WireCheckBulkPermissionsRequestItem,
  WireContextualizedCaveat,
  WireConsistency,
  WireExpandPermissionTreeRequest,
  WireLookupResourcesRequest,
  WireLookupSubjectsRequest,
  WireObjectReference,
  WirePrecondition,
  WireRelationship,
  WireRelationshipFilter,
  WireRelationshipUpdate,
  WireSubjectReference,
} from "./wire-types.ts";

// Converts decoded wire messages to domain values, checking form only (names, ids, required
// fields); whether a type or relation exists is checked against the schema by the commands.
// Every error names the offending field by its proto path, e.g.
// `updates[3].relationship.subject.object.object_id`.

function required<T>(value: T | null | undefined, field: string): T {
  if (value === null || value === undefined) {
    throw new InvalidArgumentError(`${field}: is required`, { field });
  }
  return value;
}

function nonEmpty(value: string | null | undefined, field: string): string {
  if (!value) throw new InvalidArgumentError(`${field}: is required`, { field });
  return value;
}

/** consistencyFromWire decodes `consistency`; unset means minimize_latency. */
export function consistencyFromWire(wire: WireConsistency | null | undefined, field = "consistency"): ConsistencyRequirement {
  const requirement = wire?.requirement;
  switch (requirement) {
    case undefined:
    case "minimizeLatency":
      return { kind: "minimize_latency" };
    case "fullyConsistent":
      return { kind: "fully_consistent" };
    case "atLeastAsFresh": {
      const tokenField = `${field}.at_least_as_fresh`;
      return { kind: "at_least_as_fresh", token: decodeZedToken(wire?.atLeastAsFresh?.token ?? "", tokenField), field: tokenField };
    }
    case "atExactSnapshot": {
      const tokenField = `${field}.at_exact_snapshot`;
      return { kind: "at_exact_snapshot", token: decodeZedToken(wire?.atExactSnapshot?.token ?? "", tokenField), field: tokenField };
    }
    default:
      return assertNever(requirement, "consistency requirement");
  }
}

/** objectRefFromWire decodes an object reference (a resource, an actor, a principal); the wildcard is never one. */
export function objectRefFromWire(wire: WireObjectReference | null | undefined, field: string): ObjectRef {
  const object = required(wire, field);
  const type = nonEmpty(object.objectType, `${field}.object_type`);
  const id = nonEmpty(object.objectId, `${field}.object_id`);
  validateTypeName(type, `${field}.object_type`);
  validateObjectId(id, `${field}.object_id`);
  return { type, id };
}

/** subjectRefFromWire decodes a subject: an object, a userset, or a wildcard (never with a relation). */
function subjectRefFromWire(wire: WireSubjectReference | null | undefined, field: string): SubjectRef {
  const subject = required(wire, field);
  const object = required(subject.object, `${field}.object`);
  const type = nonEmpty(object.objectType, `${field}.object.object_type`);
  const id = nonEmpty(object.objectId, `${field}.object.object_id`);
  validateTypeName(type, `${field}.object.object_type`);
  validateObjectId(id, `${field}.object.object_id`, true);
  const relation = subject.optionalRelation;
  if (!relation || relation === "...") return { type, id };
  validateRelationName(relation, `${field}.optional_relation`);
  if (id === WILDCARD_ID) {
    throw new InvalidArgumentError(`${field}.optional_relation: a wildcard subject cannot have a relation`, { field: `${field}.optional_relation` });
  }
  return { type, id, relation };
}

/**
 * caveatRefFromWire decodes a ContextualizedCaveat at `field`: a required name (which may carry a
 * prefix: `org/cv`, and the reserved `mandate/delegation` of delegation edges, which an export
 * must be able to import back) and its context.
 */
export function caveatRefFromWire(wire: WireContextualizedCaveat, field: string): CaveatRef {
  const name = nonEmpty(wire.caveatName, `${field}.caveat_name`);
  validateCaveatName(name, `${field}.caveat_name`);
  return { name, context: fromWireStruct(wire.context, `${field}.context`) };
}

/** relationshipFromWire decodes a relationship with its caveat and expiry. */
export function relationshipFromWire(wire: WireRelationship | null | undefined, field: string): Relationship {
  const relationship = required(wire, field);
  const resource = objectRefFromWire(relationship.resource, `${field}.resource`);
  const relation = nonEmpty(relationship.relation, `${field}.relation`);
  validateRelationName(relation, `${field}.relation`);
  const subject = subjectRefFromWire(relationship.subject, `${field}.subject`);
  let result: Relationship = { resource, relation, subject };
  if (relationship.optionalCaveat) {
    result = { ...result, caveat: caveatRefFromWire(relationship.optionalCaveat, `${field}.optional_caveat`) };
  }
  if (relationship.optionalExpiresAt) {
    result = { ...result, expiresAt: fromWireTimestamp(relationship.optionalExpiresAt, `${field}.optional_expires_at`) };
  }
  return result;
}

/**
 * filterFromWire decodes a relationship filter. Empty strings mean "unset" (proto3 defaults). With
 * `requireSome`, a filter that sets nothing is refused: it would select every relationship.
 */
export function filterFromWire(wire: WireRelationshipFilter | null | undefined, field: string, requireSome: boolean): RelationshipFilter {
  const filter = wire ?? {};
  const resourceType = filter.resourceType || undefined;
  const resourceId = filter.optionalResourceId || undefined;
  const resourceIdPrefix = filter.optionalResourceIdPrefix || undefined;
  const relation = filter.optionalRelation || undefined;
  if (resourceType !== undefined) validateTypeName(resourceType, `${field}.resource_type`);
  if (resourceId !== undefined) validateObjectId(resourceId, `${field}.optional_resource_id`);
  if (resourceIdPrefix !== undefined && resourceIdPrefix.length > 1024) {
    throw new InvalidArgumentError(`${field}.optional_resource_id_prefix: is longer than 1024 characters`, { field: `${field}.optional_resource_id_prefix` });
  }
  if (resourceId !== undefined && resourceIdPrefix !== undefined) {
    throw new InvalidArgumentError(`${field}.optional_resource_id_prefix: cannot be combined with optional_resource_id`, {
      field: `${field}.optional_resource_id_prefix`,
    });
  }
  if (relation !== undefined) validateRelationName(relation, `${field}.optional_relation`);
  const subject = filter.optionalSubjectFilter ? subjectFilterFromWire(filter.optionalSubjectFilter, `${field}.optional_subject_filter`) : undefined;
  if (requireSome && [resourceType, resourceId, resourceIdPrefix, relation, subject].every((part) => part === undefined)) {
    throw new InvalidArgumentError(`${field}: at least one field must be set (an empty filter would select every relationship)`, { field });
  }
  return { resourceType, resourceId, resourceIdPrefix, relation, subject };
}

function subjectFilterFromWire(wire: NonNullable<WireRelationshipFilter["optionalSubjectFilter"]>, field: string): SubjectFilter {
  const type = nonEmpty(wire.subjectType, `${field}.subject_type`);
  validateTypeName(type, `${field}.subject_type`);
  const id = wire.optionalSubjectId || undefined;
  if (id !== undefined) validateObjectId(id, `${field}.optional_subject_id`, true);
  let relation: string | null | undefined;
  if (wire.optionalRelation) {
    const name = wire.optionalRelation.relation;
    relation = !name || name === "..." ? null : name;
    if (relation !== null) validateRelationName(relation, `${field}.optional_relation.relation`);
  }
  return { type, id, relation };
}

/** preconditionFromWire decodes one precondition; its filter must set at least one field. */
export function preconditionFromWire(wire: WirePrecondition, field: string): Precondition {
  const filter = filterFromWire(required(wire.filter, `${field}.filter`), `${field}.filter`, true);
  switch (wire.operation) {
    case "OPERATION_MUST_MATCH":
      return { operation: "must_match", filter };
    case "OPERATION_MUST_NOT_MATCH":
      return { operation: "must_not_match", filter };
    default:
      throw new InvalidArgumentError(`${field}.operation: must be OPERATION_MUST_MATCH or OPERATION_MUST_NOT_MATCH`, { field: `${field}.operation` });
  }
}

/** updateFromWire decodes one relationship update. */
export function updateFromWire(wire: WireRelationshipUpdate, field: string): RelationshipUpdate {
  const relationship = relationshipFromWire(wire.relationship, `${field}.relationship`);
  switch (wire.operation) {
    case "OPERATION_CREATE":
      return { operation: "create", relationship };
    case "OPERATION_TOUCH":
      return { operation: "touch", relationship };
    case "OPERATION_DELETE":
      return { operation: "delete", relationship };
    default:
      throw new InvalidArgumentError(`${field}.operation: must be OPERATION_CREATE, OPERATION_TOUCH or OPERATION_DELETE`, {
        field: `${field}.operation`,
      });
  }
}

/** checkRequestFromWire decodes the check part of a CheckPermission request or a bulk item. */
export function checkRequestFromWire(wire: WireCheckBulkPermissionsRequestItem, field: string): CheckRequest {
  const prefix = field === "" ? "" : `${field}.`;
  const resource = objectRefFromWire(wire.resource, `${prefix}resource`);
  const permission = nonEmpty(wire.permission, `${prefix}permission`);
  validateRelationName(permission, `${prefix}permission`);
  // A wildcard subject is refused by the engine, which validates every check (as SpiceDB does).
  const subject = subjectRefFromWire(wire.subject, `${prefix}subject`);
  const context = wire.context ? fromWireStruct(wire.context, `${prefix}context`) : undefined;
  const onBehalfOf = onBehalfOfFromWire(wire.onBehalfOf, subject, prefix);
  return { resource, permission, subject, context, ...(onBehalfOf ? { onBehalfOf } : {}) };
}

/**
 * onBehalfOfFromWire decodes an optional `on_behalf_of` principal (absent: undefined). The subject
 * then is an actor, an object: a userset or a wildcard cannot act for anyone.
 */
function onBehalfOfFromWire(wire: WireObjectReference | null | undefined, subject: SubjectRef, prefix: string): ObjectRef | undefined {
  if (!wire) return undefined;
  const principal = objectRefFromWire(wire, `${prefix}on_behalf_of`);
  if (subject.relation !== undefined || subject.id === WILDCARD_ID) {
    const field = subject.relation !== undefined ? `${prefix}subject.optional_relation` : `${prefix}subject.object.object_id`;
    throw new InvalidArgumentError(`${field}: with on_behalf_of the subject is the actor, an object (not a userset or a wildcard)`, { field });
  }
  return principal;
}

/**
 * DelegationExplainRequest is the delegation part of an ExpandPermissionTree request: explain how
 * `actor` would act for `onBehalfOf` on the expanded resource and permission.
 */
export interface DelegationExplainRequest {
  readonly actor: ObjectRef;
  readonly onBehalfOf: ObjectRef;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * expandRequestFromWire decodes an ExpandPermissionTree request: the resource and permission, and
 * `delegation` when it asks for a delegation explanation (actor and on_behalf_of, both or neither).
 */
export function expandRequestFromWire(wire: WireExpandPermissionTreeRequest): {
  resource: ObjectRef;
  permission: string;
  delegation?: DelegationExplainRequest | undefined;
} {
  const resource = objectRefFromWire(wire.resource, "resource");
  const permission = nonEmpty(wire.permission, "permission");
  validateRelationName(permission, "permission");
  if (!wire.actor && !wire.onBehalfOf) return { resource, permission };
  const actor = objectRefFromWire(wire.actor, "actor");
  const onBehalfOf = objectRefFromWire(wire.onBehalfOf, "on_behalf_of");
  const context = wire.context ? fromWireStruct(wire.context, "context") : undefined;
  return { resource, permission, delegation: { actor, onBehalfOf, context } };
}

/**
 * lookupResourcesRequestFromWire decodes a LookupResources request (not its consistency, limit or
 * cursor). A wildcard subject is refused: a lookup asks for what one subject can reach.
 */
export function lookupResourcesRequestFromWire(wire: WireLookupResourcesRequest): LookupResourcesRequest {
  const resourceType = nonEmpty(wire.resourceObjectType, "resource_object_type");
  validateTypeName(resourceType, "resource_object_type");
  const permission = nonEmpty(wire.permission, "permission");
  validateRelationName(permission, "permission");
  const subject = subjectRefFromWire(wire.subject, "subject");
  if (subject.id === WILDCARD_ID) {
    throw new InvalidArgumentError(
      `subject.object.object_id: cannot look up resources for a wildcard subject (${subject.type}:*); name a concrete subject`,
      { field: "subject.object.object_id" },
    );
  }
  const context = wire.context ? fromWireStruct(wire.context, "context") : undefined;
  const onBehalfOf = onBehalfOfFromWire(wire.onBehalfOf, subject, "");
  return { resourceType, permission, subject, context, ...(onBehalfOf ? { onBehalfOf } : {}) };
}

/**
 * lookupSubjectsRequestFromWire decodes a LookupSubjects request (not its consistency, limit or
 * cursor); an empty optional_subject_relation, or `...`, asks for objects rather than usersets.
 */
export function lookupSubjectsRequestFromWire(wire: WireLookupSubjectsRequest): LookupSubjectsRequest {
  const resource = objectRefFromWire(wire.resource, "resource");
  const permission = nonEmpty(wire.permission, "permission");
  validateRelationName(permission, "permission");
  const subjectType = nonEmpty(wire.subjectObjectType, "subject_object_type");
  validateTypeName(subjectType, "subject_object_type");
  const relation = wire.optionalSubjectRelation;
  const subjectRelation = !relation || relation === "..." ? undefined : relation;
  if (subjectRelation !== undefined) validateRelationName(subjectRelation, "optional_subject_relation");
  const context = wire.context ? fromWireStruct(wire.context, "context") : undefined;
  return { resource, permission, subjectType, subjectRelation, context };
}
