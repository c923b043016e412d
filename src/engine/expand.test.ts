import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../tuple/index.ts";
import { Engine } from "./engine.ts";
import type { ExpandTree } from "./engine-types.ts";
import { DepthExceededError, ExpandLimitExceededError } from "./errors.ts";
import { CountingReader, fixture } from "./test-fixtures.ts";

const SCHEMA = `
definition user {}
definition group {
  relation member: user | group#member
}
definition folder {
  relation parent: folder
  relation owner: user
  relation viewer: user | group#member
  permission view = viewer + owner
  permission tree_view = viewer + parent->tree_view
}
definition team {
  relation member: user
}
definition doc {
  relation parent: folder | team
  relation viewer: user | group#member
  relation banned: user
  permission view = viewer - banned
  permission both = viewer & banned
  permission pview = parent->view
  permission pall = parent.all(view)
  permission simple = viewer
  permission nothing = nil
  permission mixed = (viewer + pview) - banned
}
`;

const RELATIONSHIPS = [
  "doc:d#parent@folder:f1",
  "doc:d#parent@folder:f2",
  "doc:d#parent@team:t1",
  "folder:f1#owner@user:a",
  "folder:f2#viewer@group:g#member",
  "doc:d#viewer@user:b",
  "doc:d#viewer@group:g#member",
  "group:g#member@user:c",
];

/** text renders a tree compactly: `op(node: children)` and `node[subjects]`. */
function text(tree: ExpandTree): string {
  const node = `${tree.resource.type}:${tree.resource.id}#${tree.relation}`;
  if (tree.kind === "leaf") {
    return `${node}[${tree.subjects.map((s) => `${s.type}:${s.id}${s.relation === undefined ? "" : `#${s.relation}`}`).join(" ")}]`;
  }
  return `${tree.kind}(${node}: ${tree.children.map(text).join(", ")})`;
}

const engine = new Engine();

describe("expand", () => {
  // Shapes confirmed against SpiceDB's ExpandPermissionTree for the same schema and data (leaf
  // subjects here in the store's order, by subject type then id).
  it.each([
    ["viewer", "doc:d#viewer[group:g#member user:b]"],
    ["view", "exclusion(doc:d#view: doc:d#viewer[group:g#member user:b], doc:d#banned[])"],
    ["both", "intersection(doc:d#both: doc:d#viewer[group:g#member user:b], doc:d#banned[])"],
    ["simple", "union(doc:d#simple: doc:d#viewer[group:g#member user:b])"],
    ["nothing", "union(doc:d#nothing: doc:d#nothing[])"],
    [
      "pview",
      "union(doc:d#pview: union(doc:d#pview: union(folder:f1#view: folder:f1#viewer[], folder:f1#owner[user:a]), " +
        "union(folder:f2#view: folder:f2#viewer[group:g#member], folder:f2#owner[])))",
    ],
    [
      "pall",
      "union(doc:d#pall: intersection(doc:d#pall: union(folder:f1#view: folder:f1#viewer[], folder:f1#owner[user:a]), " +
        "union(folder:f2#view: folder:f2#viewer[group:g#member], folder:f2#owner[]), union(team:t1#view: )))",
    ],
    [
      "mixed",
      "exclusion(doc:d#mixed: union(doc:d#mixed: doc:d#viewer[group:g#member user:b], union(doc:d#pview: union(doc:d#pview: " +
        "union(folder:f1#view: folder:f1#viewer[], folder:f1#owner[user:a]), union(folder:f2#view: folder:f2#viewer[group:g#member], folder:f2#owner[])))), doc:d#banned[])",
    ],
  ])("expands doc:d#%s", async (permission, expected) => {
    const { reader, schema } = await fixture(SCHEMA, RELATIONSHIPS);
    expect(text(await engine.expand(reader, schema, { type: "doc", id: "d" }, permission))).toBe(expected);
  });

  it("expands an arrow with no tupleset subjects to an empty union", async () => {
    const { reader, schema } = await fixture(SCHEMA, RELATIONSHIPS);
    expect(text(await engine.expand(reader, schema, { type: "doc", id: "none" }, "pall"))).toBe("union(doc:none#pall: union(doc:none#pall: ))");
  });

  it("cuts a cycle in the data with an empty union", async () => {
    const { reader, schema } = await fixture(SCHEMA, ["folder:a#parent@folder:b", "folder:b#parent@folder:a", "folder:b#viewer@user:x"]);
    expect(text(await engine.expand(reader, schema, { type: "folder", id: "a" }, "tree_view"))).toBe(
      "union(folder:a#tree_view: folder:a#viewer[], union(folder:a#tree_view: union(folder:b#tree_view: folder:b#viewer[user:x], " +
        "union(folder:b#tree_view: union(folder:a#tree_view: )))))",
    );
  });

  it("fails past the maximum depth", async () => {
    const chain = Array.from({ length: 10 }, (_, i) => `folder:f${i}#parent@folder:f${i + 1}`);
    const { reader, schema } = await fixture(SCHEMA, chain);
    await expect(new Engine({ maxDepth: 5 }).expand(reader, schema, { type: "folder", id: "f0" }, "tree_view")).rejects.toThrow(
      /^expand exceeded the maximum depth of 5 /,
    );
    await expect(new Engine({ maxDepth: 5 }).expand(reader, schema, { type: "folder", id: "f0" }, "tree_view")).rejects.toThrow(DepthExceededError);
  });

  /** sharedParents links folders a{i} and b{i} to both a{i+1} and b{i+1}: 2^levels paths from a0 to the top. */
  function sharedParents(levels: number): string[] {
    return Array.from({ length: levels }, (_, i) =>
      ["a", "b"].flatMap((x) => ["a", "b"].map((y) => `folder:${x}${i}#parent@folder:${y}${i + 1}`)),
    ).flat();
  }

  it("reads each folder once however many paths reach it", async () => {
    const { reader, schema } = await fixture(SCHEMA, sharedParents(6));
    const counting = new CountingReader(reader);
    const tree = await engine.expand(counting, schema, { type: "folder", id: "a0" }, "tree_view");
    // Two reads (viewer, parent) for a0 and for each of the 12 folders above it.
    expect(counting.queries).toHaveLength(26);
    // The tree itself still shows every path, as SpiceDB's does.
    expect(text(tree).match(/folder:a6#viewer\[\]/g)).toHaveLength(2 ** 5);
  });

  it("fails a tree larger than maxExpandNodes, naming the limit, without reading the rest", async () => {
    const { reader, schema } = await fixture(SCHEMA, sharedParents(16));
    const counting = new CountingReader(reader);
    const failure = engine.expand(counting, schema, { type: "folder", id: "a0" }, "tree_view");
    await expect(failure).rejects.toThrow(ExpandLimitExceededError);
    await expect(failure).rejects.toMatchObject({
      code: "resource_exhausted",
      maxExpandNodes: 10_000,
      message: expect.stringMatching(/^expand exceeded the maximum of 10000 tree nodes \(maxExpandNodes\) at folder:/),
    });
    expect(counting.queries.length).toBeLessThanOrEqual(2 * 33);
    await expect(new Engine({ maxExpandNodes: 20 }).expand(reader, schema, { type: "folder", id: "a0" }, "tree_view")).rejects.toThrow(
      /maximum of 20 tree nodes/,
    );
  });

  it.each([
    ["nope", "view", "resource.type"],
    ["doc", "nope", "permission"],
  ])("rejects %s#%s naming %s", async (type, permission, field) => {
    const { reader, schema } = await fixture(SCHEMA, RELATIONSHIPS);
    const failure = engine.expand(reader, schema, { type, id: "d" }, permission);
    await expect(failure).rejects.toThrow(FailedPreconditionError);
    await expect(failure).rejects.toMatchObject({ field });
  });
});
