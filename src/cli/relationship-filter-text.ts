import type { WireRelationshipFilter } from "../api/index.ts";
import type { RelationshipFilter, SubjectFilter } from "../store/index.ts";
import { validateObjectId, validateRelationName, validateTypeName } from "../tuple/index.ts";
import { UsageError, asUsageError } from "./usage-error.ts";

/**
 * parseRelationshipFilterText parses a filter as written on the command line:
 * `TYPE[:ID|:PREFIX*][#RELATION][@SUBJECT]`, with SUBJECT `TYPE[:ID][#RELATION|#...]`, e.g.
 * `document`, `document:readme#viewer`, `document:read*`, `document@user:alice`,
 * `group:eng#member@group#member`. `subjectText` (from --subject) may give the subject instead.
 * Throws UsageError naming the part at fault.
 */
export function parseRelationshipFilterText(text: string | undefined, subjectText?: string): RelationshipFilter {
  const at = text?.indexOf("@") ?? -1;
  const resourcePart = text === undefined ? "" : at < 0 ? text : text.slice(0, at);
  const inlineSubject = text !== undefined && at >= 0 ? text.slice(at + 1) : undefined;
  if (inlineSubject !== undefined && subjectText !== undefined) {
    throw new UsageError(`give the subject either after "@" in the filter or with --subject, not both`);
  }
  const subjectPart = inlineSubject ?? subjectText;
  const subject = subjectPart === undefined ? undefined : parseSubjectFilterText(subjectPart);
  if (resourcePart === "") {
    if (subject === undefined) throw new UsageError("a filter needs at least a resource type or a subject (--subject user:alice)");
    return { subject };
  }
  const hash = resourcePart.indexOf("#");
  const objectPart = hash < 0 ? resourcePart : resourcePart.slice(0, hash);
  const relation = hash < 0 ? undefined : resourcePart.slice(hash + 1);
  const colon = objectPart.indexOf(":");
  const resourceType = colon < 0 ? objectPart : objectPart.slice(0, colon);
  const idPart = colon < 0 ? undefined : objectPart.slice(colon + 1);
  asUsageError(() => validateTypeName(resourceType, "filter.resourceType"));
  if (relation !== undefined) asUsageError(() => validateRelationName(relation, "filter.relation"));
  let resourceId: string | undefined;
  let resourceIdPrefix: string | undefined;
  if (idPart !== undefined && idPart.endsWith("*")) {
    resourceIdPrefix = idPart.slice(0, -1);
    if (resourceIdPrefix !== "") asUsageError(() => validateObjectId(resourceIdPrefix as string, "filter.resourceIdPrefix"));
  } else if (idPart !== undefined) {
    resourceId = idPart;
    asUsageError(() => validateObjectId(idPart, "filter.resourceId"));
  }
  return { resourceType, resourceId, resourceIdPrefix, relation, subject };
}

function parseSubjectFilterText(text: string): SubjectFilter {
  const hash = text.indexOf("#");
  const objectPart = hash < 0 ? text : text.slice(0, hash);
  const relationPart = hash < 0 ? undefined : text.slice(hash + 1);
  const colon = objectPart.indexOf(":");
  const type = colon < 0 ? objectPart : objectPart.slice(0, colon);
  const id = colon < 0 ? undefined : objectPart.slice(colon + 1);
  asUsageError(() => validateTypeName(type, "filter.subject.type"));
  if (id !== undefined) asUsageError(() => validateObjectId(id, "filter.subject.id", true));
  if (relationPart === undefined) return { type, id };
  if (relationPart === "...") return { type, id, relation: null };
  asUsageError(() => validateRelationName(relationPart, "filter.subject.relation"));
  return { type, id, relation: relationPart };
}

/** filterToWire converts a filter to mandate.v1's RelationshipFilter. */
export function filterToWire(filter: RelationshipFilter): WireRelationshipFilter {
  const subject = filter.subject;
  return {
    resourceType: filter.resourceType ?? "",
    optionalResourceId: filter.resourceId ?? "",
    optionalResourceIdPrefix: filter.resourceIdPrefix ?? "",
    optionalRelation: filter.relation ?? "",
    optionalSubjectFilter:
      subject === undefined
        ? null
        : {
            subjectType: subject.type,
            optionalSubjectId: subject.id ?? "",
            optionalRelation: subject.relation === undefined ? null : { relation: subject.relation ?? "" },
          },
  };
}
