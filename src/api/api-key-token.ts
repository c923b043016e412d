import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

// The form of an API key token: `mk_<id>_<secret>`. The id (letters and digits, so the first "_"
// after it ends it) lets the server find the key's record with one lookup; the secret (base64url,
// at least 32 characters) is what proves the caller holds the key, and is stored only as a hash.
//
// The hash is one SHA-256, not a slow password hash (bcrypt, scrypt, argon2): those exist to make
// guessing low-entropy, human-chosen passwords expensive for someone who stole the hashes. The
// secrets here are 256 random bits (generated ones) or at least 32 random-looking characters
// (a bootstrap key; see MIN_SECRET_LENGTH): no dictionary helps, and inverting SHA-256 of such an
// input is out of reach, so a stolen table yields no usable key. A slow hash would only add its
// cost (milliseconds) to every call that misses the registry's cache.

const TOKEN_PATTERN = /^mk_([A-Za-z0-9]{1,64})_([A-Za-z0-9_-]+)$/;

/** MIN_SECRET_LENGTH is the shortest secret a token may carry (32 base64url characters: 192 bits when random). */
const MIN_SECRET_LENGTH = 32;

/** ApiKeyToken is a token taken apart: the key's id and its secret. */
export interface ApiKeyToken {
  readonly id: string;
  readonly secret: string;
}

/** formatApiKeyToken writes the token `mk_<id>_<secret>`. */
export function formatApiKeyToken(token: ApiKeyToken): string {
  return `mk_${token.id}_${token.secret}`;
}

/**
 * parseApiKeyToken takes `mk_<id>_<secret>` apart, or returns undefined when `text` is not of that
 * form (or its secret is shorter than MIN_SECRET_LENGTH). Example: `mk_bootstrap_q8…` has id
 * `bootstrap`.
 */
export function parseApiKeyToken(text: string): ApiKeyToken | undefined {
  const match = TOKEN_PATTERN.exec(text);
  if (match === null) return undefined;
  const [, id = "", secret = ""] = match;
  return secret.length >= MIN_SECRET_LENGTH ? { id, secret } : undefined;
}

/** newKeyId returns a fresh random key id: 16 hex digits. */
export function newKeyId(): string {
  return randomBytes(8).toString("hex");
}

/** newSecret returns a fresh random secret: 32 random bytes in base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** hashSecret is the stored form of a secret: its SHA-256, in hex. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * secretMatches tells whether `secret` hashes to `storedHash`, in time that does not depend on
 * where the two differ (crypto.timingSafeEqual over the two digests), so that a caller timing
 * failed attempts learns nothing about the stored hash. A malformed stored hash never matches.
 */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash("sha256").update(secret, "utf8").digest();
  const stored = Buffer.from(storedHash, "hex");
  // Both are 32 bytes unless the stored hash is malformed; timingSafeEqual needs equal lengths.
  if (stored.length !== presented.length) return false;
  return timingSafeEqual(presented, stored);
}
