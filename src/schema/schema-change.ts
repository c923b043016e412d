import { formatAllowedSubject } from "./format-allowed-subject.ts";
import type { AllowedSubject, Definition, Schema } from "./model.ts";

/**
 * RelationshipPattern describes a kind of stored relationship that a schema change would make
 * invalid. `resourceType` and `relation` always apply; when `subjectType` is set the pattern covers
 * only subjects of that type, with `subjectRelation` (a string, or null for a plain object subject)
 * and `wildcard` (true: only the subject id `*`; false: every id except `*`). `reason` is a
 * sentence for the error that refuses the change, e.g.
 * "subject type `group#member` was removed from relation `document#viewer`".
 */
export interface RelationshipPattern {
  readonly resourceType: string;
  readonly relation: string;
  readonly subjectType?: string;
  readonly subjectRelation?: string | null;
  readonly wildcard?: boolean;
  readonly reason: string;
}

/**
 * removedSubjectPatterns lists the kinds of relationship that were valid under `previous` and are
 * not under `next`: every relation of a removed definition, a removed relation, a relation turned
 * into a permission, and an allowed subject type (object, userset or wildcard) removed from a
 * relation. A subject definition that disappeared is covered by the last case on each relation
 * that allowed it. Changes of caveat or expiration on a subject type that is still allowed are not
 * reported (a pattern cannot select relationships by caveat). With no previous schema, nothing
 * can have been stored, so the list is empty.
 */
export function removedSubjectPatterns(previous: Schema | undefined, next: Schema): RelationshipPattern[] {
  if (previous === undefined) return [];
  const patterns: RelationshipPattern[] = [];
  for (const [typeName, definition] of previous.definitions) {
    const nextDefinition = next.definitions.get(typeName);
    if (nextDefinition === undefined) {
      for (const relation of definition.relations.keys()) {
        patterns.push({ resourceType: typeName, relation, reason: `definition \`${typeName}\` was removed (it had relation \`${relation}\`)` });
      }
      continue;
    }
    patterns.push(...removedFromDefinition(definition, nextDefinition));
  }
  return patterns;
}

function removedFromDefinition(previous: Definition, next: Definition): RelationshipPattern[] {
  const patterns: RelationshipPattern[] = [];
  const typeName = previous.name;
  for (const [name, relation] of previous.relations) {
    const where = `relation \`${typeName}#${name}\``;
    const nextRelation = next.relations.get(name);
    if (nextRelation === undefined) {
      const reason = next.permissions.has(name) ? `${where} became a permission` : `${where} was removed`;
      patterns.push({ resourceType: typeName, relation: name, reason });
      continue;
    }
    const seen = new Set<string>();
    for (const allowed of relation.allowedSubjects) {
      const key = subjectKey(allowed);
      if (seen.has(key) || nextRelation.allowedSubjects.some((candidate) => subjectKey(candidate) === key)) continue;
      seen.add(key);
      const written = formatAllowedSubject({ ...allowed, caveat: undefined, expiration: false });
      const what = allowed.wildcard ? "wildcard" : "subject type";
      patterns.push({
        resourceType: typeName,
        relation: name,
        subjectType: allowed.type,
        subjectRelation: allowed.wildcard ? null : (allowed.relation ?? null),
        wildcard: allowed.wildcard,
        reason: `${what} \`${written}\` was removed from ${where}`,
      });
    }
  }
  return patterns;
}

// Caveat and expiration are left out: a relationship's subject matches on type, relation and wildcard.
function subjectKey(subject: AllowedSubject): string {
  return subject.wildcard ? `${subject.type}:*` : `${subject.type}#${subject.relation ?? ""}`;
}
