import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../tuple/index.ts";
import type { ConsistencyRequirement } from "./consistency.ts";
import type { LookupCursor } from "./lookup-cursor.ts";
import {
  decodeLookupCursor,
  encodeLookupCursor,
  lookupResourcesFingerprint,
  lookupSubjectsFingerprint,
  refuseConflictingConsistency,
  refuseForeignCursor,
} from "./lookup-cursor.ts";

const annViews = { resourceType: "document", permission: "view", subject: { type: "user", id: "ann" } };
const readmeViewers = { resource: { type: "document", id: "readme" }, permission: "view", subjectType: "user" };

const cursor: LookupCursor = {
  kind: "LookupResources",
  datastoreTag: "abcdefghijk",
  revision: 7,
  queryFingerprint: lookupResourcesFingerprint(annViews),
  after: "readme",
};

describe("lookup cursors", () => {
  it.each(["readme", "*", "a/b|c=d"])("round-trip the kind, datastore tag, revision, fingerprint and the id %j", (after) => {
    expect(decodeLookupCursor(encodeLookupCursor({ ...cursor, after }), "optional_cursor")).toEqual({ ...cursor, after });
  });

  it.each([
    ["another permission", { ...annViews, permission: "edit" }],
    ["another resource type", { ...annViews, resourceType: "folder" }],
    ["another subject", { ...annViews, subject: { type: "user", id: "bob" } }],
    ["a userset subject", { ...annViews, subject: { type: "user", id: "ann", relation: "member" } }],
    ["a context", { ...annViews, context: { ip: "10.0.0.1" } }],
    ["a principal it acts for", { ...annViews, onBehalfOf: { type: "user", id: "bob" } }],
  ])("give a LookupResources query with %s another fingerprint", (_case, other) => {
    expect(lookupResourcesFingerprint(other)).not.toBe(lookupResourcesFingerprint(annViews));
  });

  it.each([
    ["another resource", { ...readmeViewers, resource: { type: "document", id: "other" } }],
    ["a subject relation", { ...readmeViewers, subjectRelation: "member" }],
    ["another subject type", { ...readmeViewers, subjectType: "group" }],
    ["a context", { ...readmeViewers, context: { ip: "10.0.0.1" } }],
  ])("give a LookupSubjects query with %s another fingerprint", (_case, other) => {
    expect(lookupSubjectsFingerprint(other)).not.toBe(lookupSubjectsFingerprint(readmeViewers));
  });

  it("give equal queries equal fingerprints, whatever the order of the context's keys, and an empty context none", () => {
    expect(lookupResourcesFingerprint({ ...annViews, context: { a: 1, b: { c: 2, d: 3 } } })).toBe(
      lookupResourcesFingerprint({ ...annViews, context: { b: { d: 3, c: 2 }, a: 1 } }),
    );
    expect(lookupResourcesFingerprint({ ...annViews, context: {} })).toBe(lookupResourcesFingerprint(annViews));
  });

  it.each([
    "",
    "garbage",
    "ml1_",
    "ml1_bm90IGpzb24",
    `mc2_${Buffer.from(JSON.stringify({ d: "t", r: 1, f: "x", a: "document:a#viewer@user:b" })).toString("base64url")}`,
    `ml1_${Buffer.from(JSON.stringify({ k: "Check", d: "t", r: 1, f: "x", a: "a" })).toString("base64url")}`,
    `ml1_${Buffer.from(JSON.stringify({ k: "LookupSubjects", d: "t", r: -1, f: "x", a: "a" })).toString("base64url")}`,
    `ml1_${Buffer.from(JSON.stringify({ k: "LookupSubjects", d: "t", r: 1, f: "x", a: "" })).toString("base64url")}`,
  ])("refuse the malformed cursor %j naming the field", (token) => {
    expect(() => decodeLookupCursor(token, "optional_cursor")).toThrow(InvalidArgumentError);
    expect(() => decodeLookupCursor(token, "optional_cursor")).toThrow(/^optional_cursor: the cursor is malformed/);
  });

  it("refuse a cursor of the other lookup or of another query, and accept their own", () => {
    expect(() => refuseForeignCursor(cursor, "LookupResources", cursor.queryFingerprint, "optional_cursor")).not.toThrow();
    expect(() => refuseForeignCursor(cursor, "LookupSubjects", cursor.queryFingerprint, "optional_cursor")).toThrow(
      "optional_cursor: the cursor was issued by LookupResources, not LookupSubjects",
    );
    expect(() => refuseForeignCursor(cursor, "LookupResources", "another", "optional_cursor")).toThrow(/^optional_cursor: the cursor was issued for a different query/);
  });

  const token = (revision: number, datastoreTag = cursor.datastoreTag) => ({ datastoreTag, revision });
  it.each<[string, ConsistencyRequirement]>([
    ["minimize_latency", { kind: "minimize_latency" }],
    ["at_exact_snapshot of the cursor's revision", { kind: "at_exact_snapshot", token: token(7), field: "consistency.at_exact_snapshot" }],
    ["at_least_as_fresh of the cursor's revision", { kind: "at_least_as_fresh", token: token(7), field: "consistency.at_least_as_fresh" }],
    ["at_least_as_fresh of an older revision", { kind: "at_least_as_fresh", token: token(3), field: "consistency.at_least_as_fresh" }],
  ])("accept a cursor with %s", (_case, consistency) => {
    expect(() => refuseConflictingConsistency(cursor, consistency, "optional_cursor")).not.toThrow();
  });

  it.each<[string, ConsistencyRequirement, RegExp]>([
    ["fully_consistent", { kind: "fully_consistent" }, /^optional_cursor: .*fully_consistent/],
    ["at_exact_snapshot of another revision", { kind: "at_exact_snapshot", token: token(6), field: "consistency.at_exact_snapshot" }, /^optional_cursor: .*consistency\.at_exact_snapshot/],
    ["at_least_as_fresh of a newer revision", { kind: "at_least_as_fresh", token: token(8), field: "consistency.at_least_as_fresh" }, /^optional_cursor: .*older than consistency\.at_least_as_fresh/],
    ["a token of another datastore", { kind: "at_exact_snapshot", token: token(7, "zzzzzzzzzzz"), field: "consistency.at_exact_snapshot" }, /different datastores/],
  ])("refuse a cursor with %s, saying which", (_case, consistency, message) => {
    expect(() => refuseConflictingConsistency(cursor, consistency, "optional_cursor")).toThrow(InvalidArgumentError);
    expect(() => refuseConflictingConsistency(cursor, consistency, "optional_cursor")).toThrow(message);
  });
});
