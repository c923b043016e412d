import { describe, expect, it } from "vitest";
import { AuthzError, parseRelationship } from "../tuple/index.ts";
import type { ErrorCode, Relationship } from "../tuple/index.ts";
import {
  DELEGATION_CAVEAT,
  compileSchema,
  findRelationOrPermission,
  lookupDefinition,
  lookupRelationOrPermission,
  validateRelationship,
  validateRelationshipForDelete,
} from "./index.ts";

const schema = compileSchema(`use expiration
caveat only_weekdays(day string) { day != "sunday" }
caveat other_caveat(num int) { num == 1 }
definition user {}
definition team {
  relation member: user
}
definition group {
  relation member: user | group#member
}
definition document {
  relation viewer: user | group#member | user:*
  relation reviewer: user with only_weekdays
  relation guest: user with expiration
  relation auditor: user with only_weekdays and expiration
  permission view = viewer + reviewer
}`);

const expiresAt = new Date("2030-01-01T00:00:00Z");

function relationship(text: string, extra: Partial<Relationship> = {}): Relationship {
  return { ...parseRelationship(text), ...extra };
}

function failure(run: () => void): AuthzError {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error("expected an AuthzError");
}

const FP: ErrorCode = "failed_precondition";
const IA: ErrorCode = "invalid_argument";

describe("validateRelationship", () => {
  it.each<[string, Relationship]>([
    ["a plain subject", relationship("document:readme#viewer@user:ann")],
    ["a userset subject", relationship("document:readme#viewer@group:eng#member")],
    ["a wildcard subject", relationship("document:readme#viewer@user:*")],
    ["a recursive userset", relationship("group:eng#member@group:all#member")],
    ["a required caveat", relationship("document:readme#reviewer@user:ann", { caveat: { name: "only_weekdays", context: {} } })],
    ["a required expiration", relationship("document:readme#guest@user:ann", { expiresAt })],
    ["a caveat and an expiration", relationship("document:readme#auditor@user:ann", { caveat: { name: "only_weekdays", context: { day: "monday" } }, expiresAt })],
  ])("accepts %s", (_, rel) => {
    expect(() => validateRelationship(schema, rel)).not.toThrow();
  });

  // The codes are SpiceDB's (v1.54, measured): unknown names are FAILED_PRECONDITION, relationships
  // the schema forbids are INVALID_ARGUMENT.
  it.each<[string, Relationship, ErrorCode, string, string]>([
    ["an unknown resource type", relationship("folder:root#viewer@user:ann"), FP, "relationship.resource.type", "relationship.resource.type: definition `folder` not found in the schema"],
    ["an unknown relation", relationship("document:readme#owner@user:ann"), FP, "relationship.relation", "relationship.relation: relation `owner` not found on definition `document`"],
    ["an unknown subject type", relationship("document:readme#viewer@robot:r2"), FP, "relationship.subject", "relationship.subject: definition `robot` not found in the schema"],
    ["a permission", relationship("document:readme#view@user:ann"), IA, "relationship.relation", "relationship.relation: `document#view` is a permission; relationships can only be written to relations"],
    ["a subject type not allowed", relationship("document:readme#viewer@team:eng#member"), IA, "relationship.subject", "relationship.subject: subject type `team#member` is not allowed for relation `document#viewer`; allowed: user, group#member, user:*"],
    ["a plain subject where only a userset is allowed", relationship("document:readme#viewer@group:eng"), IA, "relationship.subject", "subject type `group` is not allowed for relation `document#viewer`"],
    ["a wildcard not allowed", relationship("group:eng#member@user:*"), IA, "relationship.subject", "relationship.subject: wildcard subject `user:*` is not allowed for relation `group#member`; allowed: user, group#member"],
    ["a wildcard with a subject relation", { ...relationship("document:readme#viewer@user:ann"), subject: { type: "user", id: "*", relation: "member" } }, IA, "relationship.subject", "wildcard subject `user:*#member` is not allowed"],
    ["a missing caveat", relationship("document:readme#reviewer@user:ann"), IA, "relationship.caveat", "relationship.caveat: relation `document#reviewer` requires a caveat for subject type `user`; allowed: user with only_weekdays"],
    ["a caveat not allowed", relationship("document:readme#viewer@user:ann", { caveat: { name: "only_weekdays", context: {} } }), IA, "relationship.caveat", "relationship.caveat: caveat `only_weekdays` is not allowed for subject type `user` on relation `document#viewer`; allowed: user"],
    ["another caveat than the one required", relationship("document:readme#reviewer@user:ann", { caveat: { name: "other_caveat", context: {} } }), IA, "relationship.caveat", "caveat `other_caveat` is not allowed"],
    ["an unknown caveat", relationship("document:readme#reviewer@user:ann", { caveat: { name: "no_such_caveat", context: {} } }), IA, "relationship.caveat", "relationship.caveat: caveat `no_such_caveat` not found in the schema"],
    ["an expiration not allowed", relationship("document:readme#viewer@user:ann", { expiresAt }), IA, "relationship.expiration", "relationship.expiration: relation `document#viewer` does not allow an expiration for subject type `user`; allowed: user"],
    ["a missing expiration", relationship("document:readme#guest@user:ann"), IA, "relationship.expiration", "relationship.expiration: relation `document#guest` requires an expiration for subject type `user`; allowed: user with expiration"],
    ["a caveat without its expiration", relationship("document:readme#auditor@user:ann", { caveat: { name: "only_weekdays", context: {} } }), IA, "relationship.expiration", "requires an expiration"],
  ])("rejects %s with the code SpiceDB uses, naming the field", (_, rel, code, field, message) => {
    const error = failure(() => validateRelationship(schema, rel));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it("prefixes the field given by the caller", () => {
    const error = failure(() => validateRelationship(schema, relationship("document:readme#owner@user:ann"), "updates[3].relationship"));
    expect(error.field).toBe("updates[3].relationship.relation");
    expect(error.message).toMatch(/^updates\[3\]\.relationship\.relation: /);
  });
});

describe("validateRelationshipForDelete", () => {
  it.each<[string, Relationship]>([
    ["a plain subject", relationship("document:readme#viewer@user:ann")],
    ["a relationship whose required caveat is left out", relationship("document:readme#reviewer@user:ann")],
    ["a relationship whose required expiration is left out", relationship("document:readme#guest@user:ann")],
    ["a relationship with a caveat the relation does not allow", relationship("document:readme#viewer@user:ann", { caveat: { name: "other_caveat", context: {} } })],
  ])("accepts %s, ignoring caveat and expiration", (_, rel) => {
    expect(() => validateRelationshipForDelete(schema, rel)).not.toThrow();
  });

  it.each<[string, Relationship, ErrorCode, string]>([
    ["an unknown resource type", relationship("folder:root#viewer@user:ann"), FP, "updates[0].relationship.resource.type"],
    ["an unknown relation", relationship("document:readme#owner@user:ann"), FP, "updates[0].relationship.relation"],
    ["an unknown subject type", relationship("document:readme#viewer@robot:r2"), FP, "updates[0].relationship.subject"],
    ["a permission", relationship("document:readme#view@user:ann"), IA, "updates[0].relationship.relation"],
    ["a subject type not allowed", relationship("document:readme#viewer@team:eng#member"), IA, "updates[0].relationship.subject"],
  ])("rejects %s with the code SpiceDB uses", (_, rel, code, field) => {
    const error = failure(() => validateRelationshipForDelete(schema, rel, "updates[0].relationship"));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });
});

describe("findRelationOrPermission", () => {
  it("finds relations and permissions and returns undefined for any unknown name, without throwing", () => {
    expect(findRelationOrPermission(schema, "document", "viewer")).toMatchObject({ kind: "relation", relation: { name: "viewer" } });
    expect(findRelationOrPermission(schema, "document", "view")).toMatchObject({ kind: "permission", permission: { name: "view" } });
    expect(findRelationOrPermission(schema, "document", "edit")).toBeUndefined();
    expect(findRelationOrPermission(schema, "folder", "view")).toBeUndefined();
  });
});

describe("lookupDefinition and lookupRelationOrPermission", () => {
  it("find definitions, relations and permissions", () => {
    expect(lookupDefinition(schema, "document", "f").name).toBe("document");
    expect(lookupRelationOrPermission(schema, "document", "viewer", "f")).toMatchObject({ kind: "relation", relation: { name: "viewer" } });
    expect(lookupRelationOrPermission(schema, "document", "view", "f")).toMatchObject({ kind: "permission", permission: { name: "view" } });
  });

  it.each<[string, () => unknown, string]>([
    ["an unknown definition", () => lookupDefinition(schema, "folder", "resource.type"), "resource.type: definition `folder` not found in the schema"],
    ["an unknown definition under a name", () => lookupRelationOrPermission(schema, "folder", "view", "permission"), "permission: definition `folder` not found in the schema"],
    ["an unknown name", () => lookupRelationOrPermission(schema, "document", "edit", "permission"), "permission: relation or permission `edit` not found on definition `document`"],
  ])("reject %s with FailedPreconditionError", (_, run, message) => {
    const error = failure(() => run());
    expect(error.code).toBe(FP);
    expect(error.message).toBe(message);
    expect(error.field).toBe(message.split(":")[0]);
  });
});

describe("relationships on a delegation", () => {
  const delegating = compileSchema(`caveat on_ticket(ticket string) { ticket != "" }
definition user {}
definition group {
  relation member: user
}
definition document {
  relation viewer: user
  permission view = viewer
}
definition agent {
  delegation acts_for: user | user with on_ticket {
    scope document#view
    max_lifetime 1d
  }
}`);
  const granted = new Date("2026-11-28T10:00:00.000Z");
  const edge = (context: Record<string, unknown> = {}, extra: Partial<Relationship> = {}): Relationship =>
    relationship("agent:b#acts_for@user:h", {
      caveat: { name: DELEGATION_CAVEAT, context: { id: "g-1", scope: ["document#view"], not_before: granted.toISOString(), granted_at: granted.toISOString(), chain: 1, ...context } },
      expiresAt: new Date(granted.getTime() + 60 * 60 * 1000),
      ...extra,
    });

  it.each<[string, Relationship]>([
    ["a valid edge", edge()],
    ["a valid edge with a task caveat", edge({ caveat: "on_ticket", caveat_context: { ticket: "T-1" } })],
  ])("accepts %s", (_, rel) => {
    expect(() => validateRelationship(delegating, rel)).not.toThrow();
  });

  it.each<[string, Relationship, ErrorCode, string]>([
    ["an edge without the delegation caveat", relationship("agent:b#acts_for@user:h"), IA, "updates[0].relationship.caveat"],
    ["an edge without an expiration", edge({}, { expiresAt: undefined }), IA, "updates[0].relationship.expiration"],
    ["an edge with a malformed attribute", edge({ chain: "one" }), IA, "updates[0].relationship.caveat.context.chain"],
    ["an edge for a principal type not allowed", edge({}, { subject: { type: "group", id: "eng" } }), IA, "updates[0].relationship.subject"],
    ["an edge for an unknown principal type", edge({}, { subject: { type: "robot", id: "r2" } }), FP, "updates[0].relationship.subject.type"],
    ["an edge with a scope outside the delegation's", edge({ scope: ["document#viewer"] }), IA, "updates[0].relationship.caveat.context.scope[0]"],
    ["an edge living past max_lifetime", edge({}, { expiresAt: new Date(granted.getTime() + 2 * 24 * 60 * 60 * 1000) }), IA, "updates[0].relationship.expiration"],
    ["an edge with a task caveat not allowed", edge({ caveat: "other" }), IA, "updates[0].relationship.caveat.context.caveat"],
    ["an edge with a task caveat context of the wrong type", edge({ caveat: "on_ticket", caveat_context: { ticket: 1 } }), IA, "updates[0].relationship.caveat.context.caveat_context.ticket"],
    ["the delegation caveat on a relation", relationship("document:readme#viewer@user:h", { caveat: { name: DELEGATION_CAVEAT, context: {} } }), IA, "updates[0].relationship.caveat"],
  ])("rejects %s, naming the field of the relationship", (_, rel, code, field) => {
    const error = failure(() => validateRelationship(delegating, rel, "updates[0].relationship"));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it("says that the delegation caveat is reserved for delegation edges", () => {
    const error = failure(() => validateRelationship(delegating, relationship("document:readme#viewer@user:h", { caveat: { name: DELEGATION_CAVEAT, context: {} } })));
    expect(error.message).toBe("relationship.caveat: caveat `mandate/delegation` is reserved for delegation edges, and relation `document#viewer` is not a delegation");
  });

  it("lets a delete name an edge by actor, delegation and principal alone", () => {
    expect(() => validateRelationshipForDelete(delegating, relationship("agent:b#acts_for@user:h"))).not.toThrow();
  });

  it.each<[string, Relationship, ErrorCode, string]>([
    ["a principal type not allowed", relationship("agent:b#acts_for@group:eng"), IA, "relationship.subject"],
    ["a userset principal", relationship("agent:b#acts_for@group:eng#member"), IA, "relationship.subject"],
    ["a wildcard principal", relationship("agent:b#acts_for@user:*"), IA, "relationship.subject"],
    ["an unknown principal type", relationship("agent:b#acts_for@robot:r2"), FP, "relationship.subject"],
  ])("rejects a delete of an edge with %s", (_, rel, code, field) => {
    const error = failure(() => validateRelationshipForDelete(delegating, rel));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });

  it("finds no relation or permission under a delegation's name, so that a check of it is refused", () => {
    expect(findRelationOrPermission(delegating, "agent", "acts_for")).toBeUndefined();
    const error = failure(() => lookupRelationOrPermission(delegating, "agent", "acts_for", "permission"));
    expect(error.code).toBe(FP);
    expect(error.message).toBe("permission: relation or permission `acts_for` not found on definition `agent` (`agent#acts_for` is a delegation)");
  });
});
