import { formatAllowedSubject, formatDelegationPrincipal } from "./format-allowed-subject.ts";
import type { Definition, Schema } from "./model.ts";

/**
 * RelationshipPattern describes a kind of stored relationship that a schema change would make
 * invalid. `resourceType` and `relation` always apply; when `subjectType` is set the pattern covers
 * only subjects of that type, with `subjectRelation` (a string, or null for a plain object subject)
 * and `wildcard` (true: only the subject id `*`; false: every id except `*`), and then also
 * `caveat` (a caveat name: only relationships carrying that caveat; null: only relationships
 * without a caveat) and `expiration` (true: only relationships with an expiry; false: only
 * relationships without one). A field left undefined matches anything. `reason` is a sentence for
 * the error that refuses the change, e.g.
 * "subject type `group#member` was removed from relation `document#viewer`".
 */
export interface RelationshipPattern {
  readonly resourceType: string;
  readonly relation: string;
  readonly subjectType?: string;
  readonly subjectRelation?: string | null;
  readonly wildcard?: boolean;
  readonly caveat?: string | null;
  readonly expiration?: boolean;
  readonly reason: string;
}

/**
 * removedSubjectPatterns lists the kinds of relationship that were valid under `previous` and are
 * not under `next`: every relation of a removed definition, a removed relation, a relation turned
 * into a permission, and an allowed subject type removed from a relation. As in SpiceDB, an allowed
 * subject type is the whole alternative, caveat and expiration included: turning `user` into
 * `user with cav`, or dropping `user with cav` while `user` stays, removes one. A subject
 * definition or caveat that disappeared is covered by the last case on each relation that allowed
 * it. Delegations store edges too: a removed delegation (or one turned into a relation or
 * permission, or a relation turned into a delegation) is covered whole, and a principal type
 * that lost an alternative (`user with on_ticket` dropped while `user` stays) covers every edge
 * of that type, since an edge's task caveat lives in its context, where a pattern cannot look.
 * With no previous schema, nothing can have been stored, so the list is empty.
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
      for (const delegation of definition.delegations.keys()) {
        patterns.push({ resourceType: typeName, relation: delegation, reason: `definition \`${typeName}\` was removed (it had delegation \`${delegation}\`)` });
      }
      continue;
    }
    patterns.push(...removedFromDefinition(definition, nextDefinition, next.caveats));
    patterns.push(...removedDelegations(definition, nextDefinition));
  }
  return patterns;
}

function removedDelegations(previous: Definition, next: Definition): RelationshipPattern[] {
  const patterns: RelationshipPattern[] = [];
  const typeName = previous.name;
  for (const [name, delegation] of previous.delegations) {
    const where = `delegation \`${typeName}#${name}\``;
    const nextDelegation = next.delegations.get(name);
    if (nextDelegation === undefined) {
      const became = next.relations.has(name) ? "became a relation" : next.permissions.has(name) ? "became a permission" : "was removed";
      patterns.push({ resourceType: typeName, relation: name, reason: `${where} ${became}` });
      continue;
    }
    const kept = new Set(nextDelegation.principals.map(formatDelegationPrincipal));
    const reported = new Set<string>();
    for (const principal of delegation.principals) {
      const written = formatDelegationPrincipal(principal);
      if (kept.has(written) || reported.has(principal.type)) continue;
      reported.add(principal.type);
      const stays = nextDelegation.principals.some((candidate) => candidate.type === principal.type);
      const whole = stays ? ` (every edge of principal type \`${principal.type}\` counts: an edge's caveat is not visible to the check)` : "";
      patterns.push({
        resourceType: typeName,
        relation: name,
        subjectType: principal.type,
        subjectRelation: null,
        wildcard: false,
        reason: `principal type \`${written}\` was removed from ${where}${whole}`,
      });
    }
  }
  return patterns;
}

function removedFromDefinition(previous: Definition, next: Definition, nextCaveats: ReadonlyMap<string, unknown>): RelationshipPattern[] {
  const patterns: RelationshipPattern[] = [];
  const typeName = previous.name;
  for (const [name, relation] of previous.relations) {
    const where = `relation \`${typeName}#${name}\``;
    const nextRelation = next.relations.get(name);
    if (nextRelation === undefined) {
      const became = next.permissions.has(name) ? "became a permission" : next.delegations.has(name) ? "became a delegation" : "was removed";
      const reason = `${where} ${became}`;
      patterns.push({ resourceType: typeName, relation: name, reason });
      continue;
    }
    const kept = new Set(nextRelation.allowedSubjects.map(formatAllowedSubject));
    for (const allowed of relation.allowedSubjects) {
      const written = formatAllowedSubject(allowed);
      if (kept.has(written)) continue;
      const what = allowed.wildcard ? "wildcard" : "subject type";
      const caveatGone = allowed.caveat !== undefined && !nextCaveats.has(allowed.caveat) ? ` (caveat \`${allowed.caveat}\` was removed)` : "";
      patterns.push({
        resourceType: typeName,
        relation: name,
        subjectType: allowed.type,
        subjectRelation: allowed.wildcard ? null : (allowed.relation ?? null),
        wildcard: allowed.wildcard,
        caveat: allowed.caveat ?? null,
        expiration: allowed.expiration,
        reason: `${what} \`${written}\` was removed from ${where}${caveatGone}`,
      });
    }
  }
  return patterns;
}
