import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../tuple/index.ts";

/**
 * withRenamedField returns `error` with its field renamed by `rename` (and the message's leading
 * `field:` with it) when it is an InvalidArgumentError, FailedPreconditionError or NotFoundError
 * naming a field; anything else passes unchanged.
 */
export function withRenamedField(error: unknown, rename: (field: string) => string): unknown {
  if (!(error instanceof InvalidArgumentError || error instanceof FailedPreconditionError || error instanceof NotFoundError)) return error;
  if (error.field === undefined) return error;
  const field = rename(error.field);
  if (field === error.field) return error;
  const message = error.message.startsWith(`${error.field}:`) ? `${field}${error.message.slice(error.field.length)}` : `${field}: ${error.message}`;
  const options = { field, cause: error };
  if (error instanceof InvalidArgumentError) return new InvalidArgumentError(message, options);
  if (error instanceof FailedPreconditionError) return new FailedPreconditionError(message, options);
  return new NotFoundError(message, options);
}
