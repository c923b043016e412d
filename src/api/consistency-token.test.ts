import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../tuple/index.ts";
import { datastoreTagOf, decodeZedToken, encodeZedToken } from "./consistency-token.ts";

const TAG = datastoreTagOf("2f1c9a4e-0000-4000-8000-000000000001");
const b64 = (text: string) => Buffer.from(text).toString("base64url");

describe("consistency tokens", () => {
  it.each([0, 1, 42, 1_000_000, Number.MAX_SAFE_INTEGER])("round-trips revision %d with its datastore tag", (revision) => {
    const token = encodeZedToken(TAG, revision);
    expect(token).toMatch(/^mz2_[A-Za-z0-9_-]+$/);
    expect(decodeZedToken(token, "consistency.at_least_as_fresh")).toEqual({ datastoreTag: TAG, revision });
  });

  it("gives different datastores different tags, and one datastore always the same tag", () => {
    expect(datastoreTagOf("a")).not.toBe(datastoreTagOf("b"));
    expect(datastoreTagOf("a")).toBe(datastoreTagOf("a"));
  });

  it.each([
    ["an empty token", ""],
    ["another prefix", "GhUKEzE3MDAwMDAwMDAwMDAwMDAwMDA="],
    ["a token of the old mz1 format", `mz1_${b64("12")}`],
    ["a body that is not base64url", "mz2_!!"],
    ["a body without a datastore tag", `mz2_${b64("12")}`],
    ["a body that is not a number", `mz2_${b64(`${TAG}.abc`)}`],
    ["a negative revision", `mz2_${b64(`${TAG}.-1`)}`],
    ["a leading zero", `mz2_${b64(`${TAG}.01`)}`],
    ["a revision past 2^53", `mz2_${b64(`${TAG}.9007199254740993`)}`],
    ["an empty body", "mz2_"],
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
