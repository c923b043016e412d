import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "./usage-error.ts";

/**
 * readFlagFile reads the file a flag names (`file`, relative to `cwd`), or throws UsageError
 * naming the flag: `--tls-cert: cannot read server.pem: ENOENT ...`.
 */
export function readFlagFile(file: string, flag: string, cwd: string): Buffer {
  try {
    return readFileSync(resolve(cwd, file));
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, { field: flag, cause: error });
  }
}
