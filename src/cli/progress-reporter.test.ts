import { describe, expect, it } from "vitest";
import type { CommandIo } from "./command-io.ts";
import { ProgressReporter } from "./progress-reporter.ts";

function fakeIo(): { io: CommandIo; err: string[] } {
  const err: string[] = [];
  const io: CommandIo = {
    out: () => undefined,
    err: (text) => err.push(text),
    env: {},
    cwd: "/",
    readStdin: async () => "",
    waitForShutdown: () => new Promise(() => undefined),
  };
  return { io, err };
}

describe("ProgressReporter", () => {
  it("prints a plain line per interval with count and rate when stderr is not a terminal", () => {
    const { io, err } = fakeIo();
    let now = 0;
    const progress = new ProgressReporter(io, "import", { tty: false, quiet: false, intervalMs: 1000, now: () => now });
    now = 500;
    progress.update(500);
    now = 1000;
    progress.update(1000);
    now = 2000;
    progress.finish(4000);
    expect(err).toEqual(["import: 1,000 relationships (1,000/s, 1.0 s)\n", "import: 4,000 relationships (2,000/s, 2.0 s)\n"]);
  });

  it("redraws one line in place on a terminal and ends it at finish", () => {
    const { io, err } = fakeIo();
    let now = 0;
    const progress = new ProgressReporter(io, "export", { tty: true, quiet: false, now: () => now });
    now = 200;
    progress.update(10);
    progress.finish(20);
    expect(err.join("")).toBe("\r\x1b[Kexport: 10 relationships (50/s, 0.2 s)\r\x1b[Kexport: 20 relationships (100/s, 0.2 s)\n");
  });

  it("prints nothing when quiet", () => {
    const { io, err } = fakeIo();
    let now = 0;
    const progress = new ProgressReporter(io, "import", { tty: true, quiet: true, now: () => now });
    now = 10_000;
    progress.update(5);
    progress.finish(5);
    expect(err).toEqual([]);
  });
});
