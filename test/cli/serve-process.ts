import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { ROOT } from "./run-mandate.ts";

/** ServeProcess is a `mandate serve` child process and the address it serves on. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly logLines: string[];
  /** stop sends `signal` (default SIGTERM) and waits for the process to exit; returns its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * startServe spawns `node bin/mandate.js serve --port 0 ARGS` from the repository root and
 * resolves once it logs "mandate serving on ..." (start-up data loaded); rejects if it exits first.
 * Authentication is off (MANDATE_AUTH=none) unless `env` says otherwise.
 */
export async function startServe(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ["bin/mandate.js", "serve", "--port", "0", ...args], {
    cwd: ROOT,
    // Authentication off unless a test turns it on (MANDATE_AUTH: "keys"): these tests are about other things.
    env: { ...process.env, MANDATE_AUTH: "none", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logLines: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => logLines.push(chunk.toString("utf8")));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      logLines.push(line);
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg?.startsWith("mandate serving on") && entry.address) resolve(entry.address);
    });
    child.once("exit", (code) => reject(new Error(`mandate serve exited with ${code}: ${logLines.join("\n")}`)));
  });
  return {
    child,
    endpoint,
    logLines,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill(signal);
      return exited;
    },
  };
}
