import { describe, expect, it } from "vitest";
import { AuthzError } from "../tuple/index.ts";
import type { ErrorCode, Relationship } from "../tuple/index.ts";
import {
  DELEGATION_CAVEAT,
  compileSchema,
  formatScopeEntry,
  grantFromRelationship,
  grantToRelationship,
  parseScopeEntry,
  scopeCovers,
  scopeWithin,
  validateGrant,
} from "./index.ts";
import type { DelegationGrant, ScopeEntry } from "./index.ts";

const schema = compileSchema(`use expiration
caveat on_ticket(ticket string) { ticket != "" }
caveat in_hours(hour int) { hour < 18 }
definition user {}
definition group {}
definition repository {
  relation reader: user
}
definition document {
  relation viewer: user
  relation editor: user
  permission view = viewer + editor
  permission edit = editor
}
definition agent {
  relation operator: user
  delegation acts_for: user | user with on_ticket | agent {
    scope document#view | document#edit | repository#*
    max_lifetime 30d
    max_chain 2
  }
  delegation helps: user with in_hours { scope * }
}
definition bot {
  delegation acts_for: user { scope document#view }
}`);

const DAY = 24 * 60 * 60 * 1000;
const GRANTED = new Date("2026-11-28T10:00:00.000Z");
const at = (offset: number): Date => new Date(GRANTED.getTime() + offset);

const GRANT: DelegationGrant = {
  actor: { type: "agent", id: "b" },
  delegation: "acts_for",
  principal: { type: "user", id: "h" },
  id: "g-1",
  scope: [
    { type: "document", permission: "view" },
    { type: "repository", permission: "*" },
  ],
  notBefore: GRANTED,
  expiresAt: at(DAY),
  grantedAt: GRANTED,
  chain: 1,
};

const SUB_GRANT: DelegationGrant = { ...GRANT, actor: { type: "agent", id: "c" }, chain: 2, via: { actor: { type: "agent", id: "b" }, delegation: "acts_for", grantId: "parent-1" } };

function failure(run: () => void): AuthzError {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error("expected an AuthzError");
}

const entry = (type: string, permission: string): ScopeEntry => ({ type, permission });
const scope = (...texts: string[]): ScopeEntry[] => texts.map((text) => parseScopeEntry(text, "scope"));

describe("grantToRelationship", () => {
  it("stores an edge as actor#delegation@principal, expiring with it, its attributes in the delegation caveat", () => {
    const grant: DelegationGrant = { ...SUB_GRANT, caveat: { name: "on_ticket", context: { ticket: "T-1" } }, budget: 100 };
    expect(grantToRelationship(grant)).toEqual({
      resource: { type: "agent", id: "c" },
      relation: "acts_for",
      subject: { type: "user", id: "h" },
      expiresAt: at(DAY),
      caveat: {
        name: DELEGATION_CAVEAT,
        context: {
          id: "g-1",
          scope: ["document#view", "repository#*"],
          not_before: "2026-11-28T10:00:00.000Z",
          granted_at: "2026-11-28T10:00:00.000Z",
          chain: 2,
          via: "agent:b#acts_for",
          via_id: "parent-1",
          caveat: "on_ticket",
          caveat_context: { ticket: "T-1" },
          budget: 100,
        },
      },
    });
  });

  it("leaves out the optional attributes an edge does not have", () => {
    expect(Object.keys(grantToRelationship(GRANT).caveat?.context ?? {})).toEqual(["id", "scope", "not_before", "granted_at", "chain"]);
  });
});

describe("grantFromRelationship", () => {
  it.each<[string, DelegationGrant]>([
    ["a direct edge", GRANT],
    ["a sub-delegation", SUB_GRANT],
    ["an edge with a task caveat and a budget", { ...GRANT, caveat: { name: "on_ticket", context: { ticket: "T-1" } }, budget: 7 }],
    ["an edge for another agent, with a scope of everything", { ...GRANT, principal: { type: "agent", id: "a" }, scope: [entry("*", "*")] }],
  ])("reads back %s as it was stored", (_, grant) => {
    expect(grantFromRelationship(grantToRelationship(grant))).toEqual(grant);
  });

  it("reads a caveat without a context as one with an empty context", () => {
    const stored = grantToRelationship(GRANT);
    const context = { ...stored.caveat?.context, caveat: "on_ticket" };
    expect(grantFromRelationship({ ...stored, caveat: { name: DELEGATION_CAVEAT, context } }).caveat).toEqual({ name: "on_ticket", context: {} });
  });

  const stored = grantToRelationship(GRANT);
  const withContext = (change: Record<string, unknown>, remove: string[] = []): Relationship => {
    const context: Record<string, unknown> = { ...stored.caveat?.context, ...change };
    for (const key of remove) delete context[key];
    return { ...stored, caveat: { name: DELEGATION_CAVEAT, context } };
  };

  it.each<[string, Relationship, string, string]>([
    ["no caveat", { ...stored, caveat: undefined }, "relationship.caveat", "must carry caveat `mandate/delegation`"],
    ["another caveat", { ...stored, caveat: { name: "on_ticket", context: {} } }, "relationship.caveat", "must carry caveat `mandate/delegation`"],
    ["no expiration", { ...stored, expiresAt: undefined }, "relationship.expiration", "must have an expiration"],
    ["a userset subject", { ...stored, subject: { type: "user", id: "h", relation: "member" } }, "relationship.subject", "acts for one object"],
    ["a wildcard subject", { ...stored, subject: { type: "user", id: "*" } }, "relationship.subject", "acts for one object"],
    ["a missing id", withContext({}, ["id"]), "relationship.caveat.context.id", "is missing"],
    ["an id with spaces", withContext({ id: "g 1" }), "relationship.caveat.context.id", 'found string "g 1"'],
    ["a scope that is not a list", withContext({ scope: "document#view" }), "relationship.caveat.context.scope", "expected a list of scope entries"],
    ["a malformed scope entry", withContext({ scope: ["document#view", "document"] }), "relationship.caveat.context.scope[1]", '"document" is not a scope entry'],
    ["a scope entry that is not a string", withContext({ scope: [3] }), "relationship.caveat.context.scope[0]", "expected a scope entry string, found number 3"],
    ["a not_before that is not RFC 3339", withContext({ not_before: "28/11/2026" }), "relationship.caveat.context.not_before", "expected an RFC 3339 timestamp"],
    ["a missing granted_at", withContext({}, ["granted_at"]), "relationship.caveat.context.granted_at", "is missing"],
    ["a chain as a string", withContext({ chain: "1" }), "relationship.caveat.context.chain", "expected an integer"],
    ["a fractional chain", withContext({ chain: 1.5 }), "relationship.caveat.context.chain", "expected an integer"],
    ["a via without its delegation", withContext({ via: "agent:a" }), "relationship.caveat.context.via", "expected a parent edge"],
    ["a malformed via", withContext({ via: "agent#acts_for" }), "relationship.caveat.context.via", "is not of the form"],
    ["a via without the parent's grant id", withContext({ via: "agent:b#acts_for" }), "relationship.caveat.context.via_id", "needs `via` and `via_id` together"],
    ["a parent's grant id without via", withContext({ via_id: "parent-1" }), "relationship.caveat.context.via", "needs `via` and `via_id` together"],
    ["a caveat context without a caveat", withContext({ caveat_context: { ticket: "T-1" } }), "relationship.caveat.context.caveat_context", "is given without `caveat`"],
    ["a caveat context that is a list", withContext({ caveat: "on_ticket", caveat_context: ["T-1"] }), "relationship.caveat.context.caveat_context", "expected an object, found a list"],
    ["a budget as a string", withContext({ budget: "10" }), "relationship.caveat.context.budget", "expected a number"],
    ["an unknown attribute", withContext({ scopes: [] }), "relationship.caveat.context.scopes", "is not an attribute of a delegation edge"],
  ])("rejects %s, naming the field", (_, relationship, field, message) => {
    const error = failure(() => grantFromRelationship(relationship));
    expect(error.code).toBe("invalid_argument");
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });
});

describe("validateGrant", () => {
  it.each<[string, DelegationGrant]>([
    ["a direct edge", GRANT],
    ["a sub-delegation at the delegation's max_chain", SUB_GRANT],
    ["an edge for another agent", { ...GRANT, principal: { type: "agent", id: "a" } }],
    ["an edge with a task caveat its principal type allows", { ...GRANT, caveat: { name: "on_ticket", context: { ticket: "T-1" } } }],
    ["an edge whose scope is the delegation's own", { ...GRANT, scope: scope("document#view", "document#edit", "repository#*") }],
    ["an edge living exactly max_lifetime", { ...GRANT, expiresAt: at(30 * DAY) }],
    ["an edge starting later than granted", { ...GRANT, notBefore: at(DAY / 2) }],
    ["a budget of 2^31 - 1", { ...GRANT, budget: 2 ** 31 - 1 }],
    ["any scope under `scope *`, with the required caveat", { ...GRANT, delegation: "helps", scope: scope("document#viewer", "group#*"), caveat: { name: "in_hours", context: {} } }],
  ])("accepts %s", (_, grant) => {
    expect(() => validateGrant(schema, grant)).not.toThrow();
  });

  const FP: ErrorCode = "failed_precondition";
  const IA: ErrorCode = "invalid_argument";
  it.each<[string, DelegationGrant, ErrorCode, string, string]>([
    ["an unknown actor type", { ...GRANT, actor: { type: "robot", id: "b" } }, FP, "grant.actor.type", "definition `robot` not found"],
    ["a delegation the actor type lacks", { ...GRANT, delegation: "operator" }, FP, "grant.delegation", "delegation `operator` not found on definition `agent` (its delegations: `acts_for`, `helps`)"],
    ["an unknown principal type", { ...GRANT, principal: { type: "robot", id: "h" } }, FP, "grant.principal.type", "definition `robot` not found"],
    ["a principal type not allowed", { ...GRANT, principal: { type: "group", id: "eng" } }, IA, "grant.principal", "principal type `group` is not allowed by delegation `agent#acts_for`; allowed: user, user with on_ticket, agent"],
    ["an actor acting for itself", { ...GRANT, principal: { type: "agent", id: "b" } }, IA, "grant.principal", "`agent:b` cannot act for itself"],
    ["a caveat not allowed", { ...GRANT, caveat: { name: "in_hours", context: {} } }, IA, "grant.caveat", "caveat `in_hours` is not allowed for principal type `user` on delegation `agent#acts_for`; allowed: user, user with on_ticket"],
    ["a caveat on a principal type that takes none", { ...GRANT, principal: { type: "agent", id: "a" }, caveat: { name: "on_ticket", context: {} } }, IA, "grant.caveat", "allowed: agent"],
    ["a missing required caveat", { ...GRANT, delegation: "helps" }, IA, "grant.caveat", "delegation `agent#helps` requires a caveat for principal type `user`"],
    ["a caveat context of the wrong type", { ...GRANT, caveat: { name: "on_ticket", context: { ticket: 5 } } }, IA, "grant.caveat.context.ticket", ""],
    ["a caveat context naming an unknown parameter", { ...GRANT, caveat: { name: "on_ticket", context: { tiket: "T-1" } } }, IA, "grant.caveat.context.tiket", "has no parameter"],
    ["an empty scope", { ...GRANT, scope: [] }, IA, "grant.scope", "the scope is empty"],
    ["a scope entry twice", { ...GRANT, scope: scope("document#view", "document#view") }, IA, "grant.scope[1]", "scope entry `document#view` is listed twice"],
    ["a scope entry of an unknown definition", { ...GRANT, scope: scope("folder#view") }, IA, "grant.scope[0]", "names definition `folder`, which is not in the schema"],
    ["an unknown permission in scope", { ...GRANT, scope: scope("document#share") }, IA, "grant.scope[0]", "names `share`, which is not a relation or permission of definition `document`"],
    ["a delegation in scope", { ...GRANT, delegation: "helps", caveat: { name: "in_hours", context: {} }, scope: scope("agent#acts_for") }, IA, "grant.scope[0]", "not a relation or permission of definition `agent`"],
    ["a relation outside the delegation's scope", { ...GRANT, scope: scope("document#view", "document#viewer") }, IA, "grant.scope[1]", "scope entry `document#viewer` is outside the scope of delegation `agent#acts_for` (document#view | document#edit | repository#*)"],
    ["a whole type where the delegation lists permissions", { ...GRANT, scope: scope("document#*") }, IA, "grant.scope[0]", "is outside the scope"],
    ["everything where the delegation lists types", { ...GRANT, scope: scope("*") }, IA, "grant.scope[0]", "is outside the scope"],
    ["not_before at the expiry", { ...GRANT, notBefore: at(DAY) }, IA, "grant.not_before", "must be before the expiry"],
    ["a lifetime past max_lifetime", { ...GRANT, expiresAt: at(30 * DAY + 1000) }, IA, "grant.expires_at", "the edge would live 30d1s from when it was granted; delegation `agent#acts_for` allows at most 30d (max_lifetime)"],
    ["a chain past max_chain", { ...SUB_GRANT, chain: 3 }, IA, "grant.chain", "chain 3 is outside 1..2"],
    ["a chain of 0", { ...GRANT, chain: 0 }, IA, "grant.chain", "chain 0 is outside 1..2"],
    ["a sub-delegation without via", { ...SUB_GRANT, via: undefined }, IA, "grant.via", "a sub-delegation (chain 2) must name its parent edge"],
    ["a direct edge with via", { ...SUB_GRANT, chain: 1 }, IA, "grant.via", "an edge of chain 1 is granted by the principal itself"],
    ["a via naming the actor itself", { ...SUB_GRANT, via: { actor: { type: "agent", id: "c" }, delegation: "acts_for", grantId: "parent-1" } }, IA, "grant.via", "cannot be the actor's own"],
    ["a via through an unknown delegation", { ...SUB_GRANT, via: { actor: { type: "agent", id: "b" }, delegation: "operator", grantId: "parent-1" } }, FP, "grant.via", "delegation `operator` not found on definition `agent`"],
    ["a via through a delegation not allowing the principal's type", { ...SUB_GRANT, principal: { type: "agent", id: "a" }, via: { actor: { type: "bot", id: "x" }, delegation: "acts_for", grantId: "parent-1" } }, IA, "grant.via", "delegation `bot#acts_for` of the parent edge does not allow principal type `agent`"],
    ["a budget of 0", { ...GRANT, budget: 0 }, IA, "grant.budget", "budget 0 is not an integer from 1 to 2147483647"],
    ["a negative budget", { ...GRANT, budget: -5 }, IA, "grant.budget", "budget -5"],
    ["a fractional budget", { ...GRANT, budget: 1.5 }, IA, "grant.budget", "budget 1.5"],
    ["a budget of 2^31", { ...GRANT, budget: 2 ** 31 }, IA, "grant.budget", "budget 2147483648"],
  ])("rejects %s, naming the field", (_, grant, code, field, message) => {
    const error = failure(() => validateGrant(schema, grant));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.message).toContain(message);
  });

  it("names fields under the field it is given", () => {
    expect(failure(() => validateGrant(schema, { ...GRANT, scope: scope("document#share") }, "request.grant")).field).toBe("request.grant.scope[0]");
  });
});

describe("scopeCovers", () => {
  it.each<[string, string, string, boolean]>([
    ["*", "document", "view", true],
    ["document#*", "document", "view", true],
    ["document#*", "folder", "view", false],
    ["document#view", "document", "view", true],
    ["document#view", "document", "edit", false],
    ["document#view", "folder", "view", false],
    ["folder#view | document#edit", "document", "edit", true],
  ])("scope %s covers %s#%s: %s", (text, type, permission, expected) => {
    expect(scopeCovers(scope(...text.split(" | ")), type, permission)).toBe(expected);
  });

  it("covers nothing when empty", () => {
    expect(scopeCovers([], "document", "view")).toBe(false);
  });
});

describe("scopeWithin", () => {
  it.each<[string, string, boolean]>([
    ["document#view", "document#view", true],
    ["document#view", "document#*", true],
    ["document#view", "*", true],
    ["document#view", "document#edit", false],
    ["document#*", "document#*", true],
    ["document#*", "*", true],
    ["document#*", "document#view | document#edit", false],
    ["document#*", "folder#*", false],
    ["*", "*", true],
    ["*", "document#* | folder#*", false],
    ["document#view | folder#edit", "document#* | folder#edit", true],
    ["document#view | folder#edit", "document#*", false],
  ])("%s within %s: %s", (inner, outer, expected) => {
    expect(scopeWithin(scope(...inner.split(" | ")), scope(...outer.split(" | ")))).toBe(expected);
  });

  it("holds for an empty inner scope and for nothing within an empty outer one", () => {
    expect(scopeWithin([], [])).toBe(true);
    expect(scopeWithin(scope("document#view"), [])).toBe(false);
  });
});

describe("parseScopeEntry and formatScopeEntry", () => {
  it.each<[string, ScopeEntry]>([
    ["*", entry("*", "*")],
    ["document#*", entry("document", "*")],
    ["document#view", entry("document", "view")],
    ["acme/doc#can_view", entry("acme/doc", "can_view")],
  ])("read %s and write it back", (text, expected) => {
    expect(parseScopeEntry(text, "scope[0]")).toEqual(expected);
    expect(formatScopeEntry(expected)).toBe(text);
  });

  it.each(["", "document", "#view", "document#", "document#View", "Document#view", "document#view#x", "*#view", "document:1#view", "**"])("rejects %j naming the field", (text) => {
    const error = failure(() => parseScopeEntry(text, "scope[3]"));
    expect(error.code).toBe("invalid_argument");
    expect(error.field).toBe("scope[3]");
    expect(error.message).toContain("is not a scope entry; expected `type#permission`, `type#*` or `*`");
  });
});
