// Where the repository is, for the harness and the child processes it starts.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** ROOT is the repository root (the child processes run from there). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
