import { createHash } from "node:crypto";
import type { Revision } from "../tuple/index.ts";
import { InvalidArgumentError } from "../tuple/index.ts";

// A token is `mz2_` + base64url("<datastore tag>.<decimal revision>"). The datastore tag is a short
// digest of the store's datastore id, so that a token from another database is told apart from one
// of this database instead of naming some unrelated revision here. The prefix versions the format;
// `mz1_` tokens (revision only, issued before datastores had ids) are refused with a clear message.
// Clients must treat the whole string as opaque.
const TOKEN_PREFIX = "mz2_";
const OLD_TOKEN_PREFIX = "mz1_";
const BODY = /^([A-Za-z0-9_-]{8,32})\.(0|[1-9][0-9]*)$/;

/** DecodedZedToken is what a token names: the datastore that issued it and a revision of it. */
export interface DecodedZedToken {
  readonly datastoreTag: string;
  readonly revision: Revision;
}

/** datastoreTagOf returns the short, stable digest of a datastore id that tokens carry. */
export function datastoreTagOf(datastoreId: string): string {
  return createHash("sha256").update(datastoreId, "utf8").digest("base64url").slice(0, 11);
}

/** encodeZedToken returns the opaque consistency token for `revision` of the datastore tagged `datastoreTag`. */
export function encodeZedToken(datastoreTag: string, revision: Revision): string {
  return TOKEN_PREFIX + Buffer.from(`${datastoreTag}.${revision}`, "utf8").toString("base64url");
}

/**
 * decodeZedToken returns the datastore tag and revision a token names, without judging whether
 * they fit this server (resolveRevision does). Throws InvalidArgumentError naming `field` when the
 * token is empty, has another prefix, or does not decode.
 */
export function decodeZedToken(token: string, field: string): DecodedZedToken {
  if (token.length === 0) {
    throw new InvalidArgumentError(`${field}: the consistency token is empty`, { field });
  }
  if (token.startsWith(OLD_TOKEN_PREFIX)) {
    throw new InvalidArgumentError(`${field}: "${shorten(token)}" is a consistency token of an older format that no longer names its datastore; read again to get a current token`, { field });
  }
  if (!token.startsWith(TOKEN_PREFIX)) {
    throw new InvalidArgumentError(`${field}: "${shorten(token)}" is not a Mandate consistency token (expected the ${TOKEN_PREFIX} prefix)`, { field });
  }
  const encoded = token.slice(TOKEN_PREFIX.length);
  const body = /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, "base64url").toString("utf8") : "";
  const match = BODY.exec(body);
  const revision = match ? Number(match[2]) : Number.NaN;
  if (!match || !Number.isSafeInteger(revision)) {
    throw new InvalidArgumentError(`${field}: "${shorten(token)}" is a malformed consistency token`, { field });
  }
  return { datastoreTag: match[1] ?? "", revision };
}

function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
