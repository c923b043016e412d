import { InvalidRelationshipError } from "./errors.ts";

// Syntax from DESIGN.md "Vocabulary". Whether a name exists is the schema's business, not ours.
const TYPE_NAME = /^(?:[a-z][a-z0-9_]*\/)*[a-z][a-z0-9_]*$/;
// SpiceDB accepts caveat names with capitals and prefixes (`Upper_`, `org/cv`).
const CAVEAT_NAME = /^(?:[a-zA-Z_][a-zA-Z0-9_]*\/)*[a-zA-Z_][a-zA-Z0-9_]*$/;
const RELATION_NAME = /^[a-z][a-z0-9_]*$/;
const OBJECT_ID = /^[a-zA-Z0-9/_|\-=+]{1,1024}$/;

/** MAX_NAME_LENGTH bounds type and relation names, as SpiceDB does (64 per segment, 128 with a prefix). */
const MAX_NAME_LENGTH = 128;

/** validateTypeName throws InvalidRelationshipError naming `field` unless `name` is a legal type name. */
export function validateTypeName(name: string, field: string): void {
  if (name.length > MAX_NAME_LENGTH || !TYPE_NAME.test(name)) {
    throw new InvalidRelationshipError(
      `${field}: "${truncate(name)}" is not a valid type name (expected [a-z][a-z0-9_]*, optionally prefix/name)`,
      { field },
    );
  }
}

/** validateRelationName throws InvalidRelationshipError naming `field` unless `name` is a legal relation name. */
export function validateRelationName(name: string, field: string): void {
  if (name.length > MAX_NAME_LENGTH || !RELATION_NAME.test(name)) {
    throw new InvalidRelationshipError(
      `${field}: "${truncate(name)}" is not a valid relation name (expected [a-z][a-z0-9_]*)`,
      { field },
    );
  }
}

/** validateCaveatName throws InvalidRelationshipError naming `field` unless `name` is a legal caveat name. */
export function validateCaveatName(name: string, field: string): void {
  if (name.length > MAX_NAME_LENGTH || !CAVEAT_NAME.test(name)) {
    throw new InvalidRelationshipError(`${field}: "${truncate(name)}" is not a valid caveat name`, { field });
  }
}

/**
 * validateObjectId throws InvalidRelationshipError naming `field` unless `id` is a legal object id.
 * The wildcard `*` is accepted only where `allowWildcard` says so (subjects).
 */
export function validateObjectId(id: string, field: string, allowWildcard = false): void {
  if (allowWildcard && id === "*") return;
  if (!OBJECT_ID.test(id)) {
    const reason = id.length === 0 ? "is empty" : id.length > 1024 ? "is longer than 1024 characters" : "contains characters outside [a-zA-Z0-9/_|-=+]";
    throw new InvalidRelationshipError(`${field}: object id "${truncate(id)}" ${reason}`, { field });
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
