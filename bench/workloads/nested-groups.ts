// W2 nested groups: chains of groups nested 8 deep; documents shared with groups.
import type { Relationship } from "../../src/tuple/index.ts";
import type { BenchCheck, Workload, WorkloadSize } from "./workload.ts";
import { answer, directGrantProbe, ids, Prng, rel, scaled, sizeFactor } from "./workload.ts";

const SCHEMA = `definition user {}

definition group {
  relation member: user | group#member
}

definition document {
  relation viewer: user | group#member
  permission view = viewer
}
`;

/** NESTING_DEPTH is how many levels each chain of groups has; level 1 is the group documents name. */
export const NESTING_DEPTH = 8;

// About 155k relationships at `full`: 65 times that is about 10M.
const LARGE_FACTOR = 65;

/**
 * nestedGroupsWorkload builds W2 at `size` (full: 1,250 chains of 8 groups = 10k groups, 100k
 * users, 80k documents, ~155k relationships). Group `c{chain}l{level+1}#member` is a member of `c{chain}l{level}`, so a
 * user directly in level 8 reaches a document shared with level 1 through 8 levels. Checks are
 * tagged "depth1" (user directly in the shared group), "depth8" (user in level 8, document shared
 * with level 1) and "random" (expectation from the generator's own closure of group members).
 */
export function nestedGroupsWorkload(size: WorkloadSize, checks = 5_000, seed = 2): Workload {
  const factor = sizeFactor(size, LARGE_FACTOR);
  const random = new Prng(seed);
  const users = ids("u", scaled(100_000, factor));
  const chains = scaled(1_250, factor);
  const documents = ids("d", scaled(80_000, factor));
  const relationships: Relationship[] = [];
  const groupName = (chain: number, level: number): string => `c${chain}l${level}`;

  const directUsers = new Map<string, string[]>();
  const childGroup = new Map<string, string>();
  for (let chain = 0; chain < chains; chain++) {
    for (let level = 1; level <= NESTING_DEPTH; level++) {
      const group = groupName(chain, level);
      const members = new Set<string>();
      for (let i = 0; i < 4; i++) members.add(random.pick(users));
      directUsers.set(group, [...members]);
      for (const user of members) relationships.push(rel("group", group, "member", "user", user));
      if (level < NESTING_DEPTH) {
        const child = groupName(chain, level + 1);
        childGroup.set(group, child);
        relationships.push(rel("group", group, "member", "group", child, "member"));
      }
    }
  }
  // Every member of a group, through any depth: the chain below it, computed bottom-up.
  const closure = new Map<string, Set<string>>();
  for (let chain = 0; chain < chains; chain++) {
    for (let level = NESTING_DEPTH; level >= 1; level--) {
      const group = groupName(chain, level);
      const below = childGroup.get(group);
      const members = new Set(directUsers.get(group));
      for (const user of below === undefined ? [] : (closure.get(below) ?? [])) members.add(user);
      closure.set(group, members);
    }
  }

  interface Shares { groups: string[]; users: string[] }
  const shares = new Map<string, Shares>();
  for (const document of documents) {
    const groups = [groupName(random.int(chains), random.chance(0.7) ? 1 : 1 + random.int(NESTING_DEPTH))];
    const direct = random.chance(0.3) ? [random.pick(users)] : [];
    shares.set(document, { groups, users: direct });
    for (const group of groups) relationships.push(rel("document", document, "viewer", "group", group, "member"));
    for (const user of direct) relationships.push(rel("document", document, "viewer", "user", user));
  }
  // The depth-8 checks name one dedicated document per chain, shared with that chain's level 1 only.
  for (let chain = 0; chain < chains; chain++) {
    const document = `shared-${chain}`;
    shares.set(document, { groups: [groupName(chain, 1)], users: [] });
    relationships.push(rel("document", document, "viewer", "group", groupName(chain, 1), "member"));
  }
  const allowed = (document: string, user: string): boolean => {
    const share = shares.get(document);
    if (share === undefined) return false;
    return share.users.includes(user) || share.groups.some((group) => closure.get(group)?.has(user) === true);
  };

  const mix: BenchCheck[] = [];
  for (let i = 0; i < checks; i++) {
    const roll = random.next();
    let document = random.pick(documents);
    let user = random.pick(users);
    let tag = "random";
    if (roll < 0.35) {
      const group = shares.get(document)?.groups[0];
      const direct = group === undefined ? [] : (directUsers.get(group) ?? []);
      if (direct.length > 0) {
        user = random.pick(direct);
        tag = "depth1";
      }
    } else if (roll < 0.7) {
      // A document shared with level 1 of a chain, and a user placed directly in its level 8.
      const chain = random.int(chains);
      document = `shared-${chain}`;
      user = random.pick(directUsers.get(groupName(chain, NESTING_DEPTH)) ?? users);
      tag = "depth8";
    }
    mix.push({ resource: { type: "document", id: document }, permission: "view", subject: { type: "user", id: user }, expected: answer(allowed(document, user)), tag });
  }
  return {
    name: "nested-groups",
    description: "W2: groups nested 8 deep, documents shared with groups",
    size,
    schema: SCHEMA,
    relationships,
    checks: mix,
    freshnessProbe: directGrantProbe("document", documents, "viewer", "view"),
  };
}
