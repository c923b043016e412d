import { describe, expect, it } from "vitest";
import { objectIdHash } from "./object-id-hash.ts";

describe("objectIdHash", () => {
  // Published FNV-1a 32-bit test vectors: the hash must never change, cursors depend on it.
  it.each([
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
  ])("hashes %j to the FNV-1a value", (id, expected) => {
    expect(objectIdHash(id)).toBe(expected);
  });

  it("gives unsigned 32-bit integers", () => {
    for (const id of ["doc1", "user_ann", "x".repeat(1024), "=+|/"]) {
      const hash = objectIdHash(id);
      expect(Number.isInteger(hash) && hash >= 0 && hash < 2 ** 32).toBe(true);
    }
  });
});
