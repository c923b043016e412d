import { describe, expect, it } from "vitest";
import { toWireTimestamp } from "../api/index.ts";
import type { WireDelegationExplanation, WireDelegationGrant, WireDelegationHop } from "../api/index.ts";
import { formatDelegationOutcome, parseOnBehalfOfFlag } from "./check-command.ts";
import { formatDelegationExplanation, formatDelegationGrant } from "./delegation-text.ts";
import { UsageError } from "./usage-error.ts";

const FROM = toWireTimestamp(new Date("2026-11-28T10:00:00.000Z"));
const UNTIL = toWireTimestamp(new Date("2026-11-28T12:00:00.000Z"));

const HOP: WireDelegationHop = {
  actor: { objectType: "agent", objectId: "helper" },
  principal: { objectType: "user", objectId: "ann" },
  grantedBy: { objectType: "agent", objectId: "bot" },
  delegation: "acts_for",
  grantId: "g-2",
  scope: ["document#view"],
  notBefore: FROM,
  expiresAt: UNTIL,
  inScope: true,
  caveatResult: "PERMISSIONSHIP_HAS_PERMISSION",
  ceilingResult: "PERMISSIONSHIP_UNSPECIFIED",
};

describe("formatDelegationExplanation", () => {
  it("prints each hop, actor first, with only the caveat, budget and ceiling lines that apply", () => {
    const explanation: WireDelegationExplanation = {
      path: [
        HOP,
        {
          ...HOP,
          actor: { objectType: "agent", objectId: "bot" },
          grantedBy: { objectType: "user", objectId: "ann" },
          grantId: "g-1",
          scope: ["document#view", "document#edit"],
          caveatResult: "PERMISSIONSHIP_CONDITIONAL_PERMISSION",
          caveatPartialCaveatInfo: { missingRequiredContext: ["current_ticket"] },
          ceilingResult: "PERMISSIONSHIP_HAS_PERMISSION",
          budget: { limit: 100, used: 3 },
        },
      ],
      principalResult: "PERMISSIONSHIP_HAS_PERMISSION",
      reason: "",
    };
    expect(formatDelegationExplanation(explanation, { objectType: "user", objectId: "ann" }, "document#view")).toBe(
      [
        "delegation path (2 hops):",
        "  1. agent:helper acts for user:ann (acts_for), granted by agent:bot, grant g-2",
        "     scope: document#view (covers document#view)",
        "     valid: 2026-11-28T10:00:00.000Z until 2026-11-28T12:00:00.000Z",
        "  2. agent:bot acts for user:ann (acts_for), granted by user:ann, grant g-1",
        "     scope: document#view, document#edit (covers document#view)",
        "     valid: 2026-11-28T10:00:00.000Z until 2026-11-28T12:00:00.000Z",
        "     caveat: CONDITIONAL (missing context: current_ticket)",
        "     budget: 3 of 100 used",
        "     ceiling: agent:bot's own answer ALLOWED",
        "principal user:ann: ALLOWED",
        "",
      ].join("\n"),
    );
  });

  it("says when no live delegation leads to the principal, and why it was denied", () => {
    const text = formatDelegationExplanation(
      { path: [], principalResult: "PERMISSIONSHIP_HAS_PERMISSION", reason: "no live delegation lets agent:bot act for user:ann" },
      { objectType: "user", objectId: "ann" },
      "document#view",
    );
    expect(text).toBe(
      "delegation path: none (no live delegation leads to user:ann)\nprincipal user:ann: ALLOWED\nreason: no live delegation lets agent:bot act for user:ann\n",
    );
  });

  it("marks a hop whose scope does not cover the check", () => {
    const text = formatDelegationExplanation({ path: [{ ...HOP, inScope: false }], principalResult: "PERMISSIONSHIP_HAS_PERMISSION" }, { objectType: "user", objectId: "ann" }, "document#edit");
    expect(text).toContain("scope: document#view (does NOT cover document#edit)");
  });
});

describe("formatDelegationOutcome", () => {
  const ann = { type: "user", id: "ann" };
  const denied: WireDelegationExplanation = { path: [HOP], principalResult: "PERMISSIONSHIP_HAS_PERMISSION", reason: "document#edit is outside the scope of agent:helper#acts_for@user:ann" };

  it.each<[string, WireDelegationExplanation, "PERMISSIONSHIP_NO_PERMISSION" | "PERMISSIONSHIP_HAS_PERMISSION", string]>([
    ["the server's reason for a DENIED answer", denied, "PERMISSIONSHIP_NO_PERMISSION", `reason: ${denied.reason}\n`],
    ["that the principal itself lacks the permission", { path: [HOP], principalResult: "PERMISSIONSHIP_NO_PERMISSION" }, "PERMISSIONSHIP_NO_PERMISSION", "reason: user:ann itself does not have document#edit\n"],
    ["nothing for an ALLOWED answer", { path: [HOP], principalResult: "PERMISSIONSHIP_HAS_PERMISSION" }, "PERMISSIONSHIP_HAS_PERMISSION", ""],
  ])("prints, without --explain, %s", (_name, explanation, permissionship, expected) => {
    expect(formatDelegationOutcome(explanation, ann, "document#edit", false, permissionship)).toBe(expected);
  });

  it("prints the whole path with --explain", () => {
    expect(formatDelegationOutcome(denied, ann, "document#edit", true, "PERMISSIONSHIP_NO_PERMISSION")).toMatch(/^delegation path \(1 hop\):\n[\s\S]*reason: /);
  });
});

describe("formatDelegationGrant", () => {
  it("prints an edge on one line with its optional parts", () => {
    const grant: WireDelegationGrant = {
      grantId: "g-2",
      actor: { objectType: "agent", objectId: "helper" },
      delegation: "acts_for",
      principal: { objectType: "user", objectId: "ann" },
      scope: ["document#view", "repository#*"],
      notBefore: FROM,
      expiresAt: UNTIL,
      via: { actor: { objectType: "agent", objectId: "bot" }, delegation: "acts_for" },
      caveat: { caveatName: "on_ticket", context: { fields: { ticket: { kind: "stringValue", stringValue: "T-1" } } } },
      budget: 10,
      budgetUsed: 4,
    };
    expect(formatDelegationGrant(grant, true)).toBe(
      'agent:helper acts_for user:ann scope=document#view,repository#* from=2026-11-28T10:00:00.000Z until=2026-11-28T12:00:00.000Z via=agent:bot#acts_for caveat=on_ticket{"ticket":"T-1"} budget=4/10 id=g-2\n',
    );
    expect(formatDelegationGrant(grant)).toContain(" budget=10 id=g-2\n");
  });

  it("leaves out via, caveat and budget when the edge has none", () => {
    expect(formatDelegationGrant({ grantId: "g-1", actor: { objectType: "agent", objectId: "bot" }, delegation: "acts_for", principal: { objectType: "user", objectId: "ann" }, scope: ["*"], notBefore: FROM, expiresAt: UNTIL, budget: 0 })).toBe(
      "agent:bot acts_for user:ann scope=* from=2026-11-28T10:00:00.000Z until=2026-11-28T12:00:00.000Z id=g-1\n",
    );
  });
});

describe("parseOnBehalfOfFlag", () => {
  it("reads one object, and nothing when the flag is absent", () => {
    expect(parseOnBehalfOfFlag("user:ann", { type: "agent", id: "bot" })).toEqual({ type: "user", id: "ann" });
    expect(parseOnBehalfOfFlag(undefined, { type: "group", id: "eng", relation: "member" })).toBeUndefined();
  });

  it.each([
    ["a principal without an id", "user", { type: "agent", id: "bot" }, /--on-behalf-of/],
    ["a wildcard principal", "user:*", { type: "agent", id: "bot" }, /--on-behalf-of/],
    ["a userset actor", "user:ann", { type: "group", id: "eng", relation: "member" }, /SUBJECT is the agent acting for user:ann/],
  ])("refuses %s", (_name, text, subject, message) => {
    expect(() => parseOnBehalfOfFlag(text, subject)).toThrow(UsageError);
    expect(() => parseOnBehalfOfFlag(text, subject)).toThrow(message);
  });
});
