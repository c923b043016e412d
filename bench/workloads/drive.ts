// W3 drive: folder trees six deep whose view flows down through parent->view; documents; groups.
import type { Relationship } from "../../src/tuple/index.ts";
import type { BenchCheck, Workload, WorkloadSize } from "./workload.ts";
import { answer, directGrantProbe, ids, Prng, rel, scaled, sizeFactor } from "./workload.ts";

const SCHEMA = `definition user {}

definition group {
  relation member: user
}

definition folder {
  relation parent: folder
  relation owner: user
  relation viewer: user | group#member
  permission view = owner + viewer + parent->view
}

definition document {
  relation parent: folder
  relation owner: user
  relation viewer: user | group#member
  permission edit = owner
  permission view = edit + viewer + parent->view
}
`;

/** TREE_DEPTH is the number of folder levels of each tree, the root being level 1. */
export const TREE_DEPTH = 6;

// About 325k relationships at `full`: 31 times that is about 10M.
const LARGE_FACTOR = 31;

/**
 * driveWorkload builds W3 at `size` (full: 500 binary trees of 63 folders, 25k users, 2.5k groups,
 * 100k documents, ~325k relationships). Checks: "inherited" (a viewer granted on an ancestor
 * folder), "owner", "random"; expectations walk the generator's own parent map.
 */
export function driveWorkload(size: WorkloadSize, checks = 5_000, seed = 3): Workload {
  const factor = sizeFactor(size, LARGE_FACTOR);
  const random = new Prng(seed);
  const users = ids("u", scaled(25_000, factor));
  const groups = ids("g", scaled(2_500, factor));
  const trees = scaled(500, factor);
  const relationships: Relationship[] = [];

  const groupMembers = new Map<string, Set<string>>();
  for (const group of groups) {
    const members = new Set<string>();
    for (let i = 0; i < 10; i++) members.add(random.pick(users));
    groupMembers.set(group, members);
    for (const user of members) relationships.push(rel("group", group, "member", "user", user));
  }
  interface Node { parent: string | undefined; owner: string | undefined; users: string[]; groups: string[] }
  const folders = new Map<string, Node>();
  const folderIds: string[] = [];
  const grant = (type: string, id: string, node: Node): void => {
    if (random.chance(0.3)) {
      const user = random.pick(users);
      node.users.push(user);
      relationships.push(rel(type, id, "viewer", "user", user));
    }
    if (random.chance(0.2)) {
      const group = random.pick(groups);
      node.groups.push(group);
      relationships.push(rel(type, id, "viewer", "group", group, "member"));
    }
  };
  for (let tree = 0; tree < trees; tree++) {
    // Heap numbering: folder k has children 2k+1 and 2k+2; levels 1..TREE_DEPTH hold 2^TREE_DEPTH - 1 folders.
    for (let k = 0; k < 2 ** TREE_DEPTH - 1; k++) {
      const id = `t${tree}f${k}`;
      const parent = k === 0 ? undefined : `t${tree}f${Math.floor((k - 1) / 2)}`;
      const owner = k === 0 ? random.pick(users) : undefined;
      const node: Node = { parent, owner, users: [], groups: [] };
      folders.set(id, node);
      folderIds.push(id);
      if (parent !== undefined) relationships.push(rel("folder", id, "parent", "folder", parent));
      if (owner !== undefined) relationships.push(rel("folder", id, "owner", "user", owner));
      grant("folder", id, node);
    }
  }
  const documentIds = ids("d", scaled(100_000, factor));
  const documents = new Map<string, Node>();
  for (const id of documentIds) {
    const node: Node = { parent: random.pick(folderIds), owner: random.pick(users), users: [], groups: [] };
    documents.set(id, node);
    relationships.push(rel("document", id, "parent", "folder", node.parent ?? ""));
    relationships.push(rel("document", id, "owner", "user", node.owner ?? ""));
    grant("document", id, node);
  }

  const grants = (node: Node, user: string): boolean =>
    node.owner === user || node.users.includes(user) || node.groups.some((group) => groupMembers.get(group)?.has(user) === true);
  const ancestors = (document: Node): Node[] => {
    const chain: Node[] = [];
    for (let id = document.parent; id !== undefined && chain.length <= TREE_DEPTH; id = folders.get(id)?.parent) {
      const folder = folders.get(id);
      if (folder !== undefined) chain.push(folder);
    }
    return chain;
  };
  const allowed = (document: string, permission: "view" | "edit", user: string): boolean => {
    const node = documents.get(document);
    if (node === undefined) return false;
    if (permission === "edit") return node.owner === user;
    return grants(node, user) || ancestors(node).some((folder) => grants(folder, user));
  };

  const mix: BenchCheck[] = [];
  for (let i = 0; i < checks; i++) {
    const document = random.pick(documentIds);
    const node = documents.get(document);
    const permission = random.chance(0.85) ? "view" : "edit";
    let user = random.pick(users);
    let tag = "random";
    const roll = random.next();
    if (node !== undefined && roll < 0.4) {
      const granted = ancestors(node).flatMap((folder) => [...folder.users, ...(folder.owner === undefined ? [] : [folder.owner])]);
      if (granted.length > 0) {
        user = random.pick(granted);
        tag = "inherited";
      }
    } else if (node !== undefined && roll < 0.55) {
      user = node.owner ?? user;
      tag = "owner";
    }
    mix.push({ resource: { type: "document", id: document }, permission, subject: { type: "user", id: user }, expected: answer(allowed(document, permission, user)), tag });
  }
  return {
    name: "drive",
    description: "W3: folder trees 6 deep with parent->view, documents, groups",
    size,
    schema: SCHEMA,
    relationships,
    checks: mix,
    freshnessProbe: directGrantProbe("document", documentIds, "viewer", "view"),
  };
}
