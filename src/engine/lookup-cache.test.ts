import { afterEach, describe, expect, it } from "vitest";
import type { GraphIndexView } from "../graph/index.ts";
import { Engine } from "./engine.ts";
import type { LookupResourcesRequest } from "./lookup-types.ts";
import { indexedFixture } from "./indexed-fixture.ts";
import type { IndexedFixture } from "./indexed-fixture.ts";
import { FALL_BACK } from "./fall-back.ts";
import { LookupCache } from "./lookup-cache.ts";
import { idList } from "./lookup-order.ts";
import { DRIVE_SCHEMA } from "./test-fixtures.ts";

const DATA = ["group:eng#member@user:ann", "folder:root#viewer@group:eng#member", "folder:sub#parent@folder:root", "doc:a#parent@folder:sub", "doc:b#viewer@user:ann"];

const annViews: LookupResourcesRequest = { resourceType: "doc", permission: "view", subject: { type: "user", id: "ann" } };

let fixture: IndexedFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function ids(engine: Engine, f: IndexedFixture, revision?: number): Promise<string[]> {
  const found: string[] = [];
  for (const result of await engine.lookupResources(f.reader(revision), f.schema, annViews)) found.push(result.id);
  return found.sort();
}

describe("the lookup cache", () => {
  it("answers a repeated lookup from what the index decided before", async () => {
    const f = (fixture = await indexedFixture(DRIVE_SCHEMA, DATA));
    const engine = new Engine({}, { follower: f.follower });
    expect(await ids(engine, f)).toEqual(["a", "b"]);
    expect(await ids(engine, f)).toEqual(["a", "b"]);
    expect(engine.stats().lookups).toMatchObject({ fromIndex: 2, cacheHits: 1 });
  });

  it("keeps an entry across writes the permission does not depend on, and drops it on one it does", async () => {
    const f = (fixture = await indexedFixture(DRIVE_SCHEMA, DATA));
    const engine = new Engine({}, { follower: f.follower });
    await ids(engine, f);
    await f.touch("team:t#member@user:ann");
    expect(await ids(engine, f)).toEqual(["a", "b"]);
    expect(engine.stats().lookups.cacheHits).toBe(1);
    await f.touch("folder:other#parent@folder:sub", "doc:c#parent@folder:other");
    expect(await ids(engine, f)).toEqual(["a", "b", "c"]);
    expect(engine.stats().lookups.cacheHits).toBe(1);
    await f.remove("group:eng#member@user:ann");
    expect(await ids(engine, f)).toEqual(["b"]);
  });

  it("never answers an older revision with what a newer one decided", async () => {
    const f = (fixture = await indexedFixture(DRIVE_SCHEMA, DATA));
    const before = f.revision;
    const engine = new Engine({}, { follower: f.follower });
    await f.touch("doc:new#viewer@user:ann");
    expect(await ids(engine, f)).toEqual(["a", "b", "new"]);
    expect(await ids(engine, f, before)).toEqual(["a", "b"]);
  });

  // Found in review: the first lookup ran while group:eng had no number in the index; a write that
  // the permission does not depend on then interned it, and the cached answer lost it.
  it("keeps a userset subject's own object among the results once the index comes to know it", async () => {
    const schemaText = `definition user {}
definition group {
  relation member: user | group#member
  permission view = member
}
definition doc {
  relation owner: user | group#member
}`;
    const f = (fixture = await indexedFixture(schemaText, ["group:ops#member@user:alice"]));
    const engine = new Engine({}, { follower: f.follower });
    const eng = { type: "group", id: "eng", relation: "member" };
    const lookups = async () => ({
      resources: [...(await engine.lookupResources(f.reader(), f.schema, { resourceType: "group", permission: "view", subject: eng }))].map((r) => r.id),
      subjects: [...(await engine.lookupSubjects(f.reader(), f.schema, { resource: { type: "group", id: "eng" }, permission: "view", subjectType: "group", subjectRelation: "member" }))].map((r) => r.id),
    });
    expect(await lookups()).toEqual({ resources: ["eng"], subjects: ["eng"] });
    await f.touch("doc:9#owner@group:eng#member");
    expect(await lookups()).toEqual({ resources: ["eng"], subjects: ["eng"] });
    expect(engine.stats().lookups.cacheHits).toBe(2);
  });

  it("is off when the engine's caches are", async () => {
    const f = (fixture = await indexedFixture(DRIVE_SCHEMA, DATA));
    for (const options of [{ cacheEntries: 0 }, { lookupCacheResults: 0 }]) {
      const engine = new Engine(options, { follower: f.follower });
      await ids(engine, f);
      await ids(engine, f);
      expect(engine.stats().lookups).toMatchObject({ fromIndex: 2, cacheHits: 0 });
    }
  });
});

describe("LookupCache", () => {
  const index = (revision: number) => ({ revision }) as unknown as GraphIndexView;
  const candidates = (...allowed: string[]) => ({ allowed: idList(allowed), undecided: [], denied: [] });
  // The first allowed id of what `through` returned.
  const first = (found: ReturnType<typeof candidates> | typeof FALL_BACK): string => (found === FALL_BACK ? "FALL_BACK" : found.allowed.idAt(0));

  it("computes again for another index object (a reload renumbers objects) and another schema", () => {
    const cache = new LookupCache(100);
    const one = index(5);
    expect(first(cache.through("k", one, "schema", 0, () => candidates("a")))).toBe("a");
    expect(first(cache.through("k", one, "schema", 0, () => candidates("b")))).toBe("a");
    expect(first(cache.through("k", one, "other schema", 0, () => candidates("c")))).toBe("c");
    expect(first(cache.through("k", index(5), "other schema", 0, () => candidates("d")))).toBe("d");
    expect(cache.hits).toBe(1);
  });

  it("computes again once a dependency changed after the entry", () => {
    const cache = new LookupCache(100);
    const current = index(5);
    cache.through("k", current, "s", 3, () => candidates("a"));
    expect(first(cache.through("k", current, "s", 5, () => candidates("b")))).toBe("a");
    expect(first(cache.through("k", current, "s", 6, () => candidates("c")))).toBe("c");
  });

  it("remembers that the index gave up, under the same validity", () => {
    const cache = new LookupCache(100);
    const current = index(5);
    let evaluations = 0;
    const giveUp = (): typeof FALL_BACK => {
      evaluations++;
      return FALL_BACK;
    };
    expect(cache.through("k", current, "s", 2, giveUp)).toBe(FALL_BACK);
    expect(cache.through("k", current, "s", 2, giveUp)).toBe(FALL_BACK);
    expect(evaluations).toBe(1);
    expect(first(cache.through("k", current, "s", 9, () => candidates("a")))).toBe("a");
  });

  it("holds at most maxResults objects over its entries", () => {
    const cache = new LookupCache(5);
    const current = index(1);
    cache.through("one", current, "s", 0, () => candidates("a", "b", "c"));
    cache.through("two", current, "s", 0, () => candidates("d", "e", "f"));
    expect(first(cache.through("one", current, "s", 0, () => candidates("x")))).toBe("x");
  });

  it("refuses a size that is not a positive integer", () => {
    expect(() => new LookupCache(0)).toThrow(RangeError);
  });
});
