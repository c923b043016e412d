import type { Revision } from "../tuple/index.ts";
import { InvalidArgumentError } from "../tuple/index.ts";

// A token is `mz1_` + base64url(decimal revision). The prefix versions the format so that a later
// encoding (e.g. one that also names the datastore) can be told apart; clients must treat the whole
// string as opaque.
const TOKEN_PREFIX = "mz1_";
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** encodeZedToken returns the opaque consistency token for `revision` (a safe non-negative integer). */
export function encodeZedToken(revision: Revision): string {
  return TOKEN_PREFIX + Buffer.from(String(revision), "utf8").toString("base64url");
}

/**
 * decodeZedToken returns the revision a token names. Throws InvalidArgumentError naming `field`
 * when the token is empty, has another prefix, or does not decode to a revision.
 */
export function decodeZedToken(token: string, field: string): Revision {
  if (token.length === 0) {
    throw new InvalidArgumentError(`${field}: the consistency token is empty`, { field });
  }
  if (!token.startsWith(TOKEN_PREFIX)) {
    throw new InvalidArgumentError(`${field}: "${shorten(token)}" is not a Mandate consistency token (expected the ${TOKEN_PREFIX} prefix)`, { field });
  }
  const body = token.slice(TOKEN_PREFIX.length);
  const decimal = /^[A-Za-z0-9_-]+$/.test(body) ? Buffer.from(body, "base64url").toString("utf8") : "";
  const revision = DECIMAL.test(decimal) ? Number(decimal) : Number.NaN;
  if (!Number.isSafeInteger(revision)) {
    throw new InvalidArgumentError(`${field}: "${shorten(token)}" is a malformed consistency token`, { field });
  }
  return revision;
}

function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
