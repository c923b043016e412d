import { createHash } from "node:crypto";
import type { Relationship, Revision } from "../tuple/index.ts";
import { InvalidArgumentError, parseRelationship, relationshipKey } from "../tuple/index.ts";
import type { RelationshipFilter } from "../store/index.ts";
import { decodeJsonToken, encodeJsonToken } from "./json-token.ts";

// A cursor is `mc2_` + base64url(JSON { d: datastore tag, r: revision, f: filter fingerprint,
// a: key of the last relationship sent }). It pins the revision so that a resumed read sees the
// same snapshot, names the datastore like a consistency token does, and carries the filter's
// fingerprint so that a cursor cannot be replayed against another filter.
const CURSOR_PREFIX = "mc2_";

/** ReadCursor is the decoded position of a ReadRelationships stream. */
export interface ReadCursor {
  /** datastoreTag and revision name the pinned snapshot, as a consistency token does. */
  readonly datastoreTag: string;
  readonly revision: Revision;
  readonly filterFingerprint: string;
  /** after is the last relationship already returned; the next page starts strictly after it. */
  readonly after: Relationship;
}

/** filterFingerprint is a short stable digest of a filter; equal filters give equal fingerprints. */
export function filterFingerprint(filter: RelationshipFilter): string {
  const canonical = JSON.stringify([
    filter.resourceType ?? null,
    filter.resourceId ?? null,
    filter.resourceIdPrefix ?? null,
    filter.relation ?? null,
    filter.subject ? [filter.subject.type, filter.subject.id ?? null, filter.subject.relation === undefined ? "<any>" : filter.subject.relation] : null,
  ]);
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 16);
}

/** encodeReadCursor returns the opaque cursor token for `cursor`. */
export function encodeReadCursor(cursor: ReadCursor): string {
  return encodeJsonToken(CURSOR_PREFIX, { d: cursor.datastoreTag, r: cursor.revision, f: cursor.filterFingerprint, a: relationshipKey(cursor.after) });
}

/** decodeReadCursor parses a cursor token; throws InvalidArgumentError naming `field` if it is malformed. */
export function decodeReadCursor(token: string, field: string): ReadCursor {
  const malformed = () => new InvalidArgumentError(`${field}: the cursor is malformed; pass back an after_result_cursor exactly as received`, { field });
  const body = decodeJsonToken(CURSOR_PREFIX, token);
  if (body === undefined) throw malformed();
  const { d, r, f, a } = body;
  if (typeof d !== "string" || typeof r !== "number" || !Number.isSafeInteger(r) || r < 0 || typeof f !== "string" || typeof a !== "string") throw malformed();
  let after: Relationship;
  try {
    after = parseRelationship(a, field);
  } catch {
    throw malformed();
  }
  return { datastoreTag: d, revision: r, filterFingerprint: f, after };
}
