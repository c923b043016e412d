import { describe, expect, it } from "vitest";
import { runMain } from "./main.ts";
import { fakeCommandIo } from "./fake-command-io.ts";


describe("runMain", () => {
  it.each([
    [["--help"], 0],
    [["help"], 0],
    [[], 2],
  ])("prints the command list for %j and exits %i", async (argv, code) => {
    const io = fakeCommandIo();
    expect(await runMain(argv, io)).toBe(code);
    expect(io.stdout()).toContain("Usage: mandate COMMAND");
  });

  it("rejects an unknown command with exit 2", async () => {
    const io = fakeCommandIo();
    expect(await runMain(["frobnicate"], io)).toBe(2);
    expect(io.stderr()).toContain('unknown command "frobnicate"');
  });

  it("turns a usage error into exit 2 with a pointer to the command's help", async () => {
    const io = fakeCommandIo();
    expect(await runMain(["check", "document:readme", "--bogus"], io)).toBe(2);
    expect(io.stderr()).toMatch(/^mandate check: .*--bogus/);
    expect(io.stderr()).toContain('Run "mandate check --help" for usage.');
  });

  it.each(["serve", "check", "expand", "lookup-resources", "lookup-subjects", "relationships", "delegations", "schema", "validate", "health"])("prints help for %s with exit 0", async (command) => {
    const io = fakeCommandIo();
    expect(await runMain([command, "--help"], io)).toBe(0);
    expect(io.stdout()).toMatch(/^Usage: mandate /);
  });

  it("reports an unreachable server with exit 4 and a hint", async () => {
    const io = fakeCommandIo();
    expect(await runMain(["check", "document:readme#view@user:alice", "--endpoint", "127.0.0.1:1"], io)).toBe(4);
    expect(io.stderr()).toContain('127.0.0.1:1: UNAVAILABLE');
    expect(io.stderr()).toContain('is "mandate serve" running at 127.0.0.1:1?');
  });
});
