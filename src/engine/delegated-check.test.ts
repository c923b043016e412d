import { describe, expect, it } from "vitest";
import { compileSchema } from "../schema/index.ts";
import { MemoryStore } from "../store/index.ts";
import { grantToRelationship } from "../schema/index.ts";
import { parseObjectRef, parseRelationship } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import { planGrant, planRevoke } from "./delegation-grants.ts";
import type { GrantRequest } from "./delegation-types.ts";
import { Engine } from "./engine.ts";

const SCHEMA = `
use expiration

caveat on_ticket(ticket string, current_ticket string) {
	ticket == current_ticket
}

definition user {}

definition document {
	relation viewer: user | agent | service_account
	relation editor: user | agent | service_account
	permission edit = editor
	permission view = viewer + edit
}

definition agent {
	delegation acts_for: user | user with on_ticket | agent {
		scope document#view | document#edit
		max_lifetime 30d
		max_chain 2
		ceiling
	}
}

definition service_account {
	delegation runs_for: user {
		scope document#*
		max_lifetime 1h
	}
	delegation assists: user {
		scope document#view
		max_lifetime 1h
	}
}
`;

const HOUR = 3_600_000;
const ref = (text: string): ObjectRef => (text.endsWith(":*") ? { type: text.slice(0, -2), id: "*" } : parseObjectRef(text));

async function setUp(relationships: readonly string[]) {
  let clock = Date.parse("2026-11-28T12:00:00Z");
  const store = new MemoryStore({ now: () => clock });
  await store.writeSchema(SCHEMA, async () => {});
  const schema = compileSchema(SCHEMA);
  if (relationships.length > 0) await store.write(relationships.map((text) => ({ operation: "touch" as const, relationship: parseRelationship(text) })));
  const engine = new Engine({}, { budgets: store });
  const head = async () => store.snapshot(await store.headRevision());
  return {
    store,
    schema,
    engine,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => new Date(clock),
    grant: async (request: Partial<GrantRequest> & Pick<GrantRequest, "actor" | "principal" | "scope">) => {
      const plan = await planGrant(await head(), schema, request, new Date(clock));
      return store.write([{ operation: "touch", relationship: plan.relationship }], plan.preconditions);
    },
    check: async (resource: string, permission: string, actor: string, onBehalfOf?: string, context?: Record<string, unknown>) =>
      engine.check(await head(), schema, {
        resource: ref(resource),
        permission,
        subject: ref(actor),
        ...(onBehalfOf === undefined ? {} : { onBehalfOf: ref(onBehalfOf) }),
        ...(context === undefined ? {} : { context }),
      }),
  };
}

describe("checks on behalf of a principal", () => {
  it("allows what the principal may do inside the edge's scope, and explains the path", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"] });
    const result = await t.check("document:plan", "view", "agent:copilot", "user:ann");
    expect(result.permissionship).toBe("allowed");
    expect(result.delegation?.principal).toBe("allowed");
    expect(result.delegation?.path.map((hop) => [hop.actor.id, hop.grantedBy.id, hop.inScope])).toEqual([["copilot", "ann", true]]);
    expect(result.delegation?.reason).toBeUndefined();
  });

  it.each([
    ["the permission is outside the edge's scope", "document:plan", "edit", ["document:plan#editor@user:ann"], /document#edit is outside the scope of agent:copilot#acts_for@user:ann/],
    ["the principal lacks the permission", "document:other", "view", ["document:other#viewer@agent:copilot"], /user:ann, on whose behalf agent:copilot acts, does not have view on document:other/],
  ])("denies when %s, and says why", async (_, resource, permission, extra, reason) => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#editor@agent:copilot", ...extra]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"] });
    const result = await t.check(resource, permission, "agent:copilot", "user:ann");
    expect(result.permissionship).toBe("denied");
    expect(result.delegation?.reason).toMatch(reason);
  });

  it("denies an agent with no edge to the principal", async () => {
    const t = await setUp(["document:plan#viewer@user:ann"]);
    const result = await t.check("document:plan", "view", "agent:copilot", "user:ann");
    expect(result).toMatchObject({ permissionship: "denied", delegation: { path: [], reason: "no live delegation lets agent:copilot act for user:ann" } });
  });

  it("gives an agent acting for a narrow principal only the narrow rights, whatever its own grants (no confused deputy)", async () => {
    const t = await setUp(["document:secret#editor@agent:copilot", "document:plan#viewer@agent:copilot", "document:plan#viewer@user:ann"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view", "document#edit"] });
    expect((await t.check("document:secret", "edit", "agent:copilot")).permissionship).toBe("allowed");
    expect((await t.check("document:secret", "edit", "agent:copilot", "user:ann")).permissionship).toBe("denied");
    expect((await t.check("document:secret", "view", "agent:copilot", "user:ann")).permissionship).toBe("denied");
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
  });

  it("never lets an agent borrow its principal's rights without on_behalf_of", async () => {
    const t = await setUp(["document:plan#viewer@user:ann"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"] });
    expect((await t.check("document:plan", "view", "agent:copilot")).permissionship).toBe("denied");
  });

  it("caps an agent by its own grants where its delegation sets a ceiling", async () => {
    const t = await setUp(["document:plan#editor@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view", "document#edit"] });
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
    const edit = await t.check("document:plan", "edit", "agent:copilot", "user:ann");
    expect(edit.permissionship).toBe("denied");
    expect(edit.delegation?.path[0]?.ceiling).toBe("denied");
    expect(edit.delegation?.reason).toMatch(/agent:copilot's own grants do not allow edit/);
  });

  it("applies no ceiling where the delegation sets none", async () => {
    const t = await setUp(["document:plan#editor@user:ann"]);
    await t.grant({ actor: ref("service_account:ci"), principal: ref("user:ann"), scope: ["document#*"], delegation: "runs_for" });
    expect((await t.check("document:plan", "edit", "service_account:ci", "user:ann")).permissionship).toBe("allowed");
  });

  it("follows a chain of two agents and narrows to every hop's scope", async () => {
    const t = await setUp(["document:plan#editor@user:ann"]);
    await t.grant({ actor: ref("agent:planner"), principal: ref("user:ann"), scope: ["document#view", "document#edit"] });
    await t.store.write([{ operation: "touch", relationship: parseRelationship("document:plan#editor@agent:planner") }]);
    await t.grant({ actor: ref("agent:worker"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:planner") });
    await t.store.write([{ operation: "touch", relationship: parseRelationship("document:plan#editor@agent:worker") }]);
    const view = await t.check("document:plan", "view", "agent:worker", "user:ann");
    expect(view.permissionship).toBe("allowed");
    expect(view.delegation?.path.map((hop) => `${hop.actor.id}<-${hop.grantedBy.id}`)).toEqual(["worker<-planner", "planner<-ann"]);
    expect((await t.check("document:plan", "edit", "agent:worker", "user:ann")).permissionship).toBe("denied");
  });

  it("answers CONDITIONAL while the edge's task caveat lacks context, and decides once it has it", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], caveat: { name: "on_ticket", context: { ticket: "T-1" } } });
    expect(await t.check("document:plan", "view", "agent:copilot", "user:ann")).toMatchObject({ permissionship: "conditional", missingParameters: ["current_ticket"] });
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann", { current_ticket: "T-1" })).permissionship).toBe("allowed");
    const other = await t.check("document:plan", "view", "agent:copilot", "user:ann", { current_ticket: "T-2" });
    expect(other.permissionship).toBe("denied");
    expect(other.delegation?.reason).toMatch(/caveat `on_ticket`/);
  });

  it("counts allowed checks against a budget and denies past it, saying why; denied checks cost nothing", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view", "document#edit"], budget: 2 });
    expect((await t.check("document:plan", "edit", "agent:copilot", "user:ann")).permissionship).toBe("denied");
    const first = await t.check("document:plan", "view", "agent:copilot", "user:ann");
    expect(first.delegation?.path[0]?.budget).toEqual({ limit: 2, used: 1 });
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
    const third = await t.check("document:plan", "view", "agent:copilot", "user:ann");
    expect(third.permissionship).toBe("denied");
    expect(third.delegation?.reason).toMatch(/budget of agent:copilot#acts_for@user:ann is spent \(2 allowed checks\)/);
  });

  it("keeps the uses counted when the edge is granted again", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], budget: 1 });
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], budget: 1 });
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).delegation?.reason).toMatch(/budget .* is spent/);
  });

  it("goes through an edge without a budget before spending one", async () => {
    const t = await setUp(["document:plan#viewer@user:ann"]);
    await t.grant({ actor: ref("service_account:ci"), principal: ref("user:ann"), scope: ["document#view"], delegation: "runs_for", budget: 1 });
    await t.grant({ actor: ref("service_account:ci"), principal: ref("user:ann"), scope: ["document#view"], delegation: "assists" });
    for (let i = 0; i < 3; i++) {
      const result = await t.check("document:plan", "view", "service_account:ci", "user:ann");
      expect(result.delegation?.path[0]?.delegation).toBe("assists");
    }
    expect(await t.store.budgetUsage([(await t.check("document:plan", "view", "service_account:ci", "user:ann")).delegation?.path[0]?.grantId ?? ""])).toEqual(new Map([[expect.any(String), 0]]));
  });

  it("leaves CONDITIONAL results in a lookup through a spent budget, as Check does", async () => {
    const t = await setUp([
      "document:d1#viewer@user:ann",
      "document:d1#viewer@agent:copilot",
      'document:d2#viewer@user:ann[on_ticket:{"ticket":"T-1"}]',
      "document:d2#viewer@agent:copilot",
    ]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], budget: 1 });
    expect((await t.check("document:d1", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
    expect((await t.check("document:d2", "view", "agent:copilot", "user:ann")).permissionship).toBe("conditional");
    const reader = t.store.snapshot(await t.store.headRevision());
    const found = await t.engine.lookupResources(reader, t.schema, { resourceType: "document", permission: "view", subject: ref("agent:copilot"), onBehalfOf: ref("user:ann") });
    expect([...found]).toEqual([{ id: "d2", permissionship: "conditional", missingParameters: ["current_ticket"] }]);
  });

  it("explains without spending the budget", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], budget: 1 });
    const reader = t.store.snapshot(await t.store.headRevision());
    const request = { resource: ref("document:plan"), permission: "view", subject: ref("agent:copilot"), onBehalfOf: ref("user:ann") };
    await t.engine.explainDelegation(reader, t.schema, request);
    await t.engine.explainDelegation(reader, t.schema, request);
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
  });

  it.each([
    ["the edge is revoked", async (t: Awaited<ReturnType<typeof setUp>>) => {
      const doomed = await planRevoke(t.store.snapshot(await t.store.headRevision()), t.schema, { kind: "actor", actor: ref("agent:copilot") });
      await t.store.write(doomed.map((relationship) => ({ operation: "delete" as const, relationship })));
    }],
    ["the edge expires", async (t: Awaited<ReturnType<typeof setUp>>) => t.advance(3 * HOUR)],
    ["the principal loses the permission", async (t: Awaited<ReturnType<typeof setUp>>) => {
      await t.store.write([{ operation: "delete", relationship: parseRelationship("document:plan#viewer@user:ann") }]);
    }],
  ])("denies at the next revision once %s", async (_, change) => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], expiresAt: new Date(t.now().getTime() + 2 * HOUR) });
    const before = await t.store.headRevision();
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
    await change(t);
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("denied");
    expect(await t.store.headRevision()).toBeGreaterThanOrEqual(before);
  });

  it("revokes the sub-delegations hanging off a revoked edge in the same write", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:planner", "document:plan#viewer@agent:worker"]);
    await t.grant({ actor: ref("agent:planner"), principal: ref("user:ann"), scope: ["document#view"] });
    await t.grant({ actor: ref("agent:worker"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:planner") });
    const doomed = await planRevoke(t.store.snapshot(await t.store.headRevision()), t.schema, { kind: "edge", actor: ref("agent:planner"), principal: ref("user:ann") });
    expect(doomed.map((relationship) => relationship.resource.id).sort()).toEqual(["planner", "worker"]);
  });

  it.each([
    ["deleted by hand and granted again", async (t: Awaited<ReturnType<typeof setUp>>) => {
      await t.store.write([{ operation: "delete", relationship: parseRelationship("agent:planner#acts_for@user:ann") }]);
    }],
    ["revoked and granted again", async (t: Awaited<ReturnType<typeof setUp>>) => {
      const doomed = await planRevoke(t.store.snapshot(await t.store.headRevision()), t.schema, { kind: "edge", actor: ref("agent:planner"), principal: ref("user:ann") });
      await t.store.write(doomed.filter((edge) => edge.resource.id === "planner").map((relationship) => ({ operation: "delete" as const, relationship })));
    }],
  ])("does not revive a sub-delegation whose parent was %s", async (_, removeParent) => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:planner", "document:plan#viewer@agent:worker"]);
    await t.grant({ actor: ref("agent:planner"), principal: ref("user:ann"), scope: ["document#view"] });
    await t.grant({ actor: ref("agent:worker"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:planner") });
    expect((await t.check("document:plan", "view", "agent:worker", "user:ann")).permissionship).toBe("allowed");
    await removeParent(t);
    await t.grant({ actor: ref("agent:planner"), principal: ref("user:ann"), scope: ["document#view"] });
    const after = await t.check("document:plan", "view", "agent:worker", "user:ann");
    expect(after.permissionship).toBe("denied");
    expect(after.delegation?.reason).toMatch(/replaced by another grant/);
  });

  it("does not honour an edge stored with a grant time in the future (an import) before that time", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    const grantedAt = new Date(t.now().getTime() + 24 * HOUR);
    const edge = grantToRelationship({
      actor: ref("agent:copilot"),
      delegation: "acts_for",
      principal: ref("user:ann"),
      id: "imported-1",
      scope: [{ type: "document", permission: "view" }],
      notBefore: t.now(),
      grantedAt,
      expiresAt: new Date(grantedAt.getTime() + HOUR),
      chain: 1,
    });
    await t.store.write([{ operation: "touch", relationship: edge }]);
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).delegation?.reason).toMatch(/is not valid before/);
    t.advance(24 * HOUR + 1);
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
  });

  it("does not honour an edge before its not_before", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"], notBefore: new Date(t.now().getTime() + HOUR) });
    const early = await t.check("document:plan", "view", "agent:copilot", "user:ann");
    expect(early.permissionship).toBe("denied");
    expect(early.delegation?.reason).toMatch(/is not valid before/);
    t.advance(2 * HOUR);
    expect((await t.check("document:plan", "view", "agent:copilot", "user:ann")).permissionship).toBe("allowed");
  });

  it.each([
    ["a userset actor", "agent:copilot#acts_for", "user:ann", "subject.relation"],
    ["a wildcard actor", "agent:*", "user:ann", "subject.id"],
    ["a wildcard principal", "agent:copilot", "user:*", "onBehalfOf.id"],
    ["a principal type no delegation allows", "service_account:ci", "agent:copilot", "onBehalfOf.type"],
    ["an unknown principal type", "agent:copilot", "robot:r2", "onBehalfOf.type"],
  ])("rejects %s naming the field", async (_, actor, principal, field) => {
    const t = await setUp([]);
    const subject = actor.includes("#") ? { ...ref(actor.split("#")[0] ?? ""), relation: actor.split("#")[1] } : ref(actor);
    const reader = t.store.snapshot(await t.store.headRevision());
    await expect(t.engine.check(reader, t.schema, { resource: ref("document:plan"), permission: "view", subject, onBehalfOf: ref(principal) })).rejects.toMatchObject({ field });
  });

  it("answers batch items on behalf of principals, each on its own", async () => {
    const t = await setUp(["document:plan#viewer@user:ann", "document:plan#viewer@agent:copilot"]);
    await t.grant({ actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#view"] });
    const reader = t.store.snapshot(await t.store.headRevision());
    const answers = await t.engine.checkBatch(reader, t.schema, [
      { resource: ref("document:plan"), permission: "view", subject: ref("agent:copilot"), onBehalfOf: ref("user:ann") },
      { resource: ref("document:plan"), permission: "edit", subject: ref("agent:copilot"), onBehalfOf: ref("user:ann") },
      { resource: ref("document:plan"), permission: "view", subject: ref("agent:copilot"), onBehalfOf: ref("user:bob") },
    ]);
    expect(answers.map((answer) => ("result" in answer ? answer.result.permissionship : "error"))).toEqual(["allowed", "denied", "denied"]);
  });
});

describe("granting", () => {
  it.each([
    ["a principal type no delegation allows", { actor: ref("service_account:ci"), principal: ref("agent:copilot"), scope: ["document#view"] }, "principal"],
    ["an unknown permission in the scope", { actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#destroy"] }, /scope\[0\]/],
    ["a scope wider than the schema allows", { actor: ref("agent:copilot"), principal: ref("user:ann"), scope: ["document#*"] }, /scope/],
    ["an expiry past the schema's max_lifetime", { actor: ref("service_account:ci"), principal: ref("user:ann"), delegation: "runs_for", scope: ["document#view"], expiresAt: new Date(Date.parse("2026-11-28T14:00:00Z")) }, /expires/],
  ])("refuses %s, naming the field", async (_, request, field) => {
    const t = await setUp([]);
    const failure = planGrant(t.store.snapshot(await t.store.headRevision()), t.schema, request, t.now());
    await expect(failure).rejects.toMatchObject({ field: expect.stringMatching(field) });
  });

  it("refuses a sub-delegation that widens or outlives its parent, or makes the chain too long", async () => {
    const t = await setUp([]);
    await t.grant({ actor: ref("agent:a1"), principal: ref("user:ann"), scope: ["document#view"], expiresAt: new Date(t.now().getTime() + 2 * HOUR) });
    const reader = async () => t.store.snapshot(await t.store.headRevision());
    await expect(planGrant(await reader(), t.schema, { actor: ref("agent:a2"), principal: ref("user:ann"), scope: ["document#edit"], via: ref("agent:a1") }, t.now())).rejects.toMatchObject({ field: "scope" });
    await expect(
      planGrant(await reader(), t.schema, { actor: ref("agent:a2"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:a1"), expiresAt: new Date(t.now().getTime() + 3 * HOUR) }, t.now()),
    ).rejects.toMatchObject({ field: "expires_at" });
    await t.grant({ actor: ref("agent:a2"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:a1") });
    await expect(planGrant(await reader(), t.schema, { actor: ref("agent:a3"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:a2") }, t.now())).rejects.toMatchObject({ field: "via" });
  });

  it("refuses to pass on an edge the agent does not hold", async () => {
    const t = await setUp([]);
    await expect(
      planGrant(t.store.snapshot(await t.store.headRevision()), t.schema, { actor: ref("agent:a2"), principal: ref("user:ann"), scope: ["document#view"], via: ref("agent:a1") }, t.now()),
    ).rejects.toMatchObject({ field: "via" });
  });
});
