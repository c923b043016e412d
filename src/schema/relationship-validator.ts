import { FailedPreconditionError, WILDCARD_ID } from "../tuple/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { formatAllowedSubject } from "./format-allowed-subject.ts";
import type { Definition, Permission, Relation, Schema } from "./model.ts";

/** RelationOrPermission is what a name on a definition resolves to. */
export type RelationOrPermission =
  | { readonly kind: "relation"; readonly relation: Relation }
  | { readonly kind: "permission"; readonly permission: Permission };

/**
 * lookupDefinition returns the definition named `typeName`, or throws FailedPreconditionError
 * naming `field` ("definition `x` not found"): the name is well formed but not in the schema.
 */
export function lookupDefinition(schema: Schema, typeName: string, field: string): Definition {
  const definition = schema.definitions.get(typeName);
  if (definition === undefined) {
    throw new FailedPreconditionError(`${field}: definition \`${typeName}\` not found in the schema`, { field });
  }
  return definition;
}

/**
 * lookupRelationOrPermission resolves `name` on definition `typeName`, or throws
 * FailedPreconditionError naming `field` when the definition or the name does not exist.
 */
export function lookupRelationOrPermission(schema: Schema, typeName: string, name: string, field: string): RelationOrPermission {
  const definition = lookupDefinition(schema, typeName, field);
  const relation = definition.relations.get(name);
  if (relation !== undefined) return { kind: "relation", relation };
  const permission = definition.permissions.get(name);
  if (permission !== undefined) return { kind: "permission", permission };
  throw new FailedPreconditionError(`${field}: relation or permission \`${name}\` not found on definition \`${typeName}\``, { field });
}

/**
 * validateRelationship checks that the schema allows `relationship` to be stored, and throws
 * FailedPreconditionError naming the sub-field at fault otherwise (`<field>.resource.type`,
 * `.relation`, `.subject`, `.caveat`, `.expiration`). As in SpiceDB, an allowed subject type must
 * match exactly: `user with expiration` admits only expiring relationships, `user with cav` only
 * ones carrying caveat `cav`, and `user` neither.
 */
export function validateRelationship(schema: Schema, relationship: Relationship, field = "relationship"): void {
  const resourceType = relationship.resource.type;
  const definition = lookupDefinition(schema, resourceType, `${field}.resource.type`);
  const relationName = relationship.relation;
  const relation = definition.relations.get(relationName);
  if (relation === undefined) {
    const relationField = `${field}.relation`;
    if (definition.permissions.has(relationName)) {
      throw new FailedPreconditionError(
        `${relationField}: \`${resourceType}#${relationName}\` is a permission; relationships can only be written to relations`,
        { field: relationField },
      );
    }
    throw new FailedPreconditionError(`${relationField}: relation \`${relationName}\` not found on definition \`${resourceType}\``, {
      field: relationField,
    });
  }

  const where = `relation \`${resourceType}#${relationName}\``;
  const allowedList = relation.allowedSubjects.map(formatAllowedSubject).join(", ");
  const subject = relationship.subject;
  const wildcard = subject.id === WILDCARD_ID;
  const candidates = relation.allowedSubjects.filter(
    (allowed) => allowed.type === subject.type && allowed.wildcard === wildcard && allowed.relation === subject.relation,
  );
  if (candidates.length === 0) {
    const subjectField = `${field}.subject`;
    const written = `${subject.type}${wildcard ? ":*" : ""}${subject.relation === undefined ? "" : `#${subject.relation}`}`;
    const what = wildcard ? "wildcard subject" : "subject type";
    throw new FailedPreconditionError(`${subjectField}: ${what} \`${written}\` is not allowed for ${where}; allowed: ${allowedList}`, {
      field: subjectField,
    });
  }

  const caveatName = relationship.caveat?.name;
  const caveatField = `${field}.caveat`;
  if (caveatName !== undefined && !schema.caveats.has(caveatName)) {
    throw new FailedPreconditionError(`${caveatField}: caveat \`${caveatName}\` not found in the schema`, { field: caveatField });
  }
  const withCaveat = candidates.filter((allowed) => allowed.caveat === caveatName);
  if (withCaveat.length === 0) {
    const options = candidates.map(formatAllowedSubject).join(", ");
    const message =
      caveatName === undefined
        ? `${caveatField}: ${where} requires a caveat for subject type \`${subject.type}\`; allowed: ${options}`
        : `${caveatField}: caveat \`${caveatName}\` is not allowed for subject type \`${subject.type}\` on ${where}; allowed: ${options}`;
    throw new FailedPreconditionError(message, { field: caveatField });
  }

  const expires = relationship.expiresAt !== undefined;
  if (!withCaveat.some((allowed) => allowed.expiration === expires)) {
    const expirationField = `${field}.expiration`;
    const options = withCaveat.map(formatAllowedSubject).join(", ");
    const message = expires
      ? `${expirationField}: ${where} does not allow an expiration for subject type \`${subject.type}\`; allowed: ${options}`
      : `${expirationField}: ${where} requires an expiration for subject type \`${subject.type}\`; allowed: ${options}`;
    throw new FailedPreconditionError(message, { field: expirationField });
  }
}

