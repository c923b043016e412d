import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { DepthExceededError } from "./errors.ts";
import { indexedFixture } from "./indexed-fixture.ts";
import type { IndexedFixture } from "./indexed-fixture.ts";

const FOLDERS = `definition user {}
definition folder {
  relation parent: folder
  relation viewer: user
  permission view = viewer + parent->view
}`;

/** chain: folder f0 viewed by alice, and f1..fn each the child of the one before. */
function chain(n: number): string[] {
  return ["folder:f0#viewer@user:alice", ...Array.from({ length: n }, (_, i) => `folder:f${i + 1}#parent@folder:f${i}`)];
}

let fixture: IndexedFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe("a lookup through a hierarchy (the breadth-first closure of `parent->view`)", () => {
  it.each([3, 10])("finds every level of a chain of %i folders within the depth bound, from the index", async (n) => {
    const f = (fixture = await indexedFixture(FOLDERS, chain(n)));
    const engine = new Engine({ maxDepth: 50 }, { follower: f.follower });
    const found = [...(await engine.lookupResources(f.reader(), f.schema, { resourceType: "folder", permission: "view", subject: { type: "user", id: "alice" } }))];
    expect(found.map((result) => result.id).sort()).toEqual(Array.from({ length: n + 1 }, (_, i) => `f${i}`).sort());
    expect(engine.stats().lookups).toMatchObject({ fromIndex: 1, fromStore: 0 });
  });

  // Found in review: the closure answered ALLOWED where a check fails for depth.
  it.each([4, 50])("fails as a check does where the chain is deeper than maxDepth %i", async (maxDepth) => {
    const f = (fixture = await indexedFixture(FOLDERS, chain(maxDepth)));
    const engine = new Engine({ maxDepth }, { follower: f.follower });
    const deepest = { resource: { type: "folder", id: `f${maxDepth}` }, permission: "view", subject: { type: "user", id: "alice" } };
    await expect(engine.check(f.reader(), f.schema, deepest)).rejects.toBeInstanceOf(DepthExceededError);
    await expect(engine.lookupResources(f.reader(), f.schema, { resourceType: "folder", permission: "view", subject: { type: "user", id: "alice" } })).rejects.toBeInstanceOf(
      DepthExceededError,
    );
  });
});
