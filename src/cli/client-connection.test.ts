import { describe, expect, it } from "vitest";
import { CLIENT_OPTIONS, consistencyOf } from "./client-connection.ts";
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
