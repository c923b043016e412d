import { InvalidArgumentError } from "../tuple/index.ts";

/**
 * UsageError reports a command line that cannot be run: unknown flag, missing or extra argument,
 * bad flag value. `main` prints its message with a pointer to `--help` and exits with code 2.
 */
export class UsageError extends InvalidArgumentError {
  override name = "UsageError";
}

/**
 * asUsageError runs `parse`, reporting any error it throws as a UsageError with the same message
 * (bad input on the command line), naming `field` (a flag) when given.
 */
export function asUsageError<T>(parse: () => T, field?: string): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error, ...(field === undefined ? {} : { field }) });
  }
}
