import { describe, expect, it } from "vitest";
import { InvalidArgumentError, parseRelationship } from "../tuple/index.ts";
import { decodeReadCursor, encodeReadCursor, filterFingerprint } from "./read-cursor.ts";

describe("read cursors", () => {
  it("round-trips the datastore tag, revision, filter fingerprint and position", () => {
    const after = parseRelationship("document:readme#viewer@group:eng#member");
    const cursor = { datastoreTag: "abcdefghijk", revision: 7, filterFingerprint: filterFingerprint({ resourceType: "document" }), after };
    expect(decodeReadCursor(encodeReadCursor(cursor), "optional_cursor")).toEqual(cursor);
  });

  it.each([
    [{ resourceType: "document" }, { resourceType: "folder" }],
    [{ subject: { type: "user", relation: null } }, { subject: { type: "user" } }],
    [{ resourceId: "a" }, { resourceIdPrefix: "a" }],
  ])("gives different filters different fingerprints (%#)", (a, b) => {
    expect(filterFingerprint(a)).not.toBe(filterFingerprint(b));
  });

  it("gives equal filters equal fingerprints", () => {
    expect(filterFingerprint({ resourceType: "document", relation: "viewer" })).toBe(
      filterFingerprint({ relation: "viewer", resourceType: "document", resourceId: undefined }),
    );
  });

  it.each([
    "",
    "garbage",
    "mc2_",
    "mc2_bm90IGpzb24",
    `mc2_${Buffer.from(JSON.stringify({ d: "t", r: 1, f: "x", a: "nope" })).toString("base64url")}`,
    `mc2_${Buffer.from(JSON.stringify({ r: 1, f: "x", a: "document:a#viewer@user:b" })).toString("base64url")}`,
    `mc1_${Buffer.from(JSON.stringify({ r: 1, f: "x", a: "document:a#viewer@user:b" })).toString("base64url")}`,
  ])(
    "rejects the malformed cursor %j naming the field",
    (token) => {
      expect(() => decodeReadCursor(token, "optional_cursor")).toThrow(InvalidArgumentError);
      expect(() => decodeReadCursor(token, "optional_cursor")).toThrow(/^optional_cursor: /);
    },
  );
});
