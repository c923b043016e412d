// The lookup workload of issue 5: documents in folder trees, viewers granted on folders to nested
// groups, and a few readers whose LookupResources(document, view) returns ~95%, ~10% and ~1% of
// the documents.
import type { Relationship } from "../../src/tuple/index.ts";
import type { WorkloadSize } from "./workload.ts";
import { ids, Prng, rel, scaled, sizeFactor } from "./workload.ts";

const SCHEMA = `definition user {}

definition group {
  relation member: user | group#member
}

definition folder {
  relation parent: folder
  relation viewer: user | group#member
  permission view = viewer + parent->view
}

definition document {
  relation parent: folder
  relation viewer: user | group#member
  permission view = viewer + parent->view
}
`;

/** FOLDER_FANOUT is how many children each folder above the leaves has; trees are FOLDER_LEVELS deep (root = level 1). */
export const FOLDER_FANOUT = 10;
/** FOLDER_LEVELS: root, level 2 (~1k documents below each at any size), level 3 (~100), leaf (~10). */
export const FOLDER_LEVELS = 4;
/** DOCUMENTS_PER_ROOT is the documents placed (at random) in the leaves of each tree. */
export const DOCUMENTS_PER_ROOT = 10_000;
/** NOISE_CHAIN_DEPTH is how deep the chains of nested groups that hold everybody else are. */
export const NOISE_CHAIN_DEPTH = 8;

// ~1.25M relationships at `large` (1M documents): beyond what SpiceDB's memdb handles in useful time.
const LARGE_FACTOR = 10;

/**
 * LookupQuery is one LookupResources request of the workload and its answer: `expected` holds the
 * ids of every resource the subject can view, sorted, computed from the generator's own model of
 * what it built (group closure, folder parents), never from an engine. `tag` names the reader.
 */
export interface LookupQuery {
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: { readonly type: string; readonly id: string };
  readonly expected: readonly string[];
  readonly tag: string;
}

/** LookupWorkload is a schema (SpiceDB DSL), the relationships to load and the lookups to replay. */
export interface LookupWorkload {
  readonly name: string;
  readonly description: string;
  readonly size: WorkloadSize;
  readonly schema: string;
  readonly relationships: readonly Relationship[];
  readonly documents: number;
  readonly lookups: readonly LookupQuery[];
}

/**
 * folderLookupsWorkload builds the lookup workload at `size` (full: 10 folder trees of 1,111
 * folders, 4 levels, 10 children each; 100,000 documents placed at random in the leaves; 200
 * chains of 8 nested groups holding 5,000 users; ~123k relationships). Three readers:
 *
 * - `reader-most` (tag `most`, ~95% of the documents): member of the deepest of an 8-level chain
 *   `org-l1` ⊃ … ⊃ `org-l8`; `org-l1` views 9 of the 10 level-2 folders of every tree and `org-l3`
 *   half of the level-3 folders of the tenth;
 * - `reader-tenth` (`tenth`, ~10%): member of `dept-l4` (chain of 4); `dept-l1` views one level-2
 *   folder per tree;
 * - `reader-hundredth` (`hundredth`, ~1%): member of `squad-l2` (chain of 2); `squad-l1` views
 *   one level-3 folder per tree.
 *
 * Each reader is also in one group of the noisy chains and a direct viewer of a few documents,
 * so that answers overlap and are not whole subtrees only.
 */
export function folderLookupsWorkload(size: WorkloadSize, seed = 5): LookupWorkload {
  const factor = sizeFactor(size, LARGE_FACTOR);
  const random = new Prng(seed);
  const relationships: Relationship[] = [];
  const model = new Model();
  // Random picks repeat; a relationship is listed once (SpiceDB refuses a batch that repeats one).
  const listed = new Set<string>();
  const grant = (type: "folder" | "document", id: string, subject: string): void => {
    if (listed.has(`${type}:${id}@${subject}`)) return;
    listed.add(`${type}:${id}@${subject}`);
    const [subjectType, subjectId] = splitSubject(subject);
    relationships.push(subjectType === "group" ? rel(type, id, "viewer", "group", subjectId, "member") : rel(type, id, "viewer", "user", subjectId));
    model.grant(id, subject);
  };
  const addMember = (group: string, member: string): void => {
    if (listed.has(`group:${group}@${member}`)) return;
    listed.add(`group:${group}@${member}`);
    const [memberType, memberId] = splitSubject(member);
    relationships.push(memberType === "group" ? rel("group", group, "member", "group", memberId, "member") : rel("group", group, "member", "user", memberId));
    model.addMember(group, member);
  };

  // Folder trees, heap-numbered per tree so that levels are easy to name: t{tree}f{k}.
  const roots = scaled(10, factor);
  const byLevel: string[][] = Array.from({ length: FOLDER_LEVELS }, () => []);
  const levelOf = (k: number): number => {
    let level = 0;
    for (let first = 0, width = 1; k >= first + width; first += width, width *= FOLDER_FANOUT) level++;
    return level;
  };
  const foldersPerTree = (FOLDER_FANOUT ** FOLDER_LEVELS - 1) / (FOLDER_FANOUT - 1);
  for (let tree = 0; tree < roots; tree++) {
    for (let k = 0; k < foldersPerTree; k++) {
      const id = `t${tree}f${k}`;
      const parent = k === 0 ? undefined : `t${tree}f${Math.floor((k - 1) / FOLDER_FANOUT)}`;
      byLevel[levelOf(k)]?.push(id);
      model.setParent(id, parent);
      if (parent !== undefined) relationships.push(rel("folder", id, "parent", "folder", parent));
    }
  }
  const leaves = byLevel[FOLDER_LEVELS - 1] ?? [];
  const documentIds = ids("d", roots * DOCUMENTS_PER_ROOT);
  for (const id of documentIds) {
    const parent = random.pick(leaves);
    model.setParent(id, parent);
    relationships.push(rel("document", id, "parent", "folder", parent));
  }
  // Children of a folder at `level` (0-based), in order: the heap numbering within its tree.
  const childrenOf = (folder: string): string[] => {
    const match = /^t(\d+)f(\d+)$/.exec(folder);
    const k = Number(match?.[2]);
    return Array.from({ length: FOLDER_FANOUT }, (_, i) => `t${match?.[1]}f${k * FOLDER_FANOUT + 1 + i}`);
  };

  // Everybody else: users in chains of nested groups, viewers here and there.
  const users = ids("u", scaled(5_000, factor));
  const chains = scaled(200, factor);
  const noiseGroups: string[] = [];
  for (let chain = 0; chain < chains; chain++) {
    for (let level = 1; level <= NOISE_CHAIN_DEPTH; level++) {
      const group = `c${chain}l${level}`;
      noiseGroups.push(group);
      for (let i = 0; i < 3; i++) addMember(group, `user:${random.pick(users)}`);
      if (level > 1) addMember(`c${chain}l${level - 1}`, `group:${group}`);
    }
  }
  const belowRoots = [...(byLevel[1] ?? []), ...(byLevel[2] ?? []), ...leaves];
  for (let i = 0; i < scaled(1_000, factor); i++) grant("folder", random.pick(belowRoots), `group:c${random.int(chains)}l1`);
  for (let i = 0; i < scaled(5_000, factor); i++) grant("document", random.pick(documentIds), `user:${random.pick(users)}`);

  // The readers.
  const chain = (name: string, depth: number): void => {
    for (let level = 2; level <= depth; level++) addMember(`${name}-l${level - 1}`, `group:${name}-l${level}`);
  };
  chain("org", 8);
  chain("dept", 4);
  chain("squad", 2);
  addMember("org-l8", "user:reader-most");
  addMember("dept-l4", "user:reader-tenth");
  addMember("squad-l2", "user:reader-hundredth");
  const rootIds = byLevel[0] ?? [];
  rootIds.forEach((root, tree) => {
    const level2 = childrenOf(root);
    const left = tree % FOLDER_FANOUT;
    level2.forEach((folder, i) => {
      if (i !== left) grant("folder", folder, "group:org-l1");
    });
    const leftOut = level2[left];
    if (leftOut !== undefined) {
      childrenOf(leftOut).forEach((folder, i) => {
        if (i % 2 === 0) grant("folder", folder, "group:org-l3");
      });
    }
    const tenth = level2[(tree + 3) % FOLDER_FANOUT];
    if (tenth !== undefined) grant("folder", tenth, "group:dept-l1");
    const hundredth = childrenOf(level2[(tree + 5) % FOLDER_FANOUT] ?? root)[tree % FOLDER_FANOUT];
    if (hundredth !== undefined) grant("folder", hundredth, "group:squad-l1");
  });
  for (const reader of ["reader-most", "reader-tenth", "reader-hundredth"]) {
    addMember(random.pick(noiseGroups), `user:${reader}`);
    for (let i = 0; i < scaled(20, factor); i++) grant("document", random.pick(documentIds), `user:${reader}`);
  }

  const lookups: LookupQuery[] = [
    ["reader-most", "most"],
    ["reader-tenth", "tenth"],
    ["reader-hundredth", "hundredth"],
  ].map(([reader, tag]) => ({
    resourceType: "document",
    permission: "view",
    subject: { type: "user", id: reader ?? "" },
    expected: model.visible(`user:${reader}`, documentIds),
    tag: tag ?? "",
  }));
  return {
    name: "lookup",
    description: "folder trees 4 deep with parent->view, documents in the leaves, viewers granted on folders to groups nested up to 8 deep",
    size,
    schema: SCHEMA,
    relationships,
    documents: documentIds.length,
    lookups,
  };
}

function splitSubject(subject: string): [string, string] {
  const colon = subject.indexOf(":");
  return [subject.slice(0, colon), subject.slice(colon + 1)];
}

/**
 * Model is what the generator knows it built: group members (users and nested groups), the
 * parent of each folder and document, and the subjects granted view on each of them.
 */
class Model {
  // member ("user:x" or "group:g") -> groups that list it directly.
  readonly #groupsOf = new Map<string, string[]>();
  readonly #parent = new Map<string, string | undefined>();
  readonly #grants = new Map<string, string[]>();

  addMember(group: string, member: string): void {
    const groups = this.#groupsOf.get(member) ?? [];
    groups.push(`group:${group}`);
    this.#groupsOf.set(member, groups);
  }

  setParent(id: string, parent: string | undefined): void {
    this.#parent.set(id, parent);
  }

  grant(id: string, subject: string): void {
    const grants = this.#grants.get(id) ?? [];
    grants.push(subject);
    this.#grants.set(id, grants);
  }

  /** visible returns the ids among `documents` that `subject` views, sorted: granted on the document or on any folder above it. */
  visible(subject: string, documents: readonly string[]): string[] {
    const subjects = new Set([subject]);
    for (const member of subjects) for (const group of this.#groupsOf.get(member) ?? []) subjects.add(group);
    const memo = new Map<string, boolean>();
    const views = (id: string | undefined): boolean => {
      if (id === undefined) return false;
      const known = memo.get(id);
      if (known !== undefined) return known;
      const result = (this.#grants.get(id) ?? []).some((granted) => subjects.has(granted)) || views(this.#parent.get(id));
      memo.set(id, result);
      return result;
    };
    return documents.filter((id) => views(id)).sort();
  }
}
