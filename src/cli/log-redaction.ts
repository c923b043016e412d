/**
 * LOG_REDACTION is pino's `redact` setting for the root logger: wherever a log line would carry an
 * `authorization` header (request metadata, headers, at the top level or one object down) or the
 * bootstrap key, pino writes "[redacted]" instead. Defence in depth: the authentication interceptor
 * already removes the authorization metadata before anything else sees the call, and no code logs
 * a token; this keeps a future log call from leaking one.
 */
export const LOG_REDACTION = {
  paths: [
    "authorization",
    "*.authorization",
    "metadata.authorization",
    "*.metadata.authorization",
    "headers.authorization",
    "*.headers.authorization",
    "bootstrapKey",
    "*.bootstrapKey",
  ],
  censor: "[redacted]",
};
