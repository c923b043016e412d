// Property test of delegated checks (issue 6): on random graphs of relationships and delegation
// edges (direct grants, sub-delegations, expired, not yet valid and revoked edges, task caveats),
// every delegated Check equals (principal allowed) AND (a live path whose every edge covers the
// permission) AND (the ceiling of every actor on it) AND (every edge's caveat, three-valued),
// computed here from the test's own record of the grants; and LookupResources on behalf of a
// principal returns exactly the resources whose delegated Check is not DENIED, with its answer. `DELEGATION_SEED` replays one seed; `DELEGATION_CASES` sets how many graphs.
import { describe, expect, it } from "vitest";
import { compileSchema } from "../../src/schema/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import { Engine, planGrant, planRevoke } from "../../src/engine/index.ts";
import { formatObjectRef, parseRelationship } from "../../src/tuple/index.ts";
import type { ObjectRef } from "../../src/tuple/index.ts";
import { SeededRandom } from "./seeded-random.ts";

const SCHEMA = `
use expiration

caveat on_ticket(ticket string, current_ticket string) {
	ticket == current_ticket
}

definition user {}

definition folder {
	relation viewer: user | agent | bot
	permission view = viewer
}

definition document {
	relation parent: folder
	relation viewer: user | agent | bot
	relation editor: user | agent | bot
	permission edit = editor
	permission view = viewer + edit + parent->view
}

definition agent {
	delegation acts_for: user | user with on_ticket | agent {
		scope document#view | document#edit | folder#view
		max_lifetime 30d
		max_chain 3
		ceiling
	}
}

definition bot {
	delegation works_for: user | agent {
		scope document#*
		max_lifetime 1d
		max_chain 2
	}
}
`;

const HOUR = 3_600_000;
const START = Date.parse("2026-11-28T00:00:00Z");
const USERS = ["u0", "u1", "u2"].map((id) => ({ type: "user", id }));
const AGENTS = ["a0", "a1", "a2"].map((id) => ({ type: "agent", id }));
const BOTS = ["b0", "b1"].map((id) => ({ type: "bot", id }));
const ACTORS = [...AGENTS, ...BOTS];
const PRINCIPALS = [...USERS, ...AGENTS];
const DOCUMENTS = ["d0", "d1", "d2", "d3", "d4"].map((id) => ({ type: "document", id }));
const FOLDERS = ["f0", "f1"].map((id) => ({ type: "folder", id }));
const CHECKS: ReadonlyArray<readonly [string, string]> = [
  ["document", "view"],
  ["document", "edit"],
  ["document", "viewer"],
  ["folder", "view"],
];
const DELEGATION_OF: Readonly<Record<string, { name: string; scope: string[]; maxChain: number; ceiling: boolean; maxLifetime: number }>> = {
  agent: { name: "acts_for", scope: ["document#view", "document#edit", "folder#view"], maxChain: 3, ceiling: true, maxLifetime: 720 * HOUR },
  bot: { name: "works_for", scope: ["document#*"], maxChain: 2, ceiling: false, maxLifetime: 24 * HOUR },
};

// The test's own record of an edge, from the grant it asked for.
interface RecordedEdge {
  readonly actor: ObjectRef;
  readonly principal: ObjectRef;
  readonly scope: readonly string[];
  readonly notBefore: number;
  readonly expiresAt: number;
  readonly via: ObjectRef | undefined;
  readonly ticket: string | undefined;
  revoked: boolean;
}

const seeds = process.env.DELEGATION_SEED !== undefined ? [Number(process.env.DELEGATION_SEED)] : range(Number(process.env.DELEGATION_CASES ?? 12)).map((i) => 7_000 + i);

// Answers seen by the model over every seed: the last test asserts that each kind occurred.
const answersSeen = new Map<string, number>();

describe("delegated checks on random graphs", () => {
  it.each(seeds)("agree with the independent model (seed %i)", async (seed) => {
    const random = new SeededRandom(seed);
    let clock = START;
    const store = new MemoryStore({ now: () => clock });
    await store.writeSchema(SCHEMA, async () => {});
    const schema = compileSchema(SCHEMA);
    const engine = new Engine({}, { budgets: store });
    await writeRandomRelationships(store, random);
    const edges = await grantRandomEdges(store, schema, random, () => clock);
    await revokeSome(store, schema, random, edges);
    clock = START + random.int(0, 30) * HOUR;

    const reader = store.snapshot(await store.headRevision());
    const plainAllowed = async (resource: ObjectRef, permission: string, subject: ObjectRef): Promise<boolean> =>
      (await engine.check(reader, schema, { resource, permission, subject })).permissionship === "allowed";
    for (const actor of ACTORS) {
      for (const principal of PRINCIPALS) {
        for (const [resourceType, permission] of CHECKS) {
          const resources = resourceType === "document" ? DOCUMENTS : FOLDERS;
          const context = random.pick([undefined, { current_ticket: "T1" }, { current_ticket: "T2" }]);
          const found: string[] = [];
          for (const resource of resources) {
            const expected = await modelAnswer(edges, actor, principal, resource, permission, clock, context, plainAllowed);
            const actual = await engine.check(reader, schema, { resource, permission, subject: actor, onBehalfOf: principal, context });
            const label = `seed ${seed}: ${formatObjectRef(resource)}#${permission}@${formatObjectRef(actor)} on behalf of ${formatObjectRef(principal)} with ${JSON.stringify(context)}`;
            expect(actual.permissionship, `${label}\n${JSON.stringify(actual.delegation, null, 1)}`).toBe(expected);
            if (expected !== "denied") found.push(`${resource.id} ${expected}`);
            answersSeen.set(expected, (answersSeen.get(expected) ?? 0) + 1);
          }
          const looked = await engine.lookupResources(reader, schema, { resourceType, permission, subject: actor, onBehalfOf: principal, context });
          expect([...looked].map((result) => `${result.id} ${result.permissionship}`).sort(), `seed ${seed}: lookup ${resourceType}#${permission} by ${formatObjectRef(actor)} for ${formatObjectRef(principal)}`).toEqual(found.sort());
        }
      }
    }
  });

  it("met every answer over the seeds above (the generator is not degenerate)", () => {
    if (seeds.length < 6) return;
    expect([...answersSeen.keys()].sort()).toEqual(["allowed", "conditional", "denied"]);
  });

  it("allows something on most seeds (the generator is not degenerate)", async () => {
    let seedsAllowing = 0;
    for (const seed of seeds.slice(0, 6)) {
      const random = new SeededRandom(seed);
      const clock = START;
      const store = new MemoryStore({ now: () => clock });
      await store.writeSchema(SCHEMA, async () => {});
      const schema = compileSchema(SCHEMA);
      const engine = new Engine({}, { budgets: store });
      await writeRandomRelationships(store, random);
      await grantRandomEdges(store, schema, random, () => clock);
      const reader = store.snapshot(await store.headRevision());
      let allowed = false;
      for (const actor of ACTORS) {
        for (const principal of PRINCIPALS) {
          for (const resource of DOCUMENTS) {
            const result = await engine.check(reader, schema, { resource, permission: "view", subject: actor, onBehalfOf: principal });
            allowed ||= result.permissionship === "allowed";
          }
        }
      }
      if (allowed) seedsAllowing++;
    }
    expect(seedsAllowing).toBeGreaterThanOrEqual(4);
  });
});

async function writeRandomRelationships(store: MemoryStore, random: SeededRandom): Promise<void> {
  const texts = new Set<string>();
  for (const document of DOCUMENTS) {
    if (random.chance(0.6)) texts.add(`document:${document.id}#parent@folder:${random.pick(FOLDERS).id}`);
    for (const relation of ["viewer", "editor"]) {
      for (const subject of [...USERS, ...AGENTS, ...BOTS]) {
        if (random.chance(0.2)) texts.add(`document:${document.id}#${relation}@${formatObjectRef(subject)}`);
      }
    }
  }
  for (const folder of FOLDERS) {
    for (const subject of [...USERS, ...AGENTS, ...BOTS]) {
      if (random.chance(0.3)) texts.add(`folder:${folder.id}#viewer@${formatObjectRef(subject)}`);
    }
  }
  await store.write([...texts].map((text) => ({ operation: "touch" as const, relationship: parseRelationship(text) })));
}

// Grants random direct edges, then random sub-delegations through them; asserts that planGrant
// refuses exactly the sub-delegations the model says are too long, and records the rest.
async function grantRandomEdges(store: MemoryStore, schema: Schema, random: SeededRandom, now: () => number): Promise<RecordedEdge[]> {
  const edges: RecordedEdge[] = [];
  const record = (edge: RecordedEdge): void => {
    const at = edges.findIndex((other) => same(other.actor, edge.actor) && same(other.principal, edge.principal));
    if (at >= 0) edges.splice(at, 1);
    edges.push(edge);
  };
  for (let i = 0; i < 8; i++) {
    const actor = random.pick(ACTORS);
    const principal = random.pick(PRINCIPALS);
    if (same(actor, principal)) continue;
    const declared = DELEGATION_OF[actor.type]!;
    const scope = randomSubset(random, declared.scope);
    const notBefore = now() + random.int(-2, 4) * HOUR;
    const expiresAt = Math.min(now() + declared.maxLifetime, notBefore + random.int(1, 20) * HOUR);
    if (expiresAt <= Math.max(now(), notBefore)) continue;
    const ticket = actor.type === "agent" && principal.type === "user" && random.chance(0.4) ? random.pick(["T1", "T2"]) : undefined;
    const plan = await planGrant(store.snapshot(await store.headRevision()), schema, {
      actor,
      principal,
      scope,
      notBefore: new Date(notBefore),
      expiresAt: new Date(expiresAt),
      ...(ticket === undefined ? {} : { caveat: { name: "on_ticket", context: { ticket } } }),
    }, new Date(now()));
    await store.write([{ operation: "touch", relationship: plan.relationship }], plan.preconditions);
    record({ actor, principal, scope, notBefore, expiresAt, via: undefined, ticket, revoked: false });
  }
  for (let i = 0; i < 8; i++) {
    const parent = edges.length === 0 ? undefined : random.pick(edges);
    if (parent === undefined) break;
    const actor = random.pick(ACTORS);
    if (same(actor, parent.actor) || same(actor, parent.principal)) continue;
    const declared = DELEGATION_OF[actor.type]!;
    const allowedTypes = actor.type === "agent" || actor.type === "bot" ? ["user", "agent"] : [];
    if (!allowedTypes.includes(parent.principal.type)) continue;
    const chain = chainOf(edges, parent);
    const passable = parent.scope.filter((entry) => covers(declared.scope, entry));
    if (passable.length === 0 || chain === undefined || chain.some((hop) => same(hop.actor, actor))) continue;
    const scope = randomSubset(random, passable);
    const notBefore = parent.notBefore + random.int(0, 2) * HOUR;
    const expiresAt = Math.min(parent.expiresAt, now() + declared.maxLifetime, notBefore + random.int(1, 20) * HOUR);
    // planGrant passes on only a parent whose whole chain has begun.
    if (expiresAt <= Math.max(now(), notBefore) || chain.some((hop) => hop.notBefore > now())) continue;
    const hops = chain.length + 1;
    const tooLong = hops > Math.min(declared.maxChain, ...chain.map((hop) => DELEGATION_OF[hop.actor.type]!.maxChain));
    const request = { actor, principal: parent.principal, scope, notBefore: new Date(notBefore), expiresAt: new Date(expiresAt), via: parent.actor };
    const reader = store.snapshot(await store.headRevision());
    if (tooLong) {
      await expect(planGrant(reader, schema, request, new Date(now())), `chain of ${hops} for ${formatObjectRef(actor)}`).rejects.toMatchObject({ field: "via" });
      continue;
    }
    const plan = await planGrant(reader, schema, request, new Date(now()));
    await store.write([{ operation: "touch", relationship: plan.relationship }], plan.preconditions);
    record({ actor, principal: parent.principal, scope, notBefore, expiresAt, via: parent.actor, ticket: undefined, revoked: false });
  }
  return edges;
}

// Revokes a few random edges; the model marks the edge and everything hanging off it.
async function revokeSome(store: MemoryStore, schema: Schema, random: SeededRandom, edges: RecordedEdge[]): Promise<void> {
  for (const edge of edges) {
    if (!random.chance(0.15)) continue;
    const doomed = await planRevoke(store.snapshot(await store.headRevision()), schema, { kind: "edge", actor: edge.actor, principal: edge.principal });
    if (doomed.length > 0) await store.write(doomed.map((relationship) => ({ operation: "delete" as const, relationship })));
    const revokeWithChildren = (parent: RecordedEdge): void => {
      parent.revoked = true;
      for (const child of edges) {
        if (!child.revoked && child.via !== undefined && same(child.via, parent.actor) && same(child.principal, parent.principal)) revokeWithChildren(child);
      }
    };
    revokeWithChildren(edge);
  }
}

// The model: some live path from actor to principal covers the permission, the principal is
// allowed, and so is every actor with a ceiling on that path; then every edge's ticket caveat
// decides: DENIED if one fails, CONDITIONAL if one lacks the context, ALLOWED otherwise.
async function modelAnswer(
  edges: readonly RecordedEdge[],
  actor: ObjectRef,
  principal: ObjectRef,
  resource: ObjectRef,
  permission: string,
  now: number,
  context: { readonly current_ticket: string } | undefined,
  plainAllowed: (resource: ObjectRef, permission: string, subject: ObjectRef) => Promise<boolean>,
): Promise<"allowed" | "denied" | "conditional"> {
  const first = edges.find((edge) => same(edge.actor, actor) && same(edge.principal, principal));
  if (first === undefined) return "denied";
  const chain = chainOf(edges, first);
  if (chain === undefined) return "denied";
  const live = (edge: RecordedEdge): boolean => !edge.revoked && edge.notBefore <= now && now < edge.expiresAt;
  if (!chain.every(live)) return "denied";
  if (chain.length > Math.min(...chain.map((hop) => DELEGATION_OF[hop.actor.type]!.maxChain))) return "denied";
  if (!chain.every((hop) => covers(hop.scope, `${resource.type}#${permission}`))) return "denied";
  if (!(await plainAllowed(resource, permission, principal))) return "denied";
  for (const hop of chain) {
    if (DELEGATION_OF[hop.actor.type]!.ceiling && !(await plainAllowed(resource, permission, hop.actor))) return "denied";
  }
  const tickets = chain.flatMap((hop) => (hop.ticket === undefined ? [] : [hop.ticket]));
  if (tickets.length === 0) return "allowed";
  if (context === undefined) return "conditional";
  return tickets.every((ticket) => ticket === context.current_ticket) ? "allowed" : "denied";
}

// The edges from `edge` up its via links to the principal, actor first; undefined if a link is missing.
function chainOf(edges: readonly RecordedEdge[], edge: RecordedEdge): RecordedEdge[] | undefined {
  const chain = [edge];
  let current = edge;
  while (current.via !== undefined) {
    const via = current.via;
    const parent = edges.find((other) => same(other.actor, via) && same(other.principal, edge.principal));
    if (parent === undefined || chain.length > 16) return undefined;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

function covers(scope: readonly string[], wanted: string): boolean {
  const [type] = wanted.split("#");
  return scope.some((entry) => entry === "*" || entry === wanted || entry === `${type}#*`);
}

function randomSubset(random: SeededRandom, items: readonly string[]): string[] {
  const chosen = items.filter(() => random.chance(0.6));
  return chosen.length > 0 ? chosen : [random.pick(items)];
}

function same(a: ObjectRef, b: ObjectRef): boolean {
  return a.type === b.type && a.id === b.id;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
