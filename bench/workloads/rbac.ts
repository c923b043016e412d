// W1 rbac: users hold roles; documents have an owner and grant view/edit to roles.
import type { Relationship } from "../../src/tuple/index.ts";
import type { BenchCheck, Workload, WorkloadSize } from "./workload.ts";
import { answer, directGrantProbe, ids, Prng, rel, scaled, sizeFactor } from "./workload.ts";

const SCHEMA = `definition user {}

definition role {
  relation member: user
}

definition document {
  relation owner: user
  relation editor_role: role#member
  relation viewer_role: role#member
  permission edit = owner + editor_role
  permission view = edit + viewer_role
}
`;

// About 270k relationships at `full`: 37 times that is about 10M.
const LARGE_FACTOR = 37;

/**
 * rbacWorkload builds W1 at `size` (full: 10k users, 1k roles, 100k documents, ~270k relationships)
 * and `checks` checks: a third constructed to be allowed through a role, a sixth by ownership,
 * the rest random pairs; every expectation is computed from the generator's own maps.
 */
export function rbacWorkload(size: WorkloadSize, checks = 5_000, seed = 1): Workload {
  const factor = sizeFactor(size, LARGE_FACTOR);
  const random = new Prng(seed);
  const users = ids("u", scaled(10_000, factor));
  const roles = ids("r", scaled(1_000, factor));
  const documents = ids("d", scaled(100_000, factor));
  const relationships: Relationship[] = [];

  const membersOf = new Map<string, string[]>(roles.map((role) => [role, []]));
  const rolesOf = new Map<string, Set<string>>(users.map((user) => [user, new Set()]));
  for (const user of users) {
    for (let i = 0; i < 2; i++) {
      const role = random.pick(roles);
      if (rolesOf.get(user)?.has(role)) continue;
      rolesOf.get(user)?.add(role);
      membersOf.get(role)?.push(user);
      relationships.push(rel("role", role, "member", "user", user));
    }
  }
  interface Grants { owner: string; editorRoles: string[]; viewerRoles: string[] }
  const grants = new Map<string, Grants>();
  for (const document of documents) {
    const owner = random.pick(users);
    const viewerRoles = [random.pick(roles)];
    const editorRoles = random.chance(0.5) ? [random.pick(roles)] : [];
    grants.set(document, { owner, editorRoles, viewerRoles });
    relationships.push(rel("document", document, "owner", "user", owner));
    for (const role of viewerRoles) relationships.push(rel("document", document, "viewer_role", "role", role, "member"));
    for (const role of editorRoles) relationships.push(rel("document", document, "editor_role", "role", role, "member"));
  }

  const allowed = (document: string, permission: "view" | "edit", user: string): boolean => {
    const grant = grants.get(document);
    if (grant === undefined) return false;
    if (grant.owner === user) return true;
    const held = rolesOf.get(user) ?? new Set<string>();
    if (grant.editorRoles.some((role) => held.has(role))) return true;
    return permission === "view" && grant.viewerRoles.some((role) => held.has(role));
  };
  const mix: BenchCheck[] = [];
  for (let i = 0; i < checks; i++) {
    const document = random.pick(documents);
    const grant = grants.get(document);
    const permission = random.chance(0.7) ? "view" : "edit";
    let user = random.pick(users);
    let tag = "random";
    const roll = random.next();
    if (grant !== undefined && roll < 1 / 3) {
      const members = membersOf.get(random.pick(permission === "view" ? [...grant.viewerRoles, ...grant.editorRoles] : grant.editorRoles.length > 0 ? grant.editorRoles : grant.viewerRoles)) ?? [];
      if (members.length > 0) {
        user = random.pick(members);
        tag = "role";
      }
    } else if (grant !== undefined && roll < 0.5) {
      user = grant.owner;
      tag = "owner";
    }
    mix.push({ resource: { type: "document", id: document }, permission, subject: { type: "user", id: user }, expected: answer(allowed(document, permission, user)), tag });
  }
  return {
    name: "rbac",
    description: "W1: users, roles, documents granting view/edit to roles",
    size,
    schema: SCHEMA,
    relationships,
    checks: mix,
    freshnessProbe: directGrantProbe("document", documents, "owner", "view"),
  };
}
