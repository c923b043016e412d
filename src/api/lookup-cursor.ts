import { createHash } from "node:crypto";
import type { Revision } from "../tuple/index.ts";
import { InvalidArgumentError, assertNever } from "../tuple/index.ts";
import type { LookupResourcesRequest, LookupSubjectsRequest } from "../engine/index.ts";
import type { ConsistencyRequirement } from "./consistency.ts";
import { decodeJsonToken, encodeJsonToken } from "./json-token.ts";

// A lookup cursor is `ml1_` + base64url(JSON { k: kind, d: datastore tag, r: revision, f: query
// fingerprint, a: id of the last result sent }). Like a read cursor it pins the revision and names
// the datastore; the fingerprint ties it to one query (kind, types, permission, subject or
// resource, and the caveat context), so that it cannot resume another one.
const CURSOR_PREFIX = "ml1_";

/** LookupKind names the call a lookup cursor was issued by. */
export type LookupKind = "LookupResources" | "LookupSubjects";

/** LookupCursor is the decoded position of a LookupResources or LookupSubjects stream. */
export interface LookupCursor {
  readonly kind: LookupKind;
  /** datastoreTag and revision name the pinned snapshot, as a consistency token does. */
  readonly datastoreTag: string;
  readonly revision: Revision;
  readonly queryFingerprint: string;
  /** after is the id of the last result already sent (`*` for the wildcard); the next starts after it in lookup order. */
  readonly after: string;
}

/**
 * lookupResourcesFingerprint is a short stable digest of a LookupResources query: equal queries
 * (the context compared as JSON, whatever its key order) give equal fingerprints.
 */
export function lookupResourcesFingerprint(request: LookupResourcesRequest): string {
  const { resourceType, permission, subject, context, onBehalfOf } = request;
  const parts = ["LookupResources", resourceType, permission, subject.type, subject.id, subject.relation ?? null, canonical(context ?? {})];
  // Appended only when set, so that cursors of plain lookups keep their fingerprint.
  if (onBehalfOf !== undefined) parts.push(onBehalfOf.type, onBehalfOf.id);
  return digest(parts);
}

/** lookupSubjectsFingerprint is lookupResourcesFingerprint for a LookupSubjects query. */
export function lookupSubjectsFingerprint(request: LookupSubjectsRequest): string {
  const { resource, permission, subjectType, subjectRelation, context } = request;
  return digest(["LookupSubjects", resource.type, resource.id, permission, subjectType, subjectRelation ?? null, canonical(context ?? {})]);
}

function digest(parts: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);
}

// canonical rewrites a JSON value with object keys sorted, so that key order does not matter.
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([key, item]) => [key, canonical(item)]);
}

/** encodeLookupCursor returns the opaque cursor token for `cursor`. */
export function encodeLookupCursor(cursor: LookupCursor): string {
  return encodeJsonToken(CURSOR_PREFIX, { k: cursor.kind, d: cursor.datastoreTag, r: cursor.revision, f: cursor.queryFingerprint, a: cursor.after });
}

/** decodeLookupCursor parses a cursor token; throws InvalidArgumentError naming `field` if it is malformed. */
export function decodeLookupCursor(token: string, field: string): LookupCursor {
  const malformed = () =>
    new InvalidArgumentError(`${field}: the cursor is malformed; pass back an after_result_cursor of the same lookup exactly as received`, { field });
  const body = decodeJsonToken(CURSOR_PREFIX, token);
  if (body === undefined) throw malformed();
  const { k, d, r, f, a } = body;
  if (k !== "LookupResources" && k !== "LookupSubjects") throw malformed();
  if (typeof d !== "string" || typeof r !== "number" || !Number.isSafeInteger(r) || r < 0 || typeof f !== "string") throw malformed();
  if (typeof a !== "string" || a.length === 0) throw malformed();
  return { kind: k, datastoreTag: d, revision: r, queryFingerprint: f, after: a };
}

/**
 * refuseForeignCursor throws InvalidArgumentError naming `field` unless `cursor` was issued by a
 * `kind` call for the query whose fingerprint is `fingerprint`.
 */
export function refuseForeignCursor(cursor: LookupCursor, kind: LookupKind, fingerprint: string, field: string): void {
  if (cursor.kind !== kind) {
    throw new InvalidArgumentError(`${field}: the cursor was issued by ${cursor.kind}, not ${kind}`, { field });
  }
  if (cursor.queryFingerprint !== fingerprint) {
    throw new InvalidArgumentError(
      `${field}: the cursor was issued for a different query (another type, permission, subject, resource or context); resume with the request the cursor came from`,
      { field },
    );
  }
}

/**
 * refuseConflictingConsistency throws InvalidArgumentError naming `field` when `consistency`
 * asks for a revision the cursor's pinned revision is not: an at_exact_snapshot of another
 * revision, an at_least_as_fresh newer than it, or fully_consistent (which cannot promise the
 * head). minimize_latency (or unset) is served at the cursor's revision.
 */
export function refuseConflictingConsistency(cursor: LookupCursor, consistency: ConsistencyRequirement, field: string): void {
  switch (consistency.kind) {
    case "minimize_latency":
      return;
    case "fully_consistent":
      throw new InvalidArgumentError(
        `${field}: a cursor resumes at the revision it was issued at, which fully_consistent cannot promise to be the newest; send the cursor with minimize_latency (or no consistency), or start again without it`,
        { field },
      );
    case "at_exact_snapshot":
      refuseOtherDatastore(cursor, consistency.token.datastoreTag, consistency.field, field);
      if (consistency.token.revision !== cursor.revision) {
        throw new InvalidArgumentError(
          `${field}: the cursor was issued at another revision than the snapshot ${consistency.field} names; send the cursor with the token of its first page, or start again without it`,
          { field },
        );
      }
      return;
    case "at_least_as_fresh":
      refuseOtherDatastore(cursor, consistency.token.datastoreTag, consistency.field, field);
      if (consistency.token.revision > cursor.revision) {
        throw new InvalidArgumentError(
          `${field}: the cursor was issued at a revision older than ${consistency.field} asks for; start the lookup again without the cursor`,
          { field },
        );
      }
      return;
    default:
      return assertNever(consistency, "consistency requirement");
  }
}

function refuseOtherDatastore(cursor: LookupCursor, tokenDatastoreTag: string, tokenField: string, field: string): void {
  if (tokenDatastoreTag !== cursor.datastoreTag) {
    throw new InvalidArgumentError(`${field}: the cursor and the token of ${tokenField} come from different datastores`, { field });
  }
}
