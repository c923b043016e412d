import { InvalidRelationshipError } from "./errors.ts";
import { validateCaveatName, validateObjectId, validateRelationName, validateTypeName } from "./names.ts";
import type { CaveatRef, ObjectRef, Relationship, SubjectRef } from "./relationship.ts";

// Text forms follow SpiceDB exactly, because users paste them:
//   document:readme#viewer@user:alice
//   document:readme#viewer@group:eng#member
//   document:readme#viewer@user:*
//   document:readme#viewer@user:alice[only_on_weekdays:{"tz":"UTC"}]
//   document:readme#viewer@user:alice[expiration:2030-01-01T00:00:00Z]
//   document:readme#viewer@user:alice[only_on_weekdays][expiration:2030-01-01T00:00:00Z]

/** parseObjectRef parses `type:id`; `field` names the input in errors. */
export function parseObjectRef(text: string, field = "object"): ObjectRef {
  const colon = text.indexOf(":");
  if (colon < 0) {
    throw new InvalidRelationshipError(`${field}: "${text}" is not of the form type:id`, { field });
  }
  const type = text.slice(0, colon);
  const id = text.slice(colon + 1);
  validateTypeName(type, `${field}.type`);
  validateObjectId(id, `${field}.id`);
  return { type, id };
}

/** parseSubjectRef parses `type:id`, `type:id#relation` or `type:*`; `#...` means no relation. */
export function parseSubjectRef(text: string, field = "subject"): SubjectRef {
  const hash = text.indexOf("#");
  const objectText = hash < 0 ? text : text.slice(0, hash);
  const relationText = hash < 0 ? undefined : text.slice(hash + 1);
  const colon = objectText.indexOf(":");
  if (colon < 0) {
    throw new InvalidRelationshipError(`${field}: "${text}" is not of the form type:id or type:id#relation`, { field });
  }
  const type = objectText.slice(0, colon);
  const id = objectText.slice(colon + 1);
  validateTypeName(type, `${field}.type`);
  validateObjectId(id, `${field}.id`, true);
  if (relationText === undefined || relationText === "...") return { type, id };
  validateRelationName(relationText, `${field}.relation`);
  if (id === "*") {
    throw new InvalidRelationshipError(`${field}: a wildcard subject cannot have a relation ("${text}")`, { field });
  }
  return { type, id, relation: relationText };
}

/**
 * parseRelationship parses SpiceDB's text form of a relationship (examples above).
 * Throws InvalidRelationshipError naming the part at fault.
 */
export function parseRelationship(text: string, field = "relationship"): Relationship {
  const trimmed = text.trim();
  const { core, caveat, expiresAt } = splitSuffixes(trimmed, field);
  const at = core.indexOf("@");
  if (at < 0) {
    throw new InvalidRelationshipError(`${field}: "${trimmed}" is not of the form resource#relation@subject`, { field });
  }
  const resourceAndRelation = core.slice(0, at);
  const hash = resourceAndRelation.indexOf("#");
  if (hash < 0) {
    throw new InvalidRelationshipError(`${field}: "${trimmed}" is missing the #relation after the resource`, { field });
  }
  const resource = parseObjectRef(resourceAndRelation.slice(0, hash), `${field}.resource`);
  const relation = resourceAndRelation.slice(hash + 1);
  validateRelationName(relation, `${field}.relation`);
  const subject = parseSubjectRef(core.slice(at + 1), `${field}.subject`);
  return { resource, relation, subject, ...(caveat ? { caveat } : {}), ...(expiresAt ? { expiresAt } : {}) };
}

function splitSuffixes(text: string, field: string): { core: string; caveat?: CaveatRef; expiresAt?: Date } {
  const open = text.indexOf("[");
  if (open < 0) return { core: text };
  const core = text.slice(0, open);
  let rest = text.slice(open);
  let caveat: CaveatRef | undefined;
  let expiresAt: Date | undefined;
  while (rest.length > 0) {
    const close = matchingBracket(rest);
    if (rest[0] !== "[" || close < 0) {
      throw new InvalidRelationshipError(`${field}: malformed [..] suffix in "${text}"`, { field });
    }
    const inner = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (inner.startsWith("expiration:")) {
      const when = new Date(inner.slice("expiration:".length));
      if (Number.isNaN(when.getTime())) {
        throw new InvalidRelationshipError(`${field}.expiration: "${inner}" is not an RFC 3339 timestamp`, { field: `${field}.expiration` });
      }
      expiresAt = when;
    } else {
      caveat = parseCaveatSuffix(inner, `${field}.caveat`);
    }
  }
  return { core, ...(caveat ? { caveat } : {}), ...(expiresAt ? { expiresAt } : {}) };
}

function parseCaveatSuffix(inner: string, field: string): CaveatRef {
  const colon = inner.indexOf(":");
  const name = colon < 0 ? inner : inner.slice(0, colon);
  validateCaveatName(name, `${field}.name`);
  if (colon < 0) return { name, context: {} };
  let context: unknown;
  try {
    context = JSON.parse(inner.slice(colon + 1));
  } catch (error) {
    throw new InvalidRelationshipError(`${field}.context: not valid JSON (${String(error)})`, { field: `${field}.context`, cause: error });
  }
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new InvalidRelationshipError(`${field}.context: must be a JSON object`, { field: `${field}.context` });
  }
  return { name, context: context as Record<string, unknown> };
}

// Finds the `]` closing the `[` at position 0, skipping brackets inside JSON strings and objects.
function matchingBracket(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") {
      depth--;
      if (depth === 0) return ch === "]" ? i : -1;
    }
  }
  return -1;
}

/** formatObjectRef renders `type:id`. */
export function formatObjectRef(object: ObjectRef): string {
  return `${object.type}:${object.id}`;
}

/** formatSubjectRef renders `type:id` or `type:id#relation`. */
export function formatSubjectRef(subject: SubjectRef): string {
  return subject.relation === undefined ? `${subject.type}:${subject.id}` : `${subject.type}:${subject.id}#${subject.relation}`;
}

/** formatRelationship renders the SpiceDB text form; parseRelationship(formatRelationship(r)) equals r. */
export function formatRelationship(relationship: Relationship): string {
  let text = `${formatObjectRef(relationship.resource)}#${relationship.relation}@${formatSubjectRef(relationship.subject)}`;
  if (relationship.caveat) {
    const context = Object.keys(relationship.caveat.context).length > 0 ? `:${JSON.stringify(relationship.caveat.context)}` : "";
    text += `[${relationship.caveat.name}${context}]`;
  }
  if (relationship.expiresAt) text += `[expiration:${relationship.expiresAt.toISOString()}]`;
  return text;
}

/**
 * relationshipKey is the identity of a relationship in the store: resource, relation and subject.
 * Two relationships with the same key cannot both be live (a caveat or expiry is not part of it).
 */
export function relationshipKey(relationship: Relationship): string {
  return `${formatObjectRef(relationship.resource)}#${relationship.relation}@${formatSubjectRef(relationship.subject)}`;
}
