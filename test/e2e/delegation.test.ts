import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toWireStruct, toWireTimestamp } from "../../src/api/index.ts";
import type {
  WireCheckPermissionRequest,
  WireCheckPermissionResponse,
  WireGrantDelegationRequest,
  WireGrantDelegationResponse,
  WireObjectReference,
  WireRelationship,
} from "../../src/api/index.ts";
import { runMain } from "../../src/cli/main.ts";
import { fakeCommandIo } from "../../src/cli/fake-command-io.ts";
import { MemoryStore } from "../../src/store/index.ts";
import { DELEGATION_SCHEMA } from "./delegation-fixture.ts";
import { rejection, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ann may view the readme (and edit it); bob may view the secret. agent:bot reads and writes the
// whole repository on its own account, so its ceiling never narrows a check here: what it may do
// for someone is exactly that person's access within the edge's scope.
const SEED = [
  "document:readme#repo@repository:main",
  "document:secret#repo@repository:main",
  "document:readme#viewer@user:ann",
  "document:readme#editor@user:ann",
  "document:secret#viewer@user:bob",
  "repository:main#writer@agent:bot",
  "repository:main#reader@agent:helper",
  "repository:main#reader@agent:third",
];

function object(text: string): WireObjectReference {
  const [objectType, objectId] = text.split(":");
  return { objectType, objectId };
}

function delegatedCheck(resource: string, permission: string, actor: string, principal: string, token?: string): WireCheckPermissionRequest {
  return {
    consistency: token === undefined ? { fullyConsistent: true } : { atLeastAsFresh: { token } },
    resource: object(resource),
    permission,
    subject: { object: object(actor), optionalRelation: "" },
    onBehalfOf: object(principal),
  };
}

describe("DelegationService and checks on behalf of a principal, over gRPC", () => {
  let h: Harness;
  // The store's clock: tests move it to expire edges.
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse("2026-11-28T10:00:00.000Z");
    h = await startHarness({ store: async () => new MemoryStore({ now: () => clock }) });
    await h.client.writeSchema({ schema: DELEGATION_SCHEMA });
    await h.client.writeRelationships({ updates: SEED.map((text) => update("create", text)) });
  });
  afterEach(async () => {
    await h.close();
  });

  function grant(actor: string, principal: string, fields: Partial<WireGrantDelegationRequest> = {}): Promise<WireGrantDelegationResponse> {
    return h.client.grantDelegation({
      actor: object(actor),
      principal: object(principal),
      scope: ["document#view"],
      expiresAt: toWireTimestamp(new Date(clock + 2 * HOUR)),
      ...fields,
    });
  }

  async function check(resource: string, permission: string, actor: string, principal: string, token?: string): Promise<WireCheckPermissionResponse> {
    return h.client.check(delegatedCheck(resource, permission, actor, principal, token));
  }

  describe("GrantDelegation, ListDelegations and RevokeDelegations", () => {
    it("grants an edge and returns it with the write's token", async () => {
      const response = await grant("agent:bot", "user:ann", { scope: ["document#view", "repository#*"], budget: 5 });
      expect(response.writtenAt?.token).toMatch(/.+/);
      expect(response.grant).toMatchObject({
        actor: object("agent:bot"),
        delegation: "acts_for",
        principal: object("user:ann"),
        scope: ["document#view", "repository#*"],
        chain: 1,
        via: null,
        budget: 5,
      });
      expect(response.grant?.grantId).toMatch(/.+/);
      expect(Number(response.grant?.expiresAt?.seconds) * 1000).toBe(clock + 2 * HOUR);
      expect(Number(response.grant?.notBefore?.seconds) * 1000).toBe(clock);
    });

    it("defaults the expiry to the delegation's max_lifetime", async () => {
      const response = await grant("agent:bot", "user:ann", { expiresAt: null });
      expect(Number(response.grant?.expiresAt?.seconds) * 1000).toBe(clock + 30 * DAY);
    });

    it("lists the edges an actor holds and those acting for a principal, with budget uses", async () => {
      await grant("agent:bot", "user:ann", { budget: 3 });
      await grant("agent:bot", "user:bob");
      await grant("agent:helper", "user:ann");
      await check("document:readme", "view", "agent:bot", "user:ann");

      const byActor = await h.client.listDelegations({ consistency: { fullyConsistent: true }, actor: object("agent:bot") });
      expect(byActor.grants?.map((g) => `${g.principal?.objectId} ${g.budgetUsed}/${g.budget}`).sort()).toEqual(["ann 1/3", "bob 0/0"]);
      const byPrincipal = await h.client.listDelegations({ principal: object("user:ann") });
      expect(byPrincipal.grants?.map((g) => g.actor?.objectId).sort()).toEqual(["bot", "helper"]);
      expect(byPrincipal.readAt?.token).toMatch(/.+/);
    });

    it("revokes one edge with the sub-delegations passed on from it, and a check with the revocation's token sees it", async () => {
      await grant("agent:bot", "user:ann", { scope: ["document#view", "document#edit"] });
      await grant("agent:helper", "user:ann", { via: object("agent:bot") });
      expect((await check("document:readme", "view", "agent:helper", "user:ann")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");

      const revoked = await h.client.revokeDelegations({ edge: { actor: object("agent:bot"), principal: object("user:ann") } });
      expect(revoked.revoked?.map((g) => g.actor?.objectId).sort()).toEqual(["bot", "helper"]);
      const token = revoked.writtenAt?.token ?? "";
      for (const actor of ["agent:bot", "agent:helper"]) {
        const answer = await check("document:readme", "view", actor, "user:ann", token);
        expect(answer.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
        expect(answer.delegation?.path).toEqual([]);
      }
      expect((await h.client.listDelegations({ principal: object("user:ann") })).grants).toEqual([]);
    });

    it.each([
      ["every edge of an actor", { actor: object("agent:bot") }, ["bot ann", "bot bob"]],
      ["every edge acting for a principal", { principal: object("user:ann") }, ["bot ann", "helper ann"]],
    ])("revokes %s", async (_name, selector, expected) => {
      await grant("agent:bot", "user:ann");
      await grant("agent:bot", "user:bob");
      await grant("agent:helper", "user:ann");
      const revoked = await h.client.revokeDelegations(selector);
      expect(revoked.revoked?.map((g) => `${g.actor?.objectId} ${g.principal?.objectId}`).sort()).toEqual(expected);
    });

    it("revokes nothing without failing when no edge matches", async () => {
      const revoked = await h.client.revokeDelegations({ actor: object("agent:bot") });
      expect(revoked.revoked).toEqual([]);
      expect(revoked.writtenAt?.token).toMatch(/.+/);
    });
  });

  describe("CheckPermission with on_behalf_of", () => {
    it("allows what the principal may do, through an edge whose scope covers it, and explains the path", async () => {
      const granted = await grant("agent:bot", "user:ann");
      const answer = await check("document:readme", "view", "agent:bot", "user:ann");
      expect(answer.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(answer.delegation?.principalResult).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(answer.delegation?.path).toHaveLength(1);
      expect(answer.delegation?.path?.[0]).toMatchObject({
        actor: object("agent:bot"),
        principal: object("user:ann"),
        grantedBy: object("user:ann"),
        delegation: "acts_for",
        grantId: granted.grant?.grantId,
        scope: ["document#view"],
        inScope: true,
        caveatResult: "PERMISSIONSHIP_HAS_PERMISSION",
        ceilingResult: "PERMISSIONSHIP_HAS_PERMISSION",
      });
    });

    it("denies outside the edge's scope, with the reason, even where the principal and the agent both may", async () => {
      await grant("agent:bot", "user:ann");
      const answer = await check("document:readme", "edit", "agent:bot", "user:ann");
      expect(answer.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      expect(answer.delegation?.principalResult).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(answer.delegation?.path?.[0]?.inScope).toBe(false);
      expect(answer.delegation?.reason).toMatch(/scope/);
    });

    it("denies a confused deputy: an agent with broad grants of its own gets only its principal's access", async () => {
      await grant("agent:bot", "user:ann");
      // bot may view the secret itself (it writes the whole repository), ann may not.
      expect((await h.client.check({ ...delegatedCheck("document:secret", "view", "agent:bot", "user:ann"), onBehalfOf: null })).permissionship).toBe(
        "PERMISSIONSHIP_HAS_PERMISSION",
      );
      const answer = await check("document:secret", "view", "agent:bot", "user:ann");
      expect(answer.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      expect(answer.delegation?.principalResult).toBe("PERMISSIONSHIP_NO_PERMISSION");

      const looked: string[] = [];
      for await (const message of h.client.lookupResources({
        consistency: { fullyConsistent: true },
        resourceObjectType: "document",
        permission: "view",
        subject: { object: object("agent:bot") },
        onBehalfOf: object("user:ann"),
      })) {
        looked.push(...(message.results ?? []).map((result) => result.resourceObjectId ?? "?"));
      }
      expect(looked).toEqual(["readme"]);
    });

    it("denies once the edge has expired by the store's clock", async () => {
      await grant("agent:bot", "user:ann", { expiresAt: toWireTimestamp(new Date(clock + HOUR)) });
      expect((await check("document:readme", "view", "agent:bot", "user:ann")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      clock += 2 * HOUR;
      const answer = await check("document:readme", "view", "agent:bot", "user:ann");
      expect(answer.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      expect(answer.delegation?.path).toEqual([]);
      expect(answer.delegation?.reason).toMatch(/.+/);
    });

    it("denies before the edge's not_before", async () => {
      await grant("agent:bot", "user:ann", { notBefore: toWireTimestamp(new Date(clock + HOUR)) });
      expect((await check("document:readme", "view", "agent:bot", "user:ann")).permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      clock += HOUR + 1000;
      expect((await check("document:readme", "view", "agent:bot", "user:ann")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    });

    it("denies once the principal loses the permission, at the token of that write", async () => {
      await grant("agent:bot", "user:ann");
      expect((await check("document:readme", "view", "agent:bot", "user:ann")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      const written = await h.client.writeRelationships({
        updates: [update("delete", "document:readme#viewer@user:ann"), update("delete", "document:readme#editor@user:ann")],
      });
      const answer = await check("document:readme", "view", "agent:bot", "user:ann", written.writtenAt?.token ?? "");
      expect(answer.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      expect(answer.delegation?.principalResult).toBe("PERMISSIONSHIP_NO_PERMISSION");
    });

    it("counts budget uses and denies once the budget is spent", async () => {
      await grant("agent:bot", "user:ann", { budget: 2 });
      for (const used of [1, 2]) {
        const answer = await check("document:readme", "view", "agent:bot", "user:ann");
        expect(answer.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
        expect(answer.delegation?.path?.[0]?.budget).toEqual({ limit: 2, used });
      }
      const spent = await check("document:readme", "view", "agent:bot", "user:ann");
      expect(spent.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      expect(spent.delegation?.reason).toMatch(/budget/);
    });

    it("follows a sub-delegation through its parent edge", async () => {
      await grant("agent:bot", "user:ann", { scope: ["document#view", "document#edit"] });
      await grant("agent:helper", "user:ann", { via: object("agent:bot") });
      const answer = await check("document:readme", "view", "agent:helper", "user:ann");
      expect(answer.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(answer.delegation?.path?.map((hop) => `${hop.actor?.objectId}<-${hop.grantedBy?.objectId}`)).toEqual(["helper<-bot", "bot<-ann"]);
    });

    it("evaluates an edge's task caveat with the request's context", async () => {
      await grant("agent:bot", "user:ann", { caveat: { caveatName: "on_ticket", context: toWireStruct({ ticket: "T-1" }) } });
      const withContext = (current: string | undefined) =>
        h.client.check({
          ...delegatedCheck("document:readme", "view", "agent:bot", "user:ann"),
          context: current === undefined ? null : toWireStruct({ current_ticket: current }),
        });
      expect((await withContext("T-1")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect((await withContext("T-2")).permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      const partial = await withContext(undefined);
      expect(partial.permissionship).toBe("PERMISSIONSHIP_CONDITIONAL_PERMISSION");
      expect(partial.partialCaveatInfo?.missingRequiredContext).toEqual(["current_ticket"]);
    });

    it("answers bulk items on behalf of their principals, each with its explanation", async () => {
      await grant("agent:bot", "user:ann");
      const response = await h.client.checkBulk({
        consistency: { fullyConsistent: true },
        items: [
          { ...delegatedCheck("document:readme", "view", "agent:bot", "user:ann"), consistency: undefined },
          { ...delegatedCheck("document:secret", "view", "agent:bot", "user:ann"), consistency: undefined },
          { ...delegatedCheck("document:readme", "view", "agent:bot", "user:bob"), consistency: undefined },
        ].map(({ resource, permission, subject, onBehalfOf }) => ({ resource, permission, subject, onBehalfOf })),
      });
      expect(response.pairs?.map((pair) => pair.item?.permissionship)).toEqual([
        "PERMISSIONSHIP_HAS_PERMISSION",
        "PERMISSIONSHIP_NO_PERMISSION",
        "PERMISSIONSHIP_NO_PERMISSION",
      ]);
      expect(response.pairs?.[0]?.item?.delegation?.path).toHaveLength(1);
      expect(response.pairs?.[2]?.item?.delegation?.path).toEqual([]);
    });

    it("explains the path beside an expansion, without counting a budget use", async () => {
      await grant("agent:bot", "user:ann", { budget: 1 });
      const expanded = await h.client.expand({
        consistency: { fullyConsistent: true },
        resource: object("document:readme"),
        permission: "view",
        actor: object("agent:bot"),
        onBehalfOf: object("user:ann"),
      });
      expect(expanded.treeRoot).not.toBeNull();
      expect(expanded.delegation?.path?.[0]?.budget).toEqual({ limit: 1, used: 0 });
      expect((await check("document:readme", "view", "agent:bot", "user:ann")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    });

    it("answers an agent without on_behalf_of on its own grants only", async () => {
      await grant("agent:helper", "user:bob");
      const own = await h.client.check({ ...delegatedCheck("document:secret", "view", "agent:helper", "user:bob"), onBehalfOf: null });
      expect(own.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(own.delegation).toBeNull();
    });
  });

  describe("refuses bad input with its status code and field", () => {
    it.each<[string, () => Partial<WireGrantDelegationRequest> & { actor?: WireObjectReference; principal?: WireObjectReference }, status, RegExp]>([
      ["a principal of a type the delegation does not allow", () => ({ principal: object("repository:main") }), status.INVALID_ARGUMENT, /^principal/],
      ["an actor of an unknown type", () => ({ actor: object("robot:r2") }), status.INVALID_ARGUMENT, /^actor\.object_type/],
      ["an actor type without a delegation for the principal", () => ({ actor: object("user:bob") }), status.INVALID_ARGUMENT, /^principal/],
      ["an unknown permission in the scope", () => ({ scope: ["document#view", "document#frobnicate"] }), status.INVALID_ARGUMENT, /^scope\[1\]/],
      ["a scope beyond the delegation's", () => ({ scope: ["document#delete"] }), status.INVALID_ARGUMENT, /^scope\[0\]/],
      ["an empty scope", () => ({ scope: [] }), status.INVALID_ARGUMENT, /^scope/],
      ["an expiry past max_lifetime", () => ({ expiresAt: toWireTimestamp(new Date(Date.parse("2026-11-28T10:00:00.000Z") + 31 * DAY)) }), status.INVALID_ARGUMENT, /^expires_at/],
      ["an expiry in the past", () => ({ expiresAt: toWireTimestamp(new Date(Date.parse("2026-11-28T09:00:00.000Z"))) }), status.INVALID_ARGUMENT, /^(expires_at|not_before)/],
      [
        "a caveat context of the wrong type",
        () => ({ caveat: { caveatName: "on_ticket", context: toWireStruct({ ticket: 5 }) } }),
        status.INVALID_ARGUMENT,
        /^caveat\.context\.ticket/,
      ],
      ["a caveat the principal's type does not allow", () => ({ caveat: { caveatName: "nonexistent", context: null } }), status.INVALID_ARGUMENT, /^caveat/],
      ["an agent acting for itself", () => ({ actor: object("agent:bot"), principal: object("agent:bot") }), status.INVALID_ARGUMENT, /^principal/],
      ["a via agent with no edge for the principal", () => ({ via: object("agent:helper") }), status.FAILED_PRECONDITION, /^via/],
    ])("refuses %s", async (_name, fields, code, details) => {
      const { actor, principal, ...rest } = fields();
      const failure = await rejection(
        h.client.grantDelegation({
          actor: actor ?? object("agent:bot"),
          principal: principal ?? object("user:ann"),
          scope: ["document#view"],
          expiresAt: toWireTimestamp(new Date(clock + HOUR)),
          ...rest,
        }),
      );
      expect(failure.code).toBe(code);
      expect(failure.details).toMatch(details);
    });

    it("refuses a chain longer than max_chain, naming via", async () => {
      await grant("agent:bot", "user:ann");
      await grant("agent:helper", "user:ann", { via: object("agent:bot") });
      const failure = await rejection(grant("agent:third", "user:ann", { via: object("agent:helper") }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(/^via: .*max_chain/);
    });

    it("refuses a sub-delegation that widens its parent's scope, naming scope", async () => {
      await grant("agent:bot", "user:ann");
      const failure = await rejection(grant("agent:helper", "user:ann", { via: object("agent:bot"), scope: ["document#edit"] }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(/^scope/);
    });

    it.each([
      ["no selector", {}, /^edge/],
      ["an edge without its principal", { edge: { actor: object("agent:bot") } }, /^edge\.principal/],
    ])("refuses a revocation with %s", async (_name, request, details) => {
      const failure = await rejection(h.client.revokeDelegations(request));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(details);
    });

    it("refuses a listing without actor or principal", async () => {
      const failure = await rejection(h.client.listDelegations({}));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(/^actor/);
    });

    it("refuses on_behalf_of with a userset subject, naming subject.optional_relation", async () => {
      const failure = await rejection(
        h.client.check({ ...delegatedCheck("document:readme", "view", "agent:bot", "user:ann"), subject: { object: object("agent:bot"), optionalRelation: "operator" } }),
      );
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(/^subject\.optional_relation/);
    });

    it("refuses on_behalf_of a principal type no delegation of the actor allows, naming on_behalf_of", async () => {
      const failure = await rejection(check("document:readme", "view", "agent:bot", "repository:main"));
      expect(failure.code).toBe(status.FAILED_PRECONDITION);
      expect(failure.details).toMatch(/^on_behalf_of\.object_type/);
    });

    it("refuses to create or touch a delegation edge through WriteRelationships, naming the relation", async () => {
      const failure = await rejection(h.client.writeRelationships({ updates: [update("touch", "agent:bot#acts_for@user:ann")] }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(/^updates\[0\]\.relationship\.relation: .*GrantDelegation/);
    });

    it("lets WriteRelationships delete a delegation edge", async () => {
      await grant("agent:bot", "user:ann");
      const written = await h.client.writeRelationships({ updates: [update("delete", "agent:bot#acts_for@user:ann")] });
      expect((await check("document:readme", "view", "agent:bot", "user:ann", written.writtenAt?.token ?? "")).permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
    });

    it("reads and deletes delegation edges by a filter naming the delegation", async () => {
      await grant("agent:bot", "user:ann");
      const filter = { resourceType: "agent", optionalRelation: "acts_for" };
      const read = [];
      for await (const item of h.client.readRelationships({ relationshipFilter: filter })) read.push(item.relationship?.optionalCaveat?.caveatName);
      expect(read).toEqual(["mandate/delegation"]);
      const deleted = await h.client.deleteRelationships({ relationshipFilter: filter });
      expect(Number(deleted.relationshipsDeletedCount)).toBe(1);
    });

    it("exports delegation edges and imports them back", async () => {
      await grant("agent:bot", "user:ann");
      const exported: WireRelationship[] = [];
      for await (const batch of h.client.exportBulkRelationships({ optionalRelationshipFilter: { resourceType: "agent" } })) exported.push(...(batch.relationships ?? []));
      expect(exported).toHaveLength(1);
      const revoked = await h.client.revokeDelegations({ actor: object("agent:bot") });
      expect(revoked.revoked).toHaveLength(1);
      async function* batches() {
        yield { relationships: exported };
      }
      const imported = await h.client.importBulkRelationships(batches());
      expect(Number(imported.numLoaded)).toBe(1);
      expect((await check("document:readme", "view", "agent:bot", "user:ann", imported.writtenAt?.token ?? "")).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    });
  });

  describe("the mandate command", () => {
    async function mandate(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      const io = fakeCommandIo();
      const code = await runMain([...argv, "--endpoint", h.address], io);
      return { code, stdout: io.stdout(), stderr: io.stderr() };
    }

    it("grants, lists, checks on behalf of, explains and revokes", async () => {
      // The CLI anchors --expires-in at its own clock: keep the store's near it.
      clock = Date.now();
      const granted = await mandate("delegations", "grant", "agent:bot", "user:ann", "--scope", "document#view,repository#*", "--expires-in", "2h", "--budget", "10");
      expect(granted.stderr).toBe("");
      expect(granted.stdout).toMatch(/^agent:bot acts_for user:ann scope=document#view,repository#\* from=\S+ until=\S+ budget=10 id=\S+\nwritten at \S+\n$/);

      expect((await mandate("delegations", "list", "--principal", "user:ann")).stdout).toMatch(/^agent:bot acts_for user:ann .*budget=0\/10/);

      const allowed = await mandate("check", "document:readme", "view", "agent:bot", "--on-behalf-of", "user:ann", "--explain");
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toContain("ALLOWED\n");
      expect(allowed.stdout).toContain("delegation path (1 hop):\n  1. agent:bot acts for user:ann (acts_for), granted by user:ann, grant ");
      expect(allowed.stdout).toContain("scope: document#view, repository#* (covers document#view)");
      expect(allowed.stdout).toContain("budget: 1 of 10 used");
      expect(allowed.stdout).toContain("principal user:ann: ALLOWED");

      const denied = await mandate("check", "document:readme", "edit", "agent:bot", "--on-behalf-of", "user:ann");
      expect(denied.code).toBe(1);
      expect(denied.stdout).toMatch(/^DENIED\nreason: .*scope/);

      const lookedUp = await mandate("lookup-resources", "document", "view", "agent:bot", "--on-behalf-of", "user:ann");
      expect(lookedUp.stdout).toBe("readme\n");

      const revoked = await mandate("delegations", "revoke", "agent:bot", "user:ann");
      expect(revoked.stdout).toMatch(/revoked 1 delegation at (\S+)\n$/);
      const token = /at (\S+)\n$/.exec(revoked.stdout)?.[1] ?? "";
      const after = await mandate("check", "document:readme", "view", "agent:bot", "--on-behalf-of", "user:ann", "--token", token);
      expect(after.code).toBe(1);
      expect(after.stdout).toMatch(/^DENIED\nreason: /);
    });

    it("reports a refused grant with the server's field and exit 4", async () => {
      const refused = await mandate("delegations", "grant", "agent:bot", "user:ann", "--scope", "document#frobnicate");
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/INVALID_ARGUMENT: scope\[0\]/);
    });
  });
});
