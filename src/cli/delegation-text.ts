import { fromWireStruct, fromWireTimestamp } from "../api/index.ts";
import type { WireDelegationExplanation, WireDelegationGrant, WireDelegationHop, WireObjectReference, WirePermissionship, WireTimestamp } from "../api/index.ts";

// How the CLI prints delegation edges and the path a check with --on-behalf-of followed.

const RESULT_WORDS: Readonly<Record<WirePermissionship, string>> = {
  PERMISSIONSHIP_HAS_PERMISSION: "ALLOWED",
  PERMISSIONSHIP_NO_PERMISSION: "DENIED",
  PERMISSIONSHIP_CONDITIONAL_PERMISSION: "CONDITIONAL",
  PERMISSIONSHIP_UNSPECIFIED: "UNSPECIFIED",
};

function objectText(object: WireObjectReference | null | undefined): string {
  return `${object?.objectType ?? "?"}:${object?.objectId ?? "?"}`;
}

function timeText(timestamp: WireTimestamp | null | undefined): string {
  if (!timestamp) return "?";
  return fromWireTimestamp(timestamp, "timestamp").toISOString();
}

/** resultText is a permissionship as the CLI prints it (`ALLOWED`), with `(missing context: a, b)` when parameters are missing. */
export function resultText(result: WirePermissionship | null | undefined, missing: readonly string[] = []): string {
  const word = RESULT_WORDS[result ?? "PERMISSIONSHIP_UNSPECIFIED"];
  return missing.length > 0 ? `${word} (missing context: ${missing.join(", ")})` : word;
}

/**
 * formatDelegationExplanation renders how a check with --on-behalf-of was decided, hop by hop,
 * actor first, `checked` being the `type#permission` asked about:
 *
 *   delegation path (2 hops):
 *     1. agent:b acts for user:ann (acts_for), granted by agent:a, grant 9f3c...
 *        scope: document#view (covers document#view)
 *        valid: 2026-11-28T10:00:00.000Z until 2026-11-29T10:00:00.000Z
 *        caveat: ALLOWED
 *        budget: 3 of 100 used
 *        ceiling: agent:b's own answer ALLOWED
 *     2. ...
 *   principal user:ann: ALLOWED
 *   reason: ...
 *
 * With no live path the first line says so. Lines for a caveat, budget or ceiling appear only
 * where the edge has one.
 */
export function formatDelegationExplanation(explanation: WireDelegationExplanation, principal: WireObjectReference, checked: string): string {
  const path = explanation.path ?? [];
  const lines: string[] = [];
  if (path.length === 0) lines.push(`delegation path: none (no live delegation leads to ${objectText(principal)})`);
  else lines.push(`delegation path (${path.length} hop${path.length === 1 ? "" : "s"}):`);
  path.forEach((hop, i) => lines.push(...hopLines(hop, i + 1, checked)));
  lines.push(`principal ${objectText(principal)}: ${resultText(explanation.principalResult)}`);
  if (explanation.reason) lines.push(`reason: ${explanation.reason}`);
  return lines.map((line) => `${line}\n`).join("");
}

function hopLines(hop: WireDelegationHop, number: number, checked: string): string[] {
  const indent = " ".repeat(`  ${number}. `.length);
  const lines = [
    `  ${number}. ${objectText(hop.actor)} acts for ${objectText(hop.principal)} (${hop.delegation ?? "?"}), granted by ${objectText(hop.grantedBy)}, grant ${hop.grantId ?? "?"}`,
    `${indent}scope: ${(hop.scope ?? []).join(", ")} (${hop.inScope ? "covers" : "does NOT cover"} ${checked})`,
    `${indent}valid: ${timeText(hop.notBefore)} until ${timeText(hop.expiresAt)}`,
  ];
  if (hop.caveatResult !== "PERMISSIONSHIP_HAS_PERMISSION" || (hop.caveatPartialCaveatInfo?.missingRequiredContext ?? []).length > 0) {
    lines.push(`${indent}caveat: ${resultText(hop.caveatResult, hop.caveatPartialCaveatInfo?.missingRequiredContext ?? [])}`);
  }
  if (hop.budget) lines.push(`${indent}budget: ${hop.budget.used ?? 0} of ${hop.budget.limit ?? 0} used`);
  if (hop.ceilingResult && hop.ceilingResult !== "PERMISSIONSHIP_UNSPECIFIED") {
    lines.push(`${indent}ceiling: ${objectText(hop.actor)}'s own answer ${resultText(hop.ceilingResult)}`);
  }
  return lines;
}

/**
 * formatDelegationGrant renders one edge on one line:
 * `agent:bot acts_for user:ann scope=document#view,repository#* from=... until=... [via=agent:a#acts_for] [caveat=on_ticket{"ticket":"T-1"}] [budget=3/100] id=...`.
 * The budget shows its uses (`USED/LIMIT`) only `withUsage` (a listing: grant and revoke
 * responses do not count them, so they show the limit alone: `budget=100`).
 */
export function formatDelegationGrant(grant: WireDelegationGrant, withUsage = false): string {
  const parts = [
    `${objectText(grant.actor)} ${grant.delegation ?? "?"} ${objectText(grant.principal)}`,
    `scope=${(grant.scope ?? []).join(",")}`,
    `from=${timeText(grant.notBefore)}`,
    `until=${timeText(grant.expiresAt)}`,
  ];
  if (grant.via) parts.push(`via=${objectText(grant.via.actor)}#${grant.via.delegation ?? "?"}`);
  if (grant.caveat) {
    const context = fromWireStruct(grant.caveat.context, "caveat.context");
    const contextText = Object.keys(context).length > 0 ? JSON.stringify(context) : "";
    parts.push(`caveat=${grant.caveat.caveatName ?? "?"}${contextText}`);
  }
  if (grant.budget) parts.push(withUsage ? `budget=${grant.budgetUsed ?? 0}/${grant.budget}` : `budget=${grant.budget}`);
  parts.push(`id=${grant.grantId ?? "?"}`);
  return `${parts.join(" ")}\n`;
}
