import { describe, expect, it } from "vitest";
import { CLIENT_OPTIONS, consistencyOf, withClient } from "./client-connection.ts";
import { fakeCommandIo } from "./fake-command-io.ts";
import { parseCommandLine } from "./parse-command-line.ts";

const consistency = (...args: string[]) => consistencyOf(parseCommandLine(args, CLIENT_OPTIONS));

describe("consistencyOf", () => {
  it.each([
    [[], { requirement: "fullyConsistent", fullyConsistent: true }],
    [["--consistency", "min"], { requirement: "minimizeLatency", minimizeLatency: true }],
    [["--token", "mz1_Mg"], { requirement: "atLeastAsFresh", atLeastAsFresh: { token: "mz1_Mg" } }],
    [["--consistency", "exact", "--token", "mz1_Mg"], { requirement: "atExactSnapshot", atExactSnapshot: { token: "mz1_Mg" } }],
  ])("turns %j into the wire consistency", (args, expected) => {
    expect(consistency(...args)).toEqual(expected);
  });

  it.each([
    [["--consistency", "token"], "--consistency token needs --token TOKEN"],
    [["--consistency", "eventual"], '--consistency: "eventual" is not one of full, min, token, exact'],
  ])("rejects %j", (args, message) => {
    expect(() => consistency(...args)).toThrow(message);
  });
});

describe("withClient", () => {
  it.each([
    ["a remote endpoint", "10.1.2.3:50051", true],
    ["a remote name", "mandate.internal:50051", true],
    ["localhost", "localhost:50051", false],
    ["127.0.0.1", "127.0.0.1:50051", false],
    ["::1", "[::1]:50051", false],
  ])("warns when it would send an API key in plaintext to %s: %s", async (_, endpoint, warns) => {
    const io = fakeCommandIo();
    await withClient(parseCommandLine(["--endpoint", endpoint, "--key", `mk_abc_${"s".repeat(32)}`], CLIENT_OPTIONS), io, async () => undefined);
    expect(io.stderr().includes("sending an API key without TLS")).toBe(warns);
    expect(io.stderr()).not.toContain("s".repeat(32));
  });

  it("does not warn without a key", async () => {
    const io = fakeCommandIo();
    await withClient(parseCommandLine(["--endpoint", "10.1.2.3:50051"], CLIENT_OPTIONS), io, async () => undefined);
    expect(io.stderr()).toBe("");
  });
});
