// W4 agents: humans, AI agents acting for them (emulated with plain relations), service accounts.
import type { Relationship } from "../../src/tuple/index.ts";
import type { BenchCheck, Workload, WorkloadSize } from "./workload.ts";
import { answer, directGrantProbe, ids, Prng, rel, scaled, sizeFactor } from "./workload.ts";

// Until delegation exists, an agent joins some of its human's teams (so it can reach at most what
// the human reaches) and must also be allowed on the resource: agent_view = view & agents_allowed.
const SCHEMA = `definition user {}

definition agent {
  relation acts_for: user
}

definition service_account {
  relation owner: user
}

definition team {
  relation member: user | agent | service_account
}

definition resource {
  relation owner: user
  relation viewer: user | service_account | team#member
  relation agents_allowed: agent
  relation blocked: user | agent | service_account
  permission edit = owner
  permission view = (owner + viewer) - blocked
  permission agent_view = view & agents_allowed
}
`;

// About 375k relationships at `full`: 27 times that is about 10M.
const LARGE_FACTOR = 27;

/**
 * agentsWorkload builds W4 at `size` (full: 30k humans, ~30k agents, 5k service accounts, 3k
 * teams, 80k resources, ~375k relationships). Humans and service accounts are checked on `view`,
 * agents on `agent_view`; tags "human", "agent", "service"; expectations from the generator's maps.
 */
export function agentsWorkload(size: WorkloadSize, checks = 5_000, seed = 4): Workload {
  const factor = sizeFactor(size, LARGE_FACTOR);
  const random = new Prng(seed);
  const humans = ids("h", scaled(30_000, factor));
  const services = ids("s", scaled(5_000, factor));
  const teams = ids("t", scaled(3_000, factor));
  const relationships: Relationship[] = [];

  // Subjects are keyed "type:id" in the generator's own maps.
  const teamMembers = new Map<string, Set<string>>(teams.map((team) => [team, new Set()]));
  const teamsOf = new Map<string, string[]>();
  const join = (team: string, type: string, id: string): void => {
    const key = `${type}:${id}`;
    if (teamMembers.get(team)?.has(key)) return;
    teamMembers.get(team)?.add(key);
    teamsOf.set(key, [...(teamsOf.get(key) ?? []), team]);
    relationships.push(rel("team", team, "member", type, id));
  };
  for (const team of teams) for (let i = 0; i < 15; i++) join(team, "user", random.pick(humans));
  const agents: string[] = [];
  for (const human of humans) {
    const count = random.int(3);
    for (let i = 0; i < count; i++) {
      const agent = `${human}a${i}`;
      agents.push(agent);
      relationships.push(rel("agent", agent, "acts_for", "user", human));
      for (const team of teamsOf.get(`user:${human}`) ?? []) if (random.chance(0.7)) join(team, "agent", agent);
    }
  }
  for (const service of services) {
    relationships.push(rel("service_account", service, "owner", "user", random.pick(humans)));
    join(random.pick(teams), "service_account", service);
  }

  interface Grants { owner: string; viewers: string[]; teams: string[]; agentsAllowed: Set<string>; blocked: string[] }
  const resourceIds = ids("r", scaled(80_000, factor));
  const resources = new Map<string, Grants>();
  for (const id of resourceIds) {
    const team = random.pick(teams);
    const grants: Grants = { owner: random.pick(humans), viewers: [], teams: [team], agentsAllowed: new Set(), blocked: [] };
    relationships.push(rel("resource", id, "owner", "user", grants.owner));
    relationships.push(rel("resource", id, "viewer", "team", team, "member"));
    if (random.chance(0.5)) {
      const human = random.pick(humans);
      grants.viewers.push(`user:${human}`);
      relationships.push(rel("resource", id, "viewer", "user", human));
    }
    if (random.chance(0.1)) {
      const service = random.pick(services);
      grants.viewers.push(`service_account:${service}`);
      relationships.push(rel("resource", id, "viewer", "service_account", service));
    }
    const teamAgents = [...(teamMembers.get(team) ?? [])].filter((key) => key.startsWith("agent:"));
    if (teamAgents.length > 0 && random.chance(0.6)) {
      const agent = random.pick(teamAgents).slice("agent:".length);
      grants.agentsAllowed.add(agent);
      relationships.push(rel("resource", id, "agents_allowed", "agent", agent));
    }
    if (random.chance(0.05)) {
      const members = [...(teamMembers.get(team) ?? [])];
      const key = members.length > 0 ? random.pick(members) : `user:${random.pick(humans)}`;
      const [type = "user", blockedId = ""] = key.split(":");
      grants.blocked.push(key);
      relationships.push(rel("resource", id, "blocked", type, blockedId));
    }
    resources.set(id, grants);
  }

  const view = (grants: Grants, key: string): boolean =>
    !grants.blocked.includes(key) &&
    (grants.owner === key.slice("user:".length) && key.startsWith("user:") ? true : grants.viewers.includes(key) || grants.teams.some((team) => teamMembers.get(team)?.has(key) === true));
  const allowed = (resource: string, permission: string, type: string, id: string): boolean => {
    const grants = resources.get(resource);
    if (grants === undefined) return false;
    if (permission === "agent_view") return view(grants, `${type}:${id}`) && type === "agent" && grants.agentsAllowed.has(id);
    return view(grants, `${type}:${id}`);
  };

  const mix: BenchCheck[] = [];
  for (let i = 0; i < checks; i++) {
    const resource = random.pick(resourceIds);
    const grants = resources.get(resource);
    const roll = random.next();
    let type = "user";
    let id = random.pick(humans);
    let permission = "view";
    let tag = "human";
    if (roll < 0.4) {
      type = "agent";
      permission = "agent_view";
      tag = "agent";
      const allowedAgents = [...(grants?.agentsAllowed ?? [])];
      id = allowedAgents.length > 0 && random.chance(0.6) ? random.pick(allowedAgents) : random.pick(agents);
    } else if (roll < 0.55) {
      type = "service_account";
      tag = "service";
      id = random.pick(services);
    } else if (grants !== undefined && roll < 0.8) {
      const humanMembers = grants.teams.flatMap((team) => [...(teamMembers.get(team) ?? [])]).filter((key) => key.startsWith("user:"));
      if (humanMembers.length > 0) id = random.pick(humanMembers).slice("user:".length);
    }
    mix.push({ resource: { type: "resource", id: resource }, permission, subject: { type, id }, expected: answer(allowed(resource, permission, type, id)), tag });
  }
  return {
    name: "agents",
    description: "W4: humans, agents acting for them (plain relations), service accounts",
    size,
    schema: SCHEMA,
    relationships,
    checks: mix,
    // A fresh user is never in `blocked`, so a direct viewer grant gives it view.
    freshnessProbe: directGrantProbe("resource", resourceIds, "viewer", "view"),
  };
}
