import { describe, expect, it } from "vitest";
import { expectPositionals, parseCommandLine, parseIntegerSetting, settingOf } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

describe("parseCommandLine", () => {
  it("accepts --name value, --name=value, short aliases and positionals in any order", () => {
    const parsed = parseCommandLine(["a", "--port", "1", "b", "--host=h", "-q"], {
      port: { type: "string" },
      host: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    });
    expect(parsed.values).toMatchObject({ port: "1", host: "h", quiet: true });
    expect(parsed.positionals).toEqual(["a", "b"]);
  });

  it("treats everything after -- as positionals", () => {
    expect(parseCommandLine(["--", "--port"], { port: { type: "string" } }).positionals).toEqual(["--port"]);
  });

  it.each([
    ["an unknown flag", ["--nope"], /--nope/],
    ["a string flag without a value", ["--port"], /--port/],
  ])("rejects %s with a UsageError naming the flag", (_name, args, message) => {
    const run = () => parseCommandLine(args, { port: { type: "string" } });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
  });
});

describe("settingOf", () => {
  it.each([
    ["the flag over the environment", "flag", "env", "default", "flag"],
    ["the environment over the default", undefined, "env", "default", "env"],
    ["the default when the variable is empty", undefined, "", "default", "default"],
  ])("picks %s", (_name, flag, env, fallback, expected) => {
    expect(settingOf(flag, env, fallback)).toBe(expected);
  });
});

describe("parseIntegerSetting", () => {
  it("parses a whole number in range", () => {
    expect(parseIntegerSetting("50051", "--port", 0, 65_535)).toBe(50051);
  });

  it.each([
    ["12a", /"12a" is not a whole number/],
    ["1.5", /is not a whole number/],
    ["70000", /70000 is out of range \(0\.\.65535\)/],
  ])("rejects %s", (text, message) => {
    expect(() => parseIntegerSetting(text, "--port", 0, 65_535)).toThrow(message);
  });
});

describe("expectPositionals", () => {
  const parsed = (positionals: string[]) => ({ values: {}, positionals });

  it("names the missing or extra argument and quotes the usage", () => {
    expect(() => expectPositionals(parsed([]), 1, 1, "mandate x FILE")).toThrow("missing argument (usage: mandate x FILE)");
    expect(() => expectPositionals(parsed(["a", "b"]), 1, 1, "mandate x FILE")).toThrow('unexpected argument "b"');
  });
});
