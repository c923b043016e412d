import type { AllowedSubject, Relation } from "../schema/index.ts";

// What a relation's allowed subject types say, as the set evaluations of lookups read them.

/** allowsWildcardOf tells whether `relation` allows `subjectType:*`. */
export function allowsWildcardOf(relation: Relation, subjectType: string): boolean {
  return relation.allowedSubjects.some((allowed) => allowed.wildcard && allowed.type === subjectType);
}

/** distinctUsersets lists the usersets (`group#member`) among `allowedSubjects`, each once, in order. */
export function distinctUsersets(allowedSubjects: readonly AllowedSubject[]): Array<{ type: string; relation: string }> {
  const seen = new Set<string>();
  const result: Array<{ type: string; relation: string }> = [];
  for (const allowed of allowedSubjects) {
    if (allowed.relation === undefined) continue;
    const key = `${allowed.type}#${allowed.relation}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ type: allowed.type, relation: allowed.relation });
  }
  return result;
}

/** groupKeyType is the subject type of a posting's group key (`group#member` → `group`, `user` → `user`). */
export function groupKeyType(groupKey: string): string {
  return groupKey.split("#", 1)[0] ?? groupKey;
}
