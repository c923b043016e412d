import { describe, expect, it } from "vitest";
import {
  formatRelationship,
  parseObjectRef,
  parseRelationship,
  parseSubjectRef,
  relationshipKey,
} from "./relationship-text.ts";
import { InvalidRelationshipError } from "./errors.ts";

describe("parseRelationship", () => {
  it.each([
    ["document:readme#viewer@user:alice", { resource: { type: "document", id: "readme" }, relation: "viewer", subject: { type: "user", id: "alice" } }],
    ["document:readme#viewer@group:eng#member", { resource: { type: "document", id: "readme" }, relation: "viewer", subject: { type: "group", id: "eng", relation: "member" } }],
    ["document:readme#viewer@user:*", { resource: { type: "document", id: "readme" }, relation: "viewer", subject: { type: "user", id: "*" } }],
    ["document:readme#viewer@user:alice#...", { resource: { type: "document", id: "readme" }, relation: "viewer", subject: { type: "user", id: "alice" } }],
    ["tenant/document:a=b+c|d-e_f#viewer@tenant/user:x", { resource: { type: "tenant/document", id: "a=b+c|d-e_f" }, relation: "viewer", subject: { type: "tenant/user", id: "x" } }],
  ])("parses %s", (text, expected) => {
    expect(parseRelationship(text)).toEqual(expected);
  });

  it("parses a caveat with its context and an expiration", () => {
    const parsed = parseRelationship('document:1#viewer@user:ann[on_ticket:{"ticket":"T-1","tags":["a]"]}][expiration:2030-01-02T03:04:05Z]');
    expect(parsed.caveat).toEqual({ name: "on_ticket", context: { ticket: "T-1", tags: ["a]"] } });
    expect(parsed.expiresAt?.toISOString()).toBe("2030-01-02T03:04:05.000Z");
  });

  it("parses a caveat without context", () => {
    expect(parseRelationship("document:1#viewer@user:ann[weekdays]").caveat).toEqual({ name: "weekdays", context: {} });
  });

  it.each([
    ["document:readme#viewer", "relationship", "resource#relation@subject"],
    ["document:readme@user:alice", "relationship", "missing the #relation"],
    ["documentreadme#viewer@user:alice", "relationship.resource", "type:id"],
    ["Document:readme#viewer@user:alice", "relationship.resource.type", "not a valid type name"],
    ["document:read me#viewer@user:alice", "relationship.resource.id", "contains characters"],
    ["document:#viewer@user:alice", "relationship.resource.id", "is empty"],
    [`document:${"x".repeat(1025)}#viewer@user:alice`, "relationship.resource.id", "longer than 1024"],
    ["document:readme#Viewer@user:alice", "relationship.relation", "not a valid relation name"],
    ["document:readme#viewer@user", "relationship.subject", "type:id"],
    ["document:readme#viewer@user:*#member", "relationship.subject", "wildcard subject cannot have a relation"],
    ["document:*#viewer@user:alice", "relationship.resource.id", "contains characters"],
    ["document:1#viewer@user:ann[c:{nope}]", "relationship.caveat.context", "not valid JSON"],
    ["document:1#viewer@user:ann[c:[1]]", "relationship.caveat.context", "must be a JSON object"],
    ["document:1#viewer@user:ann[expiration:tomorrow]", "relationship.expiration", "RFC 3339"],
    ["document:1#viewer@user:ann[unclosed", "relationship", "malformed"],
  ])("rejects %s naming the field", (text, field, reason) => {
    let caught: unknown;
    try {
      parseRelationship(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRelationshipError);
    const error = caught as InvalidRelationshipError;
    expect(error.field).toBe(field);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain(reason);
  });
});

describe("formatRelationship", () => {
  it.each([
    "document:readme#viewer@user:alice",
    "document:readme#viewer@group:eng#member",
    "document:readme#viewer@user:*",
    'document:1#viewer@user:ann[on_ticket:{"ticket":"T-1"}]',
    "document:1#viewer@user:ann[weekdays][expiration:2030-01-02T03:04:05.000Z]",
  ])("round-trips %s", (text) => {
    expect(formatRelationship(parseRelationship(text))).toBe(text);
  });

  it("keys a relationship without its caveat or expiry", () => {
    expect(relationshipKey(parseRelationship("document:1#viewer@user:ann[weekdays]"))).toBe("document:1#viewer@user:ann");
  });
});

describe("parseObjectRef and parseSubjectRef", () => {
  it("rejects a wildcard as an object but accepts it as a subject", () => {
    expect(() => parseObjectRef("user:*", "resource")).toThrow(/resource.id/);
    expect(parseSubjectRef("user:*")).toEqual({ type: "user", id: "*" });
  });
});
