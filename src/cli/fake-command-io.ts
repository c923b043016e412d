// Test-only: a CommandIo that records what a command prints.
import type { CommandIo } from "./command-io.ts";

/** fakeCommandIo is a CommandIo with no environment and empty stdin; `stdout()` and `stderr()` return what was printed so far. */
export function fakeCommandIo(): CommandIo & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    env: {},
    cwd: process.cwd(),
    readStdin: async () => "",
    waitForShutdown: () => Promise.resolve("test"),
    stdout: () => out,
    stderr: () => err,
  };
}
