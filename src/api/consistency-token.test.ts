import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../tuple/index.ts";
import { decodeZedToken, encodeZedToken } from "./consistency-token.ts";

describe("consistency tokens", () => {
  it.each([0, 1, 42, 1_000_000, Number.MAX_SAFE_INTEGER])("round-trips revision %d", (revision) => {
    const token = encodeZedToken(revision);
    expect(token).toMatch(/^mz1_[A-Za-z0-9_-]+$/);
    expect(decodeZedToken(token, "consistency.at_least_as_fresh")).toBe(revision);
  });

  it.each([
    ["an empty token", ""],
    ["another prefix", "GhUKEzE3MDAwMDAwMDAwMDAwMDAwMDA="],
    ["a body that is not base64url", "mz1_!!"],
    ["a body that is not a number", `mz1_${Buffer.from("abc").toString("base64url")}`],
    ["a negative revision", `mz1_${Buffer.from("-1").toString("base64url")}`],
    ["a leading zero", `mz1_${Buffer.from("01").toString("base64url")}`],
    ["a revision past 2^53", `mz1_${Buffer.from("9007199254740993").toString("base64url")}`],
    ["an empty body", "mz1_"],
  ])("rejects %s with InvalidArgumentError naming the field", (_what, token) => {
    let caught: unknown;
    try {
      decodeZedToken(token, "consistency.at_exact_snapshot");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).field).toBe("consistency.at_exact_snapshot");
    expect((caught as InvalidArgumentError).message).toMatch(/^consistency\.at_exact_snapshot: /);
  });
});
