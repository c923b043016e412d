import { describe, expect, it } from "vitest";
import { toWireStruct } from "../api/index.ts";
import { parseCaveatFlag, parseGrantRequest, parseRevokeRequest, parseScopeFlag } from "./delegations-command.ts";
import { parseDurationFlag } from "./parse-command-line.ts";
import { fakeCommandIo } from "./fake-command-io.ts";
import { runMain } from "./main.ts";
import type { ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

const NOW = new Date("2026-11-28T10:00:00.000Z");

function line(positionals: string[], values: ParsedCommandLine["values"] = {}): ParsedCommandLine {
  return { positionals, values };
}

describe("parseGrantRequest", () => {
  it("reads the agent, the principal and every flag", () => {
    const request = parseGrantRequest(
      line(["agent:bot", "user:ann"], {
        scope: ["document#view,repository#*", "document#edit"],
        "expires-in": "1h30m",
        "not-before": "2026-11-28T11:00:00Z",
        via: "agent:copilot",
        caveat: 'on_ticket:{"ticket":"T-1"}',
        budget: "100",
        delegation: "acts_for",
      }),
      NOW,
    );
    expect(request).toMatchObject({
      actor: { objectType: "agent", objectId: "bot" },
      principal: { objectType: "user", objectId: "ann" },
      scope: ["document#view", "repository#*", "document#edit"],
      via: { objectType: "agent", objectId: "copilot" },
      budget: 100,
      delegation: "acts_for",
      expiresAt: { seconds: Date.parse("2026-11-28T11:30:00Z") / 1000, nanos: 0 },
      notBefore: { seconds: Date.parse("2026-11-28T11:00:00Z") / 1000, nanos: 0 },
    });
    expect(request.caveat?.caveatName).toBe("on_ticket");
    expect(request.caveat?.context).toEqual(toWireStruct({ ticket: "T-1" }));
  });

  it("leaves out what was not given: the server picks the defaults", () => {
    expect(parseGrantRequest(line(["agent:bot", "user:ann"], { scope: ["*"] }), NOW)).toEqual({
      actor: { objectType: "agent", objectId: "bot" },
      principal: { objectType: "user", objectId: "ann" },
      delegation: "",
      scope: ["*"],
      notBefore: null,
      expiresAt: null,
      via: null,
      caveat: null,
      budget: 0,
    });
  });

  it.each([
    ["a missing principal", line(["agent:bot"], { scope: ["*"] }), /missing argument/],
    ["a missing scope", line(["agent:bot", "user:ann"]), /--scope: is required/],
    ["both expiry flags", line(["agent:bot", "user:ann"], { scope: ["*"], "expires-in": "1h", "expires-at": "2030-01-01T00:00:00Z" }), /give one or the other/],
    ["a local time", line(["agent:bot", "user:ann"], { scope: ["*"], "expires-at": "2030-01-01T00:00:00" }), /--expires-at: .* not an RFC 3339 time/],
    ["a wildcard principal", line(["agent:bot", "user:*"], { scope: ["*"] }), /PRINCIPAL/],
    ["an agent without an id", line(["agent", "user:ann"], { scope: ["*"] }), /AGENT/],
    ["a budget of 0", line(["agent:bot", "user:ann"], { scope: ["*"], budget: "0" }), /--budget: 0 is out of range/],
    ["a malformed delegation name", line(["agent:bot", "user:ann"], { scope: ["*"], delegation: "Acts" }), /--delegation/],
  ])("refuses %s", (_name, parsed, message) => {
    expect(() => parseGrantRequest(parsed, NOW)).toThrow(UsageError);
    expect(() => parseGrantRequest(parsed, NOW)).toThrow(message);
  });
});

describe("parseRevokeRequest", () => {
  it.each([
    ["one edge", line(["agent:bot", "user:ann"]), { selector: "edge", edge: { actor: { objectType: "agent", objectId: "bot" }, principal: { objectType: "user", objectId: "ann" }, delegation: "" } }],
    ["every edge of an actor", line([], { actor: "agent:bot" }), { selector: "actor", actor: { objectType: "agent", objectId: "bot" } }],
    ["every edge for a principal", line([], { principal: "user:ann" }), { selector: "principal", principal: { objectType: "user", objectId: "ann" } }],
  ])("reads %s", (_name, parsed, expected) => {
    expect(parseRevokeRequest(parsed)).toEqual(expected);
  });

  it.each([
    ["nothing", line([]), /exactly one of --actor AGENT and --principal PRINCIPAL/],
    ["both flags", line([], { actor: "agent:bot", principal: "user:ann" }), /exactly one of/],
    ["an edge and a flag", line(["agent:bot", "user:ann"], { actor: "agent:bot" }), /not both/],
    ["an agent alone", line(["agent:bot"]), /missing argument/],
  ])("refuses %s", (_name, parsed, message) => {
    expect(() => parseRevokeRequest(parsed)).toThrow(message);
  });
});

describe("parseScopeFlag", () => {
  it("splits commas, trims and keeps the order", () => {
    expect(parseScopeFlag(["document#view, repository#*", "*"])).toEqual(["document#view", "repository#*", "*"]);
    expect(parseScopeFlag("document#edit")).toEqual(["document#edit"]);
  });

  it.each([["document"], ["document#"], ["#view"], ["Document#view"]])("refuses %s", (entry) => {
    expect(() => parseScopeFlag([entry])).toThrow(/--scope: .* is not TYPE#PERMISSION, TYPE#\* or \*/);
  });
});

describe("parseDurationFlag", () => {
  it.each([
    ["2h", 7_200_000],
    ["30m", 1_800_000],
    ["1d12h", 129_600_000],
    ["90s", 90_000],
  ])("reads %s", (text, milliseconds) => {
    expect(parseDurationFlag(text, "--expires-in")).toBe(milliseconds);
  });

  it.each([["0h"], ["2"], ["h"], ["1h2d"], ["-1h"], [""]])("refuses %j", (text) => {
    expect(() => parseDurationFlag(text, "--expires-in")).toThrow(/--expires-in: .* is not a duration/);
  });
});

describe("parseCaveatFlag", () => {
  it.each([
    ["on_ticket", { name: "on_ticket", context: {} }],
    ['on_ticket:{"ticket":"T-1"}', { name: "on_ticket", context: { ticket: "T-1" } }],
  ])("reads %s", (text, expected) => {
    expect(parseCaveatFlag(text)).toEqual(expected);
  });

  it.each([
    ["on_ticket:{", /not valid JSON/],
    ["on_ticket:[1]", /must be a JSON object/],
    ["bad name:{}", /--caveat/],
  ])("refuses %s", (text, message) => {
    expect(() => parseCaveatFlag(text)).toThrow(message);
  });
});

describe("mandate delegations", () => {
  it.each([
    [["delegations", "--help"], 0],
    [["delegations"], 2],
  ])("prints its help for %j with exit %i", async (argv, code) => {
    const io = fakeCommandIo();
    expect(await runMain(argv, io)).toBe(code);
    expect(io.stdout()).toMatch(/^Usage: mandate delegations grant AGENT PRINCIPAL/);
  });

  it.each([
    [["delegations", "frob"], /unknown action "frob"; expected grant, list or revoke/],
    [["delegations", "list"], /exactly one of --actor AGENT and --principal PRINCIPAL/],
    [["delegations", "list", "agent:bot"], /unexpected argument "agent:bot"/],
    [["delegations", "grant", "agent:bot", "user:ann"], /--scope: is required/],
  ])("refuses %j as a usage error (exit 2) before calling a server", async (argv, message) => {
    const io = fakeCommandIo();
    expect(await runMain([...argv, "--endpoint", "127.0.0.1:1"], io)).toBe(2);
    expect(io.stderr()).toMatch(message);
  });
});
