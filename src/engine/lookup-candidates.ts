import type { RelationshipReader } from "../store/index.ts";

// The store-side candidates of a lookup, for revisions and requests the graph index cannot
// answer: every object that could possibly qualify, each then decided by a check.

/**
 * resourceCandidates are the ids of every `resourceType` object that is the resource of some live
 * relationship at the reader's revision: a permission holds only through relationships of its own
 * resource (a relation it holds, or the tupleset of an arrow), so no other object can qualify.
 */
export async function resourceCandidates(reader: RelationshipReader, resourceType: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const relationship of await reader.queryRelationships({ resourceType })) ids.add(relationship.resource.id);
  return [...ids];
}

/**
 * subjectCandidates are the ids of every `subjectType` object named by some live relationship at
 * the reader's revision (as subject, with any relation or none, or as resource): any other id is
 * named nowhere and answers like the wildcard probe (see probeId).
 */
export async function subjectCandidates(reader: RelationshipReader, subjectType: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const relationship of await reader.queryRelationships({ subject: { type: subjectType } })) {
    if (relationship.subject.id !== "*") ids.add(relationship.subject.id);
  }
  for (const relationship of await reader.queryRelationships({ resourceType: subjectType })) ids.add(relationship.resource.id);
  return [...ids];
}

/** PROBE_ID is the preferred id of the subject that stands for "any subject no relationship names". */
const PROBE_ID = "mandate_unnamed_subject";

/**
 * probeId is an id that `isNamed` says no relationship names: a check for it answers what the
 * wildcard `*` grants to every subject not singled out.
 */
export function probeId(isNamed: (id: string) => boolean): string {
  let id = PROBE_ID;
  for (let n = 1; isNamed(id); n++) id = `${PROBE_ID}_${n}`;
  return id;
}
