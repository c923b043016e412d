import { InvalidArgumentError } from "../tuple/index.ts";

/**
 * UsageError reports a command line that cannot be run: unknown flag, missing or extra argument,
 * bad flag value. `main` prints its message with a pointer to `--help` and exits with code 2.
 */
export class UsageError extends InvalidArgumentError {
  override name = "UsageError";
}
