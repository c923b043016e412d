import { FailedPreconditionError, InvalidArgumentError, WILDCARD_ID, formatSubjectRef } from "../tuple/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { validateCaveatContext } from "./caveat-context.ts";
import { DELEGATION_CAVEAT, readGrant, validateGrantOfRelationship } from "./delegation-grant.ts";
import { formatAllowedSubject, formatDelegationPrincipal } from "./format-allowed-subject.ts";
import { lookupDefinition } from "./lookup-definition.ts";
import type { AllowedSubject, Delegation, Permission, Relation, Schema } from "./model.ts";

/** RelationOrPermission is what a name on a definition resolves to. */
export type RelationOrPermission =
  | { readonly kind: "relation"; readonly relation: Relation }
  | { readonly kind: "permission"; readonly permission: Permission };

/**
 * findRelationOrPermission resolves `name` on definition `typeName` and returns undefined when
 * either does not exist. It never throws and costs two map lookups, for callers that need only a
 * yes or no (is NAME a relation or permission on TYPE?). A delegation is neither: it is not found
 * (so that checking `agent:b#acts_for@user:h` is refused like an unknown permission).
 */
export function findRelationOrPermission(schema: Schema, typeName: string, name: string): RelationOrPermission | undefined {
  const definition = schema.definitions.get(typeName);
  if (definition === undefined) return undefined;
  const relation = definition.relations.get(name);
  if (relation !== undefined) return { kind: "relation", relation };
  const permission = definition.permissions.get(name);
  if (permission !== undefined) return { kind: "permission", permission };
  return undefined;
}

/**
 * lookupRelationOrPermission resolves `name` on definition `typeName`, or throws
 * FailedPreconditionError naming `field` when the definition or the name does not exist.
 */
export function lookupRelationOrPermission(schema: Schema, typeName: string, name: string, field: string): RelationOrPermission {
  const found = findRelationOrPermission(schema, typeName, name);
  if (found !== undefined) return found;
  const definition = lookupDefinition(schema, typeName, field);
  const delegation = definition.delegations.has(name) ? ` (\`${typeName}#${name}\` is a delegation)` : "";
  throw new FailedPreconditionError(`${field}: relation or permission \`${name}\` not found on definition \`${typeName}\`${delegation}`, { field });
}

/**
 * validateRelationship checks that the schema allows `relationship` to be stored, and throws naming
 * the sub-field at fault otherwise (`<field>.resource.type`, `.relation`, `.subject`, `.caveat`,
 * `.expiration`). As in SpiceDB (measured with v1.54), a name the schema does not know (resource or
 * subject definition, relation) is FailedPreconditionError, since another schema could make the request valid, while a
 * relationship the schema forbids is InvalidArgumentError: writing to a permission, a subject type
 * not allowed, a caveat or expiration that does not match. An allowed subject type must match
 * exactly: `user with expiration` admits only expiring relationships, `user with cav` only ones
 * carrying caveat `cav`, and `user` neither. A caveat the schema does not define is
 * InvalidArgumentError too, as in SpiceDB: no relation of this schema can allow it. Last, the
 * caveat's stored context must fit the caveat's parameters (validateCaveatContext: an undeclared
 * key or a value of the wrong type is InvalidArgumentError naming `<field>.caveat.context.<param>`),
 * as SpiceDB checks a written context with ErrorForUnknownParameters.
 * A relationship on a delegation (`agent:b#acts_for@user:h`) is valid only as a delegation edge:
 * caveat DELEGATION_CAVEAT, an expiration and attributes that grantFromRelationship reads and
 * validateGrant accepts (fields named as in the relationship: `<field>.caveat.context.scope[0]`);
 * DELEGATION_CAVEAT on any other relation is InvalidArgumentError.
 */
export function validateRelationship(schema: Schema, relationship: Relationship, field = "relationship"): void {
  // An edge of a delegation is valid only as a grant: DELEGATION_CAVEAT holding valid attributes.
  if (findDelegation(schema, relationship) !== undefined) {
    validateGrantOfRelationship(schema, readGrant(relationship, field), field);
    return;
  }
  const candidates = allowedForSubject(schema, relationship, field);
  const resourceType = relationship.resource.type;
  const where = `relation \`${resourceType}#${relationship.relation}\``;
  const subject = relationship.subject;

  const caveatName = relationship.caveat?.name;
  const caveatField = `${field}.caveat`;
  if (caveatName === DELEGATION_CAVEAT) {
    throw new InvalidArgumentError(`${caveatField}: caveat \`${DELEGATION_CAVEAT}\` is reserved for delegation edges, and ${where} is not a delegation`, {
      field: caveatField,
    });
  }
  const caveatDefinition = caveatName === undefined ? undefined : schema.caveats.get(caveatName);
  if (caveatName !== undefined && caveatDefinition === undefined) {
    throw new InvalidArgumentError(`${caveatField}: caveat \`${caveatName}\` not found in the schema`, { field: caveatField });
  }
  const withCaveat = candidates.filter((allowed) => allowed.caveat === caveatName);
  if (withCaveat.length === 0) {
    const options = candidates.map(formatAllowedSubject).join(", ");
    const message =
      caveatName === undefined
        ? `${caveatField}: ${where} requires a caveat for subject type \`${subject.type}\`; allowed: ${options}`
        : `${caveatField}: caveat \`${caveatName}\` is not allowed for subject type \`${subject.type}\` on ${where}; allowed: ${options}`;
    throw new InvalidArgumentError(message, { field: caveatField });
  }

  const expires = relationship.expiresAt !== undefined;
  if (!withCaveat.some((allowed) => allowed.expiration === expires)) {
    const expirationField = `${field}.expiration`;
    const options = withCaveat.map(formatAllowedSubject).join(", ");
    const message = expires
      ? `${expirationField}: ${where} does not allow an expiration for subject type \`${subject.type}\`; allowed: ${options}`
      : `${expirationField}: ${where} requires an expiration for subject type \`${subject.type}\`; allowed: ${options}`;
    throw new InvalidArgumentError(message, { field: expirationField });
  }

  if (caveatDefinition !== undefined && relationship.caveat !== undefined) {
    validateCaveatContext(caveatDefinition, relationship.caveat.context, `${caveatField}.context`);
  }
}

/**
 * validateRelationshipForDelete checks a relationship named in a delete: its definitions and
 * relation exist (FailedPreconditionError otherwise), the relation is not a permission and the
 * schema allows its subject type (InvalidArgumentError otherwise), as validateRelationship does.
 * Caveat and expiration are ignored: SpiceDB deletes a relationship by its resource, relation and
 * subject alone, whatever caveat or expiry it was written with. On a delegation, the subject must
 * be an object of one of its principal types.
 */
export function validateRelationshipForDelete(schema: Schema, relationship: Relationship, field = "relationship"): void {
  const delegation = findDelegation(schema, relationship);
  if (delegation === undefined) allowedForSubject(schema, relationship, field);
  else checkPrincipalType(schema, delegation, relationship, field);
}

function findDelegation(schema: Schema, relationship: Relationship): Delegation | undefined {
  return schema.definitions.get(relationship.resource.type)?.delegations.get(relationship.relation);
}

// The subject of a delegation edge named in a delete: an object of a principal type of the delegation.
function checkPrincipalType(schema: Schema, delegation: Delegation, relationship: Relationship, field: string): void {
  const { subject } = relationship;
  const subjectField = `${field}.subject`;
  lookupDefinition(schema, subject.type, subjectField);
  if (subject.relation === undefined && subject.id !== WILDCARD_ID && delegation.principals.some((principal) => principal.type === subject.type)) return;
  const allowed = delegation.principals.map(formatDelegationPrincipal).join(", ");
  throw new InvalidArgumentError(
    `${subjectField}: subject \`${formatSubjectRef(subject)}\` cannot be the principal of delegation \`${delegation.actorType}#${delegation.name}\`; allowed: ${allowed}`,
    { field: subjectField },
  );
}

// The relation that would store `relationship`: its definition and relation must exist and the
// name must not be a permission.
function lookupStoredRelation(schema: Schema, relationship: Relationship, field: string): Relation {
  const resourceType = relationship.resource.type;
  const definition = lookupDefinition(schema, resourceType, `${field}.resource.type`);
  const relationName = relationship.relation;
  const relation = definition.relations.get(relationName);
  if (relation !== undefined) return relation;
  const relationField = `${field}.relation`;
  if (definition.permissions.has(relationName)) {
    throw new InvalidArgumentError(
      `${relationField}: \`${resourceType}#${relationName}\` is a permission; relationships can only be written to relations`,
      { field: relationField },
    );
  }
  throw new FailedPreconditionError(`${relationField}: relation \`${relationName}\` not found on definition \`${resourceType}\``, {
    field: relationField,
  });
}

// The allowed subject types of the relationship's relation that match its subject (type, subject
// relation, wildcard), whatever their caveat and expiration; throws when there is none.
function allowedForSubject(schema: Schema, relationship: Relationship, field: string): AllowedSubject[] {
  const relation = lookupStoredRelation(schema, relationship, field);
  const subject = relationship.subject;
  const subjectField = `${field}.subject`;
  lookupDefinition(schema, subject.type, subjectField);
  const wildcard = subject.id === WILDCARD_ID;
  const candidates = relation.allowedSubjects.filter(
    (allowed) => allowed.type === subject.type && allowed.wildcard === wildcard && allowed.relation === subject.relation,
  );
  if (candidates.length > 0) return candidates;
  const where = `relation \`${relationship.resource.type}#${relationship.relation}\``;
  const allowedList = relation.allowedSubjects.map(formatAllowedSubject).join(", ");
  const written = `${subject.type}${wildcard ? ":*" : ""}${subject.relation === undefined ? "" : `#${subject.relation}`}`;
  const what = wildcard ? "wildcard subject" : "subject type";
  throw new InvalidArgumentError(`${subjectField}: ${what} \`${written}\` is not allowed for ${where}; allowed: ${allowedList}`, {
    field: subjectField,
  });
}
