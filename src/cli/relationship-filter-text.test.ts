import { describe, expect, it } from "vitest";
import { filterToWire, parseRelationshipFilterText } from "./relationship-filter-text.ts";

describe("parseRelationshipFilterText", () => {
  it.each([
    ["document", undefined, { resourceType: "document" }],
    ["document:readme#viewer", undefined, { resourceType: "document", resourceId: "readme", relation: "viewer" }],
    ["document:read*", undefined, { resourceType: "document", resourceIdPrefix: "read" }],
    ["document@user:alice", undefined, { resourceType: "document", subject: { type: "user", id: "alice" } }],
    ["group#member@group#...", undefined, { resourceType: "group", relation: "member", subject: { type: "group", relation: null } }],
    [undefined, "user:alice", { subject: { type: "user", id: "alice" } }],
    ["document", "group:eng#member", { resourceType: "document", subject: { type: "group", id: "eng", relation: "member" } }],
  ])("parses %j with --subject %j", (text, subject, expected) => {
    const filter = parseRelationshipFilterText(text, subject);
    const defined = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
    const subjectDefined = filter.subject && Object.fromEntries(Object.entries(filter.subject).filter(([, value]) => value !== undefined));
    expect({ ...defined, ...(subjectDefined ? { subject: subjectDefined } : {}) }).toEqual(expected);
  });

  it.each([
    [undefined, undefined, "a filter needs at least a resource type or a subject"],
    ["document@user:alice", "user:bob", "not both"],
    ["Document", undefined, 'filter.resourceType: "Document" is not a valid type name'],
    ["document:a b", undefined, "filter.resourceId"],
  ])("rejects %j with --subject %j", (text, subject, message) => {
    expect(() => parseRelationshipFilterText(text, subject)).toThrow(message);
  });
});

describe("filterToWire", () => {
  it("leaves unset fields empty and distinguishes 'no relation' from 'any relation'", () => {
    expect(filterToWire({ resourceType: "document", subject: { type: "user", relation: null } })).toEqual({
      resourceType: "document",
      optionalResourceId: "",
      optionalResourceIdPrefix: "",
      optionalRelation: "",
      optionalSubjectFilter: { subjectType: "user", optionalSubjectId: "", optionalRelation: { relation: "" } },
    });
    expect(filterToWire({ subject: { type: "user" } }).optionalSubjectFilter?.optionalRelation).toBeNull();
  });
});
