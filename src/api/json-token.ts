// The opaque tokens the API hands out that carry several fields (cursors): a short prefix naming
// the kind and version, then base64url of a JSON object. Clients must pass them back unchanged.

/** encodeJsonToken is `prefix` + base64url(JSON of `body`). */
export function encodeJsonToken(prefix: string, body: Readonly<Record<string, unknown>>): string {
  return prefix + Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/**
 * decodeJsonToken is the body of a token encodeJsonToken made with `prefix`, or undefined when
 * `token` is not one (another prefix, not base64url of a JSON object): the caller checks the
 * fields and names its own error.
 */
export function decodeJsonToken(prefix: string, token: string): Record<string, unknown> | undefined {
  if (!token.startsWith(prefix)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token.slice(prefix.length), "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}
