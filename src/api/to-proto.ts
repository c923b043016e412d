import type { ObjectRef, Relationship, SubjectRef } from "../tuple/index.ts";
import { assertNever } from "../tuple/index.ts";
import type { DelegationGrant } from "../schema/index.ts";
import { formatScopeEntry } from "../schema/index.ts";
import type {
  CheckResult,
  CheckTrace,
  DelegationExplanation,
  DelegationHop,
  ExpandTree,
  LookupResult,
  LookupSubjectsResult,
  Permissionship,
} from "../engine/index.ts";
import { toWireStruct, toWireTimestamp } from "./struct-codec.ts";
import type {
  WireCheckBulkPermissionsResponseItem,
  WireCheckDebugTrace,
  WireDelegationExplanation,
  WireDelegationGrant,
  WireDelegationHop,
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

/**
 * checkResultToWire renders the permissionship, for CONDITIONAL the missing context, and the
 * delegation explanation of a check with on_behalf_of.
 */
export function checkResultToWire(result: CheckResult): WireCheckBulkPermissionsResponseItem {
  return {
    permissionship: permissionshipToWire(result.permissionship),
    partialCaveatInfo: result.permissionship === "conditional" ? { missingRequiredContext: [...(result.missingParameters ?? [])] } : null,
    delegation: result.delegation ? delegationExplanationToWire(result.delegation) : null,
  };
}

/** delegationExplanationToWire renders how a check with on_behalf_of was decided, hop by hop. */
export function delegationExplanationToWire(explanation: DelegationExplanation): WireDelegationExplanation {
  return {
    path: explanation.path.map(delegationHopToWire),
    principalResult: permissionshipToWire(explanation.principal),
    reason: explanation.reason ?? "",
  };
}

function delegationHopToWire(hop: DelegationHop): WireDelegationHop {
  return {
    actor: objectRefToWire(hop.actor),
    principal: objectRefToWire(hop.principal),
    grantedBy: objectRefToWire(hop.grantedBy),
    delegation: hop.delegation,
    grantId: hop.grantId,
    scope: [...hop.scope],
    notBefore: toWireTimestamp(hop.notBefore),
    expiresAt: toWireTimestamp(hop.expiresAt),
    inScope: hop.inScope,
    caveatResult: permissionshipToWire(hop.caveat),
    caveatPartialCaveatInfo: hop.caveat === "conditional" ? { missingRequiredContext: [...(hop.missingParameters ?? [])] } : null,
    ceilingResult: hop.ceiling === undefined ? "PERMISSIONSHIP_UNSPECIFIED" : permissionshipToWire(hop.ceiling),
    budget: hop.budget ? { limit: hop.budget.limit, used: hop.budget.used } : null,
  };
}

/**
 * delegationGrantToWire renders a stored delegation edge; `used` is its budget's uses so far
 * (ListDelegations), 0 when unknown or without a budget.
 */
export function delegationGrantToWire(grant: DelegationGrant, used?: number): WireDelegationGrant {
  return {
    grantId: grant.id,
    actor: objectRefToWire(grant.actor),
    delegation: grant.delegation,
    principal: objectRefToWire(grant.principal),
    scope: grant.scope.map(formatScopeEntry),
    notBefore: toWireTimestamp(grant.notBefore),
    expiresAt: toWireTimestamp(grant.expiresAt),
    grantedAt: toWireTimestamp(grant.grantedAt),
    chain: grant.chain,
    via: grant.via ? { actor: objectRefToWire(grant.via.actor), delegation: grant.via.delegation, grantId: grant.via.grantId } : null,
    caveat: grant.caveat ? { caveatName: grant.caveat.name, context: toWireStruct(grant.caveat.context) } : null,
    budget: grant.budget ?? 0,
    budgetUsed: used ?? 0,
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
