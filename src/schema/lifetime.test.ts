import { describe, expect, it } from "vitest";
import { MAX_LIFETIME_LIMIT_MS, formatLifetime, parseLifetime } from "./lifetime.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseLifetime", () => {
  it.each<[string, number]>([
    ["30d", 30 * D],
    ["24h", D],
    ["90m", 90 * M],
    ["45s", 45 * S],
    ["1h30m", H + 30 * M],
    ["2d12h30m15s", 2 * D + 12 * H + 30 * M + 15 * S],
    ["0d1s", S],
    ["3650d", MAX_LIFETIME_LIMIT_MS],
  ])("reads %s", (text, expected) => {
    expect(parseLifetime(text)).toBe(expected);
  });

  it.each(["", "30", "0s", "0d0h", "1.5h", "30m1h", "1h1h", "-1h", "1w", "1H", " 1h", "3650d1s", "99999999999999999999d"])("refuses %j", (text) => {
    expect(parseLifetime(text)).toBeUndefined();
  });
});

describe("formatLifetime", () => {
  it.each<[number, string]>([
    [30 * D, "30d"],
    [H + 30 * M, "1h30m"],
    [2 * D + 15 * S, "2d15s"],
    [S + 500, "1s500ms"],
    [0, "0s"],
  ])("writes %d ms as %s", (milliseconds, expected) => {
    expect(formatLifetime(milliseconds)).toBe(expected);
  });
});
