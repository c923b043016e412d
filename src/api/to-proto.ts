import type { ObjectRef, Relationship, SubjectRef } from "../tuple/index.ts";
import { assertNever } from "../tuple/index.ts";
import type { CheckResult, CheckTrace, ExpandTree, LookupResult, LookupSubjectsResult, Permissionship } from "../engine/index.ts";
import { toWireStruct, toWireTimestamp } from "./struct-codec.ts";
import type {
  WireCheckBulkPermissionsResponseItem,
  WireCheckDebugTrace,
  WireLookupPermissionship,
  WireLookupResourcesResult,
  WireLookupSubjectsResult,
  WireObjectReference,
  WirePartialCaveatInfo,
  WirePermissionRelationshipTree,
  WirePermissionship,
  WireRelationship,
  WireSubjectReference,
  WireTraceOperation,
} from "./wire-types.ts";

/** objectRefToWire renders an object reference. */
export function objectRefToWire(object: ObjectRef): WireObjectReference {
  return { objectType: object.type, objectId: object.id };
}

/** subjectRefToWire renders a subject; no relation becomes the empty optional_relation. */
export function subjectRefToWire(subject: SubjectRef): WireSubjectReference {
  return { object: { objectType: subject.type, objectId: subject.id }, optionalRelation: subject.relation ?? "" };
}

/** relationshipToWire renders a relationship with its caveat and expiry. */
export function relationshipToWire(relationship: Relationship): WireRelationship {
  return {
    resource: objectRefToWire(relationship.resource),
    relation: relationship.relation,
    subject: subjectRefToWire(relationship.subject),
    optionalCaveat: relationship.caveat ? { caveatName: relationship.caveat.name, context: toWireStruct(relationship.caveat.context) } : null,
    optionalExpiresAt: relationship.expiresAt ? toWireTimestamp(relationship.expiresAt) : null,
  };
}

/** permissionshipToWire maps the three-valued answer to the proto enum. */
function permissionshipToWire(permissionship: Permissionship): WirePermissionship {
  switch (permissionship) {
    case "allowed":
      return "PERMISSIONSHIP_HAS_PERMISSION";
    case "denied":
      return "PERMISSIONSHIP_NO_PERMISSION";
    case "conditional":
      return "PERMISSIONSHIP_CONDITIONAL_PERMISSION";
    default:
      return assertNever(permissionship, "permissionship");
  }
}

/** checkResultToWire renders the permissionship and, for CONDITIONAL, the missing context. */
export function checkResultToWire(result: CheckResult): WireCheckBulkPermissionsResponseItem {
  return {
    permissionship: permissionshipToWire(result.permissionship),
    partialCaveatInfo: result.permissionship === "conditional" ? { missingRequiredContext: [...(result.missingParameters ?? [])] } : null,
  };
}

const TRACE_OPERATIONS: Record<CheckTrace["operation"], WireTraceOperation> = {
  relation: "OPERATION_RELATION",
  union: "OPERATION_UNION",
  intersection: "OPERATION_INTERSECTION",
  exclusion: "OPERATION_EXCLUSION",
  arrow: "OPERATION_ARROW",
  nil: "OPERATION_NIL",
  direct: "OPERATION_DIRECT",
};

/** traceToWire renders a check trace, recursively. */
export function traceToWire(trace: CheckTrace): WireCheckDebugTrace {
  return {
    resource: objectRefToWire(trace.resource),
    permission: trace.permission,
    subject: subjectRefToWire(trace.subject),
    operation: TRACE_OPERATIONS[trace.operation],
    result: permissionshipToWire(trace.result),
    cycle: trace.cycle ?? false,
    children: trace.children.map(traceToWire),
    label: trace.label ?? "",
  };
}

/** expandTreeToWire renders an expand tree, recursively. */
export function expandTreeToWire(tree: ExpandTree): WirePermissionRelationshipTree {
  const expandedObject = objectRefToWire(tree.resource);
  switch (tree.kind) {
    case "leaf":
      return { leaf: { subjects: tree.subjects.map(subjectRefToWire) }, expandedObject, expandedRelation: tree.relation };
    case "union":
    case "intersection":
    case "exclusion":
      return {
        intermediate: {
          operation: tree.kind === "union" ? "OPERATION_UNION" : tree.kind === "intersection" ? "OPERATION_INTERSECTION" : "OPERATION_EXCLUSION",
          children: tree.children.map(expandTreeToWire),
        },
        expandedObject,
        expandedRelation: tree.relation,
      };
    default:
      return assertNever(tree, "expand tree node");
  }
}

/** lookupResourceToWire renders one LookupResources result: the id, the answer and, for CONDITIONAL, the missing context. */
export function lookupResourceToWire(result: LookupResult): WireLookupResourcesResult {
  return { resourceObjectId: result.id, ...lookupAnswerToWire(result) };
}

function lookupAnswerToWire(result: LookupResult): { permissionship: WireLookupPermissionship; partialCaveatInfo: WirePartialCaveatInfo | null } {
  switch (result.permissionship) {
    case "allowed":
      return { permissionship: "LOOKUP_PERMISSIONSHIP_HAS_PERMISSION", partialCaveatInfo: null };
    case "conditional":
      return {
        permissionship: "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION",
        partialCaveatInfo: { missingRequiredContext: [...(result.missingParameters ?? [])] },
      };
    default:
      return assertNever(result.permissionship, "lookup permissionship");
  }
}

/**
 * resolvedSubjectsToWire renders one LookupSubjects result: the subject, and for the wildcard the
 * subjects it excludes. The engine excludes only subjects Check calls DENIED, so every exclusion
 * holds unconditionally: HAS_PERMISSION, as SpiceDB marks an uncaveated exclusion.
 */
export function resolvedSubjectsToWire(result: LookupSubjectsResult): WireLookupSubjectsResult {
  return {
    subject: { subjectObjectId: result.id, ...lookupAnswerToWire(result) },
    excludedSubjects: (result.excludedIds ?? []).map((id) => ({
      subjectObjectId: id,
      permissionship: "LOOKUP_PERMISSIONSHIP_HAS_PERMISSION",
      partialCaveatInfo: null,
    })),
  };
}
