// Workload checks as Mandate wire requests, and Mandate's answers as workload answers.
import type { WireCheckBulkPermissionsRequestItem, WireCheckPermissionRequest, WirePermissionship, WireZedToken } from "../src/api/index.ts";
import type { BenchAnswer, BenchCheck } from "./workloads/index.ts";

/** checkItem is `check` as a CheckBulkPermissions item (no consistency: that is per request). */
export function checkItem(check: BenchCheck): WireCheckBulkPermissionsRequestItem {
  return {
    resource: { objectType: check.resource.type, objectId: check.resource.id },
    permission: check.permission,
    subject: { object: { objectType: check.subject.type, objectId: check.subject.id }, optionalRelation: check.subject.relation ?? "" },
  };
}

/** checkRequest is `check` as a CheckPermission request at least as fresh as `token`. */
export function checkRequest(check: BenchCheck, token: WireZedToken): WireCheckPermissionRequest {
  return { consistency: { requirement: "atLeastAsFresh", atLeastAsFresh: token }, ...checkItem(check) };
}

/** answerOf maps a permissionship to the workload's answer ("conditional" never is one: it counts as wrong). */
export function answerOf(permissionship: WirePermissionship | null | undefined): BenchAnswer | "conditional" {
  switch (permissionship) {
    case "PERMISSIONSHIP_HAS_PERMISSION":
      return "allowed";
    case "PERMISSIONSHIP_NO_PERMISSION":
      return "denied";
    case "PERMISSIONSHIP_CONDITIONAL_PERMISSION":
      return "conditional";
    default:
      throw new Error(`unexpected permissionship ${String(permissionship)}`);
  }
}

/** describeCheck prints `check` in relationship text with its tag, for problem reports. */
export function describeCheck(check: BenchCheck): string {
  const subject = `${check.subject.type}:${check.subject.id}${check.subject.relation === undefined ? "" : `#${check.subject.relation}`}`;
  return `${check.resource.type}:${check.resource.id}#${check.permission}@${subject} [${check.tag}]`;
}
