// Delegation edges stored as relationships: an edge "agent:b acts for user:h" is the relationship
// `agent:b#acts_for@user:h`, expiring when the edge does, with caveat `mandate/delegation` whose
// context holds the edge's attributes. This module converts between the two forms and checks an
// edge against the schema; the engine decides what an edge allows.
import { BugError, FailedPreconditionError, InvalidArgumentError, WILDCARD_ID, parseSubjectRef, validateRelationName, validateTypeName } from "../tuple/index.ts";
import type { CaveatRef, ObjectRef, Relationship } from "../tuple/index.ts";
import { validateCaveatContext } from "./caveat-context.ts";
import { formatDelegationPrincipal } from "./format-allowed-subject.ts";
import { formatLifetime } from "./lifetime.ts";
import { lookupDefinition } from "./lookup-definition.ts";
import type { Delegation, Schema, ScopeEntry } from "./model.ts";

/**
 * DELEGATION_CAVEAT is the caveat every delegation edge carries, and no other relationship may:
 * its context holds the edge's attributes (see grantToRelationship). Schemas cannot declare it
 * (the `mandate/` prefix is reserved), so it is never evaluated as a CEL caveat.
 */
export const DELEGATION_CAVEAT = "mandate/delegation";

/**
 * DelegationGrant is one delegation edge: `actor` may act for `principal` through delegation
 * `delegation` of the actor's type, for what `scope` covers, from `notBefore` until `expiresAt`.
 * `id` is random, chosen by whoever creates the edge, and keys its budget counter. `principal` is
 * always the root of the chain (the human): `chain` counts the hops from it (1: granted by the
 * principal itself) and `via` names the parent edge of a sub-delegation (`via.actor` acts for the
 * same principal through `via.delegation`). `caveat` is the task caveat the principal attached
 * (one of the delegation's `with` caveats, with its context); `budget` the most checks the edge
 * may allow.
 */
export interface DelegationGrant {
  readonly actor: ObjectRef;
  readonly delegation: string;
  readonly principal: ObjectRef;
  readonly id: string;
  readonly scope: readonly ScopeEntry[];
  readonly notBefore: Date;
  readonly expiresAt: Date;
  readonly grantedAt: Date;
  readonly chain: number;
  readonly via?: { readonly actor: ObjectRef; readonly delegation: string; readonly grantId: string } | undefined;
  readonly caveat?: CaveatRef | undefined;
  readonly budget?: number | undefined;
}

/** MAX_BUDGET is the largest budget an edge may carry (2^31 − 1, so that counters fit an SQL integer). */
export const MAX_BUDGET = 2 ** 31 - 1;

// Grant ids: random tokens (UUIDs, base64url), bounded so that they key a counter cheaply.
const GRANT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const CONTEXT_KEYS = new Set(["id", "scope", "not_before", "granted_at", "chain", "via", "via_id", "caveat", "caveat_context", "budget"]);

/**
 * grantToRelationship returns the relationship that stores `grant`:
 * `agent:b#acts_for@user:h`, expiring at `expiresAt`, with caveat DELEGATION_CAVEAT and context
 * `{ id, scope: ["document#view"], not_before, granted_at (RFC 3339, UTC, milliseconds), chain,
 * via?: "agent:a#acts_for", via_id? (the parent's grant id), caveat?: "on_ticket",
 * caveat_context?: {...}, budget? }`.
 * It does not validate the grant (validateGrant does).
 */
export function grantToRelationship(grant: DelegationGrant): Relationship {
  const context: Record<string, unknown> = {
    id: grant.id,
    scope: grant.scope.map(formatScopeEntry),
    not_before: grant.notBefore.toISOString(),
    granted_at: grant.grantedAt.toISOString(),
    chain: grant.chain,
  };
  if (grant.via !== undefined) {
    context["via"] = `${grant.via.actor.type}:${grant.via.actor.id}#${grant.via.delegation}`;
    context["via_id"] = grant.via.grantId;
  }
  if (grant.caveat !== undefined) {
    context["caveat"] = grant.caveat.name;
    context["caveat_context"] = grant.caveat.context;
  }
  if (grant.budget !== undefined) context["budget"] = grant.budget;
  return {
    resource: grant.actor,
    relation: grant.delegation,
    subject: { type: grant.principal.type, id: grant.principal.id },
    caveat: { name: DELEGATION_CAVEAT, context },
    expiresAt: grant.expiresAt,
  };
}

/**
 * grantFromRelationship reads the grant a relationship stores (the inverse of
 * grantToRelationship). It checks form only, not the schema, and throws InvalidArgumentError
 * naming the field at fault: `relationship.caveat` (not DELEGATION_CAVEAT),
 * `relationship.expiration` (missing), `relationship.subject` (a userset or wildcard),
 * `relationship.caveat.context.<key>` (a missing or malformed attribute, or a key it does not know).
 */
export function grantFromRelationship(relationship: Relationship): DelegationGrant {
  return readGrant(relationship, "relationship");
}

/** readGrant is grantFromRelationship naming fields under `field` (`updates[0].relationship`), for validateRelationship. */
export function readGrant(relationship: Relationship, field: string): DelegationGrant {
  const edge = `\`${relationship.resource.type}#${relationship.relation}\``;
  if (relationship.caveat?.name !== DELEGATION_CAVEAT) {
    const caveatField = `${field}.caveat`;
    throw new InvalidArgumentError(`${caveatField}: an edge of delegation ${edge} must carry caveat \`${DELEGATION_CAVEAT}\` holding its attributes`, {
      field: caveatField,
    });
  }
  if (relationship.expiresAt === undefined) {
    const expirationField = `${field}.expiration`;
    throw new InvalidArgumentError(`${expirationField}: an edge of delegation ${edge} must have an expiration`, { field: expirationField });
  }
  const { subject } = relationship;
  if (subject.relation !== undefined || subject.id === WILDCARD_ID) {
    const subjectField = `${field}.subject`;
    throw new InvalidArgumentError(`${subjectField}: an edge of delegation ${edge} acts for one object, not a userset or wildcard`, {
      field: subjectField,
    });
  }
  const attributes = new ContextReader(relationship.caveat.context, `${field}.caveat.context`);
  const caveatName = attributes.optional("caveat", (value) => (typeof value === "string" && value !== "" ? value : undefined), "a caveat name");
  const caveatContext = attributes.optional("caveat_context", (value) => (isPlainObject(value) ? value : undefined), "an object");
  if (caveatName === undefined && caveatContext !== undefined) attributes.fail("caveat_context", "is given without `caveat`");
  const via = attributes.optional("via", parseVia, "a parent edge `type:id#delegation`");
  // A sub-delegation is pinned to the very grant it was passed on from: the parent replaced by
  // another grant (revoked, then granted again) does not revive it.
  const viaId = attributes.optional("via_id", parseGrantId, GRANT_ID_EXPECTED);
  if ((via === undefined) !== (viaId === undefined)) attributes.fail(via === undefined ? "via" : "via_id", "needs `via` and `via_id` together");
  return {
    actor: relationship.resource,
    delegation: relationship.relation,
    principal: { type: subject.type, id: subject.id },
    id: attributes.required("id", parseGrantId, GRANT_ID_EXPECTED),
    scope: attributes.required("scope", (value, key) => (Array.isArray(value) ? value.map((entry, i) => parseScopeEntryValue(entry, `${key}[${i}]`)) : undefined), "a list of scope entries"),
    notBefore: attributes.required("not_before", parseTimestamp, "an RFC 3339 timestamp"),
    expiresAt: relationship.expiresAt,
    grantedAt: attributes.required("granted_at", parseTimestamp, "an RFC 3339 timestamp"),
    chain: attributes.required("chain", (value) => (Number.isSafeInteger(value) ? (value as number) : undefined), "an integer"),
    via: via === undefined || viaId === undefined ? undefined : { ...via, grantId: viaId },
    caveat: caveatName === undefined ? undefined : { name: caveatName, context: caveatContext ?? {} },
    budget: attributes.optional("budget", (value) => (typeof value === "number" ? value : undefined), "a number"),
  };
}

/**
 * validateGrant checks `grant` against the schema and throws naming `${field}.<property>`, the
 * property at fault as the grant APIs spell it (`grant.scope[1]`, `grant.expires_at`,
 * `grant.caveat.context.ticket`; an empty `field` names the property alone: `scope[1]`).
 * FailedPreconditionError when a name the schema does not know (actor or principal definition,
 * the delegation on the actor's type, via's delegation) makes it impossible; InvalidArgumentError
 * when the schema forbids it: a principal type the delegation does not allow; a caveat it does not
 * allow for that type, or none where every alternative of the type requires one; the actor as its
 * own principal; an empty scope, an entry twice, an entry naming an unknown definition or a name
 * that is not a relation or permission, an entry outside the delegation's scope; notBefore not
 * before expiresAt; expiresAt more than max_lifetime after grantedAt; chain outside 1..max_chain;
 * `via` missing on a sub-delegation (chain > 1), present on chain 1, naming the actor itself or a
 * delegation that does not allow the principal's type; a budget that is not a positive integer up
 * to 2^31 − 1; a caveat context that does not fit the caveat's parameters.
 */
export function validateGrant(schema: Schema, grant: DelegationGrant, field = "grant"): void {
  checkGrant(schema, grant, (property) => (field === "" ? GRANT_PROPERTIES[property] : `${field}.${GRANT_PROPERTIES[property]}`));
}

/**
 * validateGrantOfRelationship is validateGrant naming the fields of the relationship that stores
 * the grant (`relationship.subject`, `relationship.caveat.context.scope[1]`), for
 * validateRelationship.
 */
export function validateGrantOfRelationship(schema: Schema, grant: DelegationGrant, field: string): void {
  checkGrant(schema, grant, (property) => `${field}.${RELATIONSHIP_PROPERTIES[property]}`);
}

type GrantProperty = "actor" | "delegation" | "principal" | "scope" | "notBefore" | "expiresAt" | "grantedAt" | "chain" | "via" | "caveat" | "caveatContext" | "budget";

const GRANT_PROPERTIES: Readonly<Record<GrantProperty, string>> = {
  actor: "actor",
  delegation: "delegation",
  principal: "principal",
  scope: "scope",
  notBefore: "not_before",
  expiresAt: "expires_at",
  grantedAt: "granted_at",
  chain: "chain",
  via: "via",
  caveat: "caveat",
  caveatContext: "caveat.context",
  budget: "budget",
};

const RELATIONSHIP_PROPERTIES: Readonly<Record<GrantProperty, string>> = {
  actor: "resource",
  delegation: "relation",
  principal: "subject",
  scope: "caveat.context.scope",
  notBefore: "caveat.context.not_before",
  expiresAt: "expiration",
  grantedAt: "caveat.context.granted_at",
  chain: "caveat.context.chain",
  via: "caveat.context.via",
  caveat: "caveat.context.caveat",
  caveatContext: "caveat.context.caveat_context",
  budget: "caveat.context.budget",
};

function checkGrant(schema: Schema, grant: DelegationGrant, fieldOf: (property: GrantProperty) => string): void {
  const delegation = lookupDelegation(schema, grant.actor.type, grant.delegation, fieldOf("actor"), fieldOf("delegation"));
  const where = `delegation \`${delegation.actorType}#${delegation.name}\``;
  checkPrincipal(schema, grant, delegation, where, fieldOf);
  checkScope(schema, grant.scope, delegation, where, fieldOf("scope"));
  const invalid = (property: GrantProperty, message: string): never => {
    throw new InvalidArgumentError(`${fieldOf(property)}: ${message}`, { field: fieldOf(property) });
  };
  if (grant.notBefore.getTime() >= grant.expiresAt.getTime()) {
    invalid("notBefore", `not_before ${grant.notBefore.toISOString()} must be before the expiry ${grant.expiresAt.toISOString()}`);
  }
  const lifetime = grant.expiresAt.getTime() - grant.grantedAt.getTime();
  if (lifetime > delegation.maxLifetimeMs) {
    invalid("expiresAt", `the edge would live ${formatLifetime(lifetime)} from when it was granted; ${where} allows at most ${formatLifetime(delegation.maxLifetimeMs)} (max_lifetime)`);
  }
  if (!Number.isInteger(grant.chain) || grant.chain < 1 || grant.chain > delegation.maxChain) {
    invalid("chain", `chain ${grant.chain} is outside 1..${delegation.maxChain}: ${where} allows paths of at most ${delegation.maxChain} hop${delegation.maxChain === 1 ? "" : "s"} (max_chain)`);
  }
  checkVia(schema, grant, fieldOf);
  if (grant.budget !== undefined && (!Number.isInteger(grant.budget) || grant.budget < 1 || grant.budget > MAX_BUDGET)) {
    invalid("budget", `budget ${grant.budget} is not an integer from 1 to ${MAX_BUDGET}`);
  }
}

function lookupDelegation(schema: Schema, actorType: string, name: string, actorField: string, delegationField: string): Delegation {
  const definition = lookupDefinition(schema, actorType, `${actorField}.type`);
  const delegation = definition.delegations.get(name);
  if (delegation !== undefined) return delegation;
  const known = [...definition.delegations.keys()].map((known) => `\`${known}\``).join(", ") || "none";
  throw new FailedPreconditionError(`${delegationField}: delegation \`${name}\` not found on definition \`${actorType}\` (its delegations: ${known})`, {
    field: delegationField,
  });
}

// The principal's type must be one the delegation allows, with a caveat (or none) that one of
// that type's alternatives names; the caveat's context must fit the caveat's parameters.
function checkPrincipal(schema: Schema, grant: DelegationGrant, delegation: Delegation, where: string, fieldOf: (property: GrantProperty) => string): void {
  const { principal, actor } = grant;
  const principalField = fieldOf("principal");
  lookupDefinition(schema, principal.type, `${principalField}.type`);
  const allowed = delegation.principals.map(formatDelegationPrincipal).join(", ");
  const candidates = delegation.principals.filter((candidate) => candidate.type === principal.type);
  if (candidates.length === 0) {
    throw new InvalidArgumentError(`${principalField}: principal type \`${principal.type}\` is not allowed by ${where}; allowed: ${allowed}`, { field: principalField });
  }
  if (principal.type === actor.type && principal.id === actor.id) {
    throw new InvalidArgumentError(`${principalField}: \`${actor.type}:${actor.id}\` cannot act for itself`, { field: principalField });
  }
  const caveatName = grant.caveat?.name;
  if (!candidates.some((candidate) => candidate.caveat === caveatName)) {
    const caveatField = fieldOf("caveat");
    const options = candidates.map(formatDelegationPrincipal).join(", ");
    const message =
      caveatName === undefined
        ? `${where} requires a caveat for principal type \`${principal.type}\`; allowed: ${options}`
        : `caveat \`${caveatName}\` is not allowed for principal type \`${principal.type}\` on ${where}; allowed: ${options}`;
    throw new InvalidArgumentError(`${caveatField}: ${message}`, { field: caveatField });
  }
  if (grant.caveat === undefined) return;
  const caveat = schema.caveats.get(grant.caveat.name);
  if (caveat === undefined) throw new BugError(`${where} allows caveat \`${grant.caveat.name}\`, which the compiled schema lacks`);
  validateCaveatContext(caveat, grant.caveat.context, fieldOf("caveatContext"));
}

function checkScope(schema: Schema, scope: readonly ScopeEntry[], delegation: Delegation, where: string, scopeField: string): void {
  if (scope.length === 0) {
    throw new InvalidArgumentError(`${scopeField}: the scope is empty; name what the edge covers, within ${describeScope(delegation.scope)}`, { field: scopeField });
  }
  const seen = new Set<string>();
  scope.forEach((entry, index) => {
    const entryField = `${scopeField}[${index}]`;
    const text = formatScopeEntry(entry);
    const fail = (message: string): never => {
      throw new InvalidArgumentError(`${entryField}: ${message}`, { field: entryField });
    };
    if (seen.has(text)) fail(`scope entry \`${text}\` is listed twice`);
    seen.add(text);
    if (entry.type !== "*") {
      const definition = schema.definitions.get(entry.type);
      if (definition === undefined) fail(`scope entry \`${text}\` names definition \`${entry.type}\`, which is not in the schema`);
      else if (entry.permission !== "*" && !definition.relations.has(entry.permission) && !definition.permissions.has(entry.permission)) {
        fail(`scope entry \`${text}\` names \`${entry.permission}\`, which is not a relation or permission of definition \`${entry.type}\``);
      }
    }
    if (!scopeWithin([entry], delegation.scope)) fail(`scope entry \`${text}\` is outside the scope of ${where} (${describeScope(delegation.scope)})`);
  });
}

function checkVia(schema: Schema, grant: DelegationGrant, fieldOf: (property: GrantProperty) => string): void {
  const viaField = fieldOf("via");
  const invalid = (message: string): never => {
    throw new InvalidArgumentError(`${viaField}: ${message}`, { field: viaField });
  };
  const { via } = grant;
  if (via === undefined) {
    if (grant.chain > 1) invalid(`a sub-delegation (chain ${grant.chain}) must name its parent edge`);
    return;
  }
  if (grant.chain === 1) invalid("an edge of chain 1 is granted by the principal itself and has no parent edge");
  if (via.actor.type === grant.actor.type && via.actor.id === grant.actor.id) invalid(`the parent edge cannot be the actor's own (\`${via.actor.type}:${via.actor.id}\`)`);
  const parent = lookupDelegation(schema, via.actor.type, via.delegation, viaField, viaField);
  if (!parent.principals.some((principal) => principal.type === grant.principal.type)) {
    invalid(`delegation \`${parent.actorType}#${parent.name}\` of the parent edge does not allow principal type \`${grant.principal.type}\``);
  }
}

function describeScope(scope: readonly ScopeEntry[]): string {
  return scope.map(formatScopeEntry).join(" | ");
}

/**
 * scopeCovers tells whether `scope` lets an edge be used to check `permission` on a resource of
 * `type`: some entry is `*`, `type#*` or `type#permission`.
 */
export function scopeCovers(scope: readonly ScopeEntry[], type: string, permission: string): boolean {
  return scope.some((entry) => entry.type === "*" || (entry.type === type && (entry.permission === "*" || entry.permission === permission)));
}

/**
 * scopeWithin tells whether every entry of `inner` is covered by `outer`: `type#permission` by
 * what scopeCovers accepts, `type#*` only by `type#*` or `*` (not by a list of every permission of
 * the type, which a later schema could outgrow), `*` only by `*`.
 */
export function scopeWithin(inner: readonly ScopeEntry[], outer: readonly ScopeEntry[]): boolean {
  const hasAll = outer.some((entry) => entry.type === "*");
  return inner.every((entry) => {
    if (entry.type === "*") return hasAll;
    if (entry.permission === "*") return hasAll || outer.some((candidate) => candidate.type === entry.type && candidate.permission === "*");
    return scopeCovers(outer, entry.type, entry.permission);
  });
}

/**
 * parseScopeEntry reads `document#view`, `document#*` or `*` (type and permission `*`), and throws
 * InvalidArgumentError naming `field` for anything else. It checks form only: whether the names
 * exist is validateGrant's business.
 */
export function parseScopeEntry(text: string, field: string): ScopeEntry {
  if (text === "*") return { type: "*", permission: "*" };
  const hash = text.indexOf("#");
  const type = hash < 0 ? "" : text.slice(0, hash);
  const permission = hash < 0 ? "" : text.slice(hash + 1);
  if (hash > 0) {
    try {
      validateTypeName(type, field);
      if (permission !== "*") validateRelationName(permission, field);
      return { type, permission };
    } catch {
      // Reported below with the expected forms.
    }
  }
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  throw new InvalidArgumentError(`${field}: "${shown}" is not a scope entry; expected \`type#permission\`, \`type#*\` or \`*\``, { field });
}

/** formatScopeEntry writes a scope entry as parseScopeEntry reads it: `document#view`, `document#*`, `*`. */
export function formatScopeEntry(entry: ScopeEntry): string {
  return entry.type === "*" ? "*" : `${entry.type}#${entry.permission}`;
}

function parseScopeEntryValue(value: unknown, field: string): ScopeEntry {
  if (typeof value !== "string") throw new InvalidArgumentError(`${field}: expected a scope entry string, found ${describeValue(value)}`, { field });
  return parseScopeEntry(value, field);
}

function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value !== "string" || !RFC3339.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function parseVia(value: unknown, field: string): { actor: ObjectRef; delegation: string } | undefined {
  if (typeof value !== "string") return undefined;
  const subject = parseSubjectRef(value, field);
  if (subject.relation === undefined || subject.id === WILDCARD_ID) return undefined;
  return { actor: { type: subject.type, id: subject.id }, delegation: subject.relation };
}

const GRANT_ID_EXPECTED = "a grant id of 1 to 128 characters of A-Z, a-z, 0-9, _ and -";

function parseGrantId(value: unknown): string | undefined {
  return typeof value === "string" && GRANT_ID.test(value) ? value : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

// Reads the attributes of a delegation edge from its caveat context, naming `${field}.<key>` in
// errors; a key it does not know is an error too, so that a misspelt attribute is not ignored.
class ContextReader {
  readonly #context: Readonly<Record<string, unknown>>;
  readonly #field: string;

  constructor(context: Readonly<Record<string, unknown>>, field: string) {
    this.#context = context;
    this.#field = field;
    for (const key of Object.keys(context)) {
      if (!CONTEXT_KEYS.has(key)) this.fail(key, `is not an attribute of a delegation edge (known: ${[...CONTEXT_KEYS].join(", ")})`);
    }
  }

  required<T>(key: string, parse: (value: unknown, field: string) => T | undefined, expected: string): T {
    const value = this.optional(key, parse, expected);
    if (value === undefined) this.fail(key, `is missing; expected ${expected}`);
    return value;
  }

  optional<T>(key: string, parse: (value: unknown, field: string) => T | undefined, expected: string): T | undefined {
    if (!Object.hasOwn(this.#context, key)) return undefined;
    const value = this.#context[key];
    const parsed = parse(value, `${this.#field}.${key}`);
    if (parsed === undefined) this.fail(key, `expected ${expected}, found ${describeValue(value)}`);
    return parsed;
  }

  fail(key: string, problem: string): never {
    const field = `${this.#field}.${key}`;
    throw new InvalidArgumentError(`${field}: ${problem}`, { field });
  }
}
