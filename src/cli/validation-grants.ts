import { isMap, isScalar, isSeq } from "yaml";
import type { Node as YamlNode, Pair } from "yaml";
import type { GrantRequest } from "../engine/index.ts";
import { parseTimestamp, parseWholeDuration } from "../schema/index.ts";
import { InvalidArgumentError, parseObjectRef, validateCaveatName } from "../tuple/index.ts";
import type { CaveatRef, ObjectRef } from "../tuple/index.ts";
import type { ParseContext, SourcePosition } from "./validation-file.ts";

// The `delegations:` block of a validation file: grants applied in order, as a server would, e.g.
//
//   delegations:
//     - actor: agent:coder                      # required: who acts
//       principal: user:ann                     # required: for whom
//       scope: [repository#read]                # required: type#permission, type#* or "*"
//       delegation: acts_for                    # needed only if several of the actor's type fit
//       via: agent:planner                      # a sub-delegation of planner's edge for ann
//       not_before: 2026-01-15T10:00:00Z        # RFC 3339; default: when granted
//       expires_in: 2h                          # or expires_at: RFC 3339; default: max_lifetime
//       granted_at: 2026-01-15T09:00:00Z        # default: the run's clock (`at:`)
//       caveat: 'on_ticket:{"ticket": "T-42"}'  # a task caveat, as on a relationship
//       budget: 5                               # allowed checks
//       used: 5                                 # of them already spent when the run starts

/**
 * ValidationGrant is one entry of the `delegations:` block. `request` is the grant as planGrant
 * takes it, but for an `expires_in` (milliseconds after `grantedAt`, known only when the run
 * starts). `grantedAt` is the entry's `granted_at` (undefined: the run's clock); `used` counts the
 * budget's uses already spent when the run starts (0 without one). `fieldPositions` maps each
 * field the grant APIs name (`actor`, `scope`, `scope[1]`, `expires_at`, `caveat`, ...) to where
 * the file gives it, so an error naming a field points at it.
 */
export interface ValidationGrant {
  readonly request: GrantRequest;
  readonly expiresInMs: number | undefined;
  readonly grantedAt: Date | undefined;
  readonly used: number;
  readonly position: SourcePosition;
  readonly fieldPositions: ReadonlyMap<string, SourcePosition>;
}

const GRANT_KEYS = ["actor", "principal", "delegation", "via", "scope", "not_before", "expires_at", "expires_in", "granted_at", "caveat", "budget", "used"];

/** parseDelegationsBlock reads the `delegations:` list, reporting each problem at its position. */
export function parseDelegationsBlock(node: YamlNode | undefined, context: ParseContext): ValidationGrant[] {
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) {
    context.report(context.positionOfNode(node), "delegations: must be a list of grants, each a mapping with actor:, principal: and scope:");
    return [];
  }
  const grants: ValidationGrant[] = [];
  for (const item of node.items as YamlNode[]) {
    const grant = parseGrant(item, context);
    if (grant !== undefined) grants.push(grant);
  }
  return grants;
}

function parseGrant(item: YamlNode, context: ParseContext): ValidationGrant | undefined {
  const position = context.positionOfNode(item);
  if (!isMap(item)) {
    context.report(position, "delegations: each grant must be a mapping with actor:, principal: and scope:");
    return undefined;
  }
  const fields = new Map<string, YamlNode>();
  const fieldPositions = new Map<string, SourcePosition>();
  for (const pair of item.items as Pair<YamlNode, YamlNode | null>[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!GRANT_KEYS.includes(key)) {
      context.report(context.positionOfNode(pair.key), `unknown grant key ${JSON.stringify(key)}; expected one of ${GRANT_KEYS.join(", ")}`);
      continue;
    }
    const value = pair.value;
    if (value === null || (isScalar(value) && value.value === null)) {
      context.report(context.positionOfNode(pair.key), `${key}: has no value`);
      fieldPositions.set(key, context.positionOfNode(pair.key));
      continue;
    }
    fields.set(key, value);
    fieldPositions.set(key, context.positionOfNode(value));
  }
  const problems = context.diagnosticCount();
  // Each reader reports its own problem; the grant is kept only if none was found.
  const read = <T>(key: string, parse: (value: unknown) => T): T | undefined => {
    const value = fields.get(key);
    if (value === undefined) return undefined;
    try {
      return parse(isScalar(value) ? value.value : value);
    } catch (error) {
      context.report(context.positionOfNode(value), error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  for (const key of ["actor", "principal", "scope"]) {
    if (!fieldPositions.has(key)) context.report(position, `a grant needs ${key}:`);
  }
  const actor = read("actor", (value) => objectOf(value, "actor"));
  const principal = read("principal", (value) => objectOf(value, "principal"));
  const via = read("via", (value) => objectOf(value, "via"));
  const delegation = read("delegation", (value) => textOf(value, "delegation", "a delegation name, e.g. acts_for"));
  const scopeNode = fields.get("scope");
  const scope = scopeNode === undefined ? [] : scopeOf(scopeNode, context, fieldPositions);
  const notBefore = read("not_before", (value) => timeOf(value, "not_before"));
  const expiresAt = read("expires_at", (value) => timeOf(value, "expires_at"));
  const expiresInMs = read("expires_in", (value) => durationOf(value, "expires_in"));
  const grantedAt = read("granted_at", (value) => timeOf(value, "granted_at"));
  const caveat = read("caveat", (value) => caveatOf(value));
  const budget = read("budget", (value) => countOf(value, "budget", 1));
  const used = read("used", (value) => countOf(value, "used", 0));
  if (fields.has("expires_at") && fields.has("expires_in")) {
    context.report(fieldPositions.get("expires_in") ?? position, "expires_in: give expires_at or expires_in, not both");
  }
  if (used !== undefined && (!fields.has("budget") || (budget !== undefined && used > budget))) {
    context.report(fieldPositions.get("used") ?? position, `used: ${used} needs a budget: of at least ${used}`);
  }
  // An expiry given as expires_in is reported where the grant APIs say expires_at.
  const expiresInPosition = fieldPositions.get("expires_in");
  if (expiresInPosition !== undefined) fieldPositions.set("expires_at", expiresInPosition);
  if (context.diagnosticCount() > problems || actor === undefined || principal === undefined) return undefined;
  const request: GrantRequest = {
    actor,
    principal,
    scope,
    ...(delegation === undefined ? {} : { delegation }),
    ...(via === undefined ? {} : { via }),
    ...(notBefore === undefined ? {} : { notBefore }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(caveat === undefined ? {} : { caveat }),
    ...(budget === undefined ? {} : { budget }),
  };
  return { request, expiresInMs, grantedAt, used: used ?? 0, position, fieldPositions };
}

/**
 * grantFieldPosition is where `grant` gives the field an error names (`grant.scope[1]`,
 * `expires_at`, `caveat.context.ticket`): the most specific part of it the file spells out, else
 * the grant itself.
 */
export function grantFieldPosition(grant: ValidationGrant, field: string | undefined): SourcePosition {
  // `caveat.context.ticket` is tried as itself, then `caveat.context`, then `caveat`.
  let path = (field ?? "").replace(/^grant\./, "");
  while (path !== "") {
    const found = grant.fieldPositions.get(path);
    if (found !== undefined) return found;
    const parent = /^(.+)(\.[^.[]+|\[\d+\])$/.exec(path);
    path = parent?.[1] ?? "";
  }
  return grant.position;
}

function scopeOf(node: YamlNode, context: ParseContext, fieldPositions: Map<string, SourcePosition>): string[] {
  if (isScalar(node) && typeof node.value === "string") return [node.value];
  if (!isSeq(node)) {
    context.report(context.positionOfNode(node), 'scope: must be a list such as [repository#read, repository#push], or "*"');
    return [];
  }
  const entries: string[] = [];
  (node.items as YamlNode[]).forEach((item, index) => {
    const position = context.positionOfNode(item);
    if (!isScalar(item) || typeof item.value !== "string") {
      context.report(position, `scope[${index}]: must be a string such as repository#read, repository#* or "*"`);
      return;
    }
    fieldPositions.set(`scope[${index}]`, position);
    entries.push(item.value);
  });
  return entries;
}

function textOf(value: unknown, key: string, expected: string): string {
  if (typeof value !== "string" || value === "") throw new InvalidArgumentError(`${key}: must be ${expected}`, { field: key });
  return value;
}

function objectOf(value: unknown, key: string): ObjectRef {
  return parseObjectRef(textOf(value, key, "an object such as user:ann"), key);
}

/** timeOf reads an RFC 3339 time, e.g. 2026-01-15T09:00:00Z. */
export function timeOf(value: unknown, key: string): Date {
  const text = typeof value === "string" ? value : "";
  const parsed = parseTimestamp(text);
  const milliseconds = parsed === undefined ? Number.NaN : Number(parsed.seconds) * 1000 + Math.floor(parsed.nanos / 1_000_000);
  if (!Number.isFinite(milliseconds) || Math.abs(milliseconds) > 8.64e15) {
    throw new InvalidArgumentError(`${key}: ${JSON.stringify(value)} is not an RFC 3339 time such as 2026-01-15T09:00:00Z`, { field: key });
  }
  return new Date(milliseconds);
}

// A duration as max_lifetime spells it: 8h, 30m, 1d12h (units d, h, m, s, largest first).
function durationOf(value: unknown, key: string): number {
  const milliseconds = typeof value === "string" ? parseWholeDuration(value) : undefined;
  if (milliseconds === undefined) {
    throw new InvalidArgumentError(`${key}: ${JSON.stringify(value)} is not a duration such as 8h, 30m or 1d12h`, { field: key });
  }
  return milliseconds;
}

// `on_ticket` or `on_ticket:{"ticket": "T-42"}`, as a caveat is written on a relationship.
function caveatOf(value: unknown): CaveatRef {
  const text = textOf(value, "caveat", 'a caveat name, optionally with its context: on_ticket:{"ticket": "T-42"}');
  const colon = text.indexOf(":");
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  validateCaveatName(name, "caveat");
  if (colon < 0) return { name, context: {} };
  let context: unknown;
  try {
    context = JSON.parse(text.slice(colon + 1));
  } catch (error) {
    throw new InvalidArgumentError(`caveat: the context after "${name}:" is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { field: "caveat" });
  }
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new InvalidArgumentError(`caveat: the context after "${name}:" must be a JSON object`, { field: "caveat" });
  }
  return { name, context: context as Record<string, unknown> };
}

function countOf(value: unknown, key: string, least: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
    throw new InvalidArgumentError(`${key}: must be an integer of at least ${least}`, { field: key });
  }
  return value;
}
