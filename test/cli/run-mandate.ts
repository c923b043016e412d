import { execFile } from "node:child_process";
import { resolve } from "node:path";

/** ROOT is the repository root, where the mandate command runs in these tests. */
export const ROOT = resolve(import.meta.dirname, "../..");

/** MandateRun is the outcome of one `mandate` process. */
export interface MandateRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** runMandate runs `node bin/mandate.js ARGS` from the repository root and waits for it to exit. */
export function runMandate(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<MandateRun> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      process.execPath,
      ["bin/mandate.js", ...args],
      { cwd: ROOT, env: { ...process.env, ...options.env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolvePromise({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
