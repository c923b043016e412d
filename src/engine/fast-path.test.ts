import { afterEach, describe, expect, it } from "vitest";
import { compileSchema } from "../schema/index.ts";
import { buildGraphIndex } from "../graph/index.ts";
import type { GraphIndexView } from "../graph/index.ts";
import { parseRelationship } from "../tuple/index.ts";
import { CheckCache } from "./check-cache.ts";
import { Engine } from "./engine.ts";
import type { EngineStats } from "./engine-types.ts";
import { RequestAbortedError } from "./errors.ts";
import { indexedFixture } from "./indexed-fixture.ts";
import type { IndexedFixture } from "./indexed-fixture.ts";
import { SchemaDependencies } from "./schema-dependencies.ts";
import { CountingReader, DRIVE_SCHEMA as DRIVE, checkRequest } from "./test-fixtures.ts";

/** CAVEATED_VIEWERS lets a viewer carry a caveat, which only the plain walk evaluates. */
const CAVEATED_VIEWERS = `definition user {}
caveat only_if(flag bool) {
  flag
}
definition doc {
  relation viewer: user | user with only_if
  permission view = viewer
}`;

const open: IndexedFixture[] = [];

async function follow(relationships: readonly string[], schemaText = DRIVE): Promise<IndexedFixture> {
  const fixture = await indexedFixture(schemaText, relationships);
  open.push(fixture);
  return fixture;
}

afterEach(async () => {
  for (const fixture of open.splice(0)) await fixture.close();
});

/** readsRecorded wraps `index`, recording `type#relation` of every posting read. */
function readsRecorded(index: GraphIndexView, reads: string[]): GraphIndexView {
  return new Proxy(index, {
    get(target, property) {
      if (property === "posting") {
        return (type: string, n: number, relation: string) => {
          reads.push(`${type}#${relation}`);
          return target.posting(type, n, relation);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** since returns the stats counted after `before`. */
function since(before: EngineStats, after: EngineStats): { hits: number; misses: number; indexed: number; fallbacks: number } {
  return {
    hits: after.cache.hits - before.cache.hits,
    misses: after.cache.misses - before.cache.misses,
    indexed: after.indexed - before.indexed,
    fallbacks: after.fallbacks - before.fallbacks,
  };
}

describe("CheckCache validity", () => {
  // [entry revision C, horizon H, request revision X, index revision I, usable]
  it.each([
    [5, 3, 5, 5, true],
    [5, 3, 7, 7, true],
    [5, 3, 4, 7, true],
    [5, 5, 5, 9, true],
    [5, 6, 7, 7, false],
    [5, 3, 2, 7, false],
    [5, 3, 8, 7, false],
  ])("an entry of revision %i with horizon %i answers at %i (index at %i): %s", (revision, horizon, at, indexRevision, usable) => {
    const cache = new CheckCache(10);
    cache.set("k", { permissionship: "allowed", revision, depthRequired: 1 });
    expect(cache.get("k", at, horizon, indexRevision) !== undefined).toBe(usable);
  });

  it("keeps at most its configured number of entries", () => {
    const cache = new CheckCache(2);
    for (const key of ["a", "b", "c"]) cache.set(key, { permissionship: "denied", revision: 1, depthRequired: 1 });
    expect(cache.size).toBe(2);
    expect(cache.get("a", 1, 0, 1)).toBeUndefined();
  });
});

describe("SchemaDependencies", () => {
  it("follows computed names, arrows and usersets to the stored relations", () => {
    const dependencies = new SchemaDependencies(compileSchema(DRIVE));
    expect(dependencies.of("doc", "view").relations).toEqual(["doc#parent", "doc#viewer", "folder#parent", "folder#viewer", "group#member"]);
    expect(dependencies.of("group", "member").relations).toEqual(["group#member"]);
    expect(dependencies.of("doc", "view")).toMatchObject({ caveated: false, expiring: false });
  });
});

describe("the fast path's cache", () => {
  it("answers a repeated check from the cache, and an unrelated write keeps it valid", async () => {
    const fixture = await follow(["doc:d1#parent@folder:f1", "folder:f1#viewer@user:ann"]);
    const engine = new Engine({}, { follower: fixture.follower });
    const request = checkRequest("doc:d1", "view", "user:ann");
    await expect(engine.check(fixture.reader(), fixture.schema, request)).resolves.toMatchObject({ permissionship: "allowed" });
    const before = engine.stats();
    await fixture.touch("team:t1#member@user:ann");
    await expect(engine.check(fixture.reader(), fixture.schema, request)).resolves.toMatchObject({ permissionship: "allowed" });
    expect(since(before, engine.stats())).toMatchObject({ hits: 1, indexed: 0, fallbacks: 0 });
  });

  it("does not answer from an entry once a relation it depends on changed", async () => {
    const fixture = await follow(["doc:d1#parent@folder:f1", "folder:f1#viewer@user:ann"]);
    const engine = new Engine({}, { follower: fixture.follower });
    const request = checkRequest("doc:d1", "view", "user:ann");
    const first = fixture.revision;
    await expect(engine.check(fixture.reader(), fixture.schema, request)).resolves.toMatchObject({ permissionship: "allowed" });
    await fixture.remove("folder:f1#viewer@user:ann");
    const before = engine.stats();
    await expect(engine.check(fixture.reader(), fixture.schema, request)).resolves.toMatchObject({ permissionship: "denied" });
    // The older revision is still allowed, but the entry cannot tell it apart from the newer one.
    await expect(engine.check(fixture.reader(first), fixture.schema, request)).resolves.toMatchObject({ permissionship: "allowed" });
    expect(since(before, engine.stats())).toMatchObject({ hits: 0, indexed: 1, fallbacks: 1 });
  });

  it("shares subproblems across requests: a second document in the same folder reuses the folder's answer", async () => {
    const fixture = await follow(["doc:d1#parent@folder:f1", "doc:d2#parent@folder:f1", "folder:f1#parent@folder:root", "folder:root#viewer@user:ann"]);
    const reads: string[] = [];
    const engine = new Engine({}, { index: readsRecorded(fixture.follower.index, reads) });
    await engine.check(fixture.reader(), fixture.schema, checkRequest("doc:d1", "view", "user:ann"));
    reads.length = 0;
    await expect(engine.check(fixture.reader(), fixture.schema, checkRequest("doc:d2", "view", "user:ann"))).resolves.toMatchObject({
      permissionship: "allowed",
    });
    // Only doc:d2's own relations are read: folder:f1#view came from the cache.
    expect(reads).toEqual(["doc#viewer", "doc#parent"]);
  });

  it("never answers from the cache at a revision the index has not reached", async () => {
    const fixture = await follow(["doc:d1#viewer@user:ann"]);
    // A fixed index, loaded once, that does not follow the store.
    const index = await buildGraphIndex(fixture.store);
    const engine = new Engine({}, { index });
    const request = checkRequest("doc:d1", "view", "user:ann");
    await expect(engine.check(fixture.reader(), fixture.schema, request)).resolves.toMatchObject({ permissionship: "allowed" });
    await fixture.remove("doc:d1#viewer@user:ann");
    const before = engine.stats();
    await expect(engine.check(fixture.reader(), fixture.schema, request)).resolves.toMatchObject({ permissionship: "denied" });
    expect(since(before, engine.stats())).toMatchObject({ hits: 0, indexed: 0, fallbacks: 1 });
  });

  it("caches the plain walk's answers at the top level, per context where caveats are in reach", async () => {
    const fixture = await follow(
      ["doc:d1#viewer@user:ann[only_if]"],
      CAVEATED_VIEWERS,
    );
    const engine = new Engine({}, { follower: fixture.follower });
    const plain = checkRequest("doc:d1", "view", "user:ann");
    const withContext = checkRequest("doc:d1", "view", "user:ann", { other: 1 });
    await expect(engine.check(fixture.reader(), fixture.schema, plain)).resolves.toMatchObject({ permissionship: "conditional", missingParameters: ["flag"] });
    const before = engine.stats();
    await expect(engine.check(fixture.reader(), fixture.schema, plain)).resolves.toMatchObject({ permissionship: "conditional", missingParameters: ["flag"] });
    await expect(engine.check(fixture.reader(), fixture.schema, withContext)).resolves.toMatchObject({ permissionship: "conditional" });
    expect(since(before, engine.stats())).toMatchObject({ hits: 1, fallbacks: 1 });
  });

  it("is cleared when the requests' schema changes", async () => {
    const fixture = await follow(["doc:d1#viewer@user:ann"]);
    const engine = new Engine({}, { follower: fixture.follower });
    const request = checkRequest("doc:d1", "view", "user:ann");
    await engine.check(fixture.reader(), fixture.schema, request);
    expect(engine.stats().cache.entries).toBeGreaterThan(0);
    const other = compileSchema(`${DRIVE}\ndefinition extra {}`);
    await engine.check(fixture.reader(), other, request);
    const before = engine.stats();
    await engine.check(fixture.reader(), fixture.schema, request);
    expect(since(before, engine.stats()).hits).toBe(0);
  });

  it("can be disabled", async () => {
    const fixture = await follow(["doc:d1#viewer@user:ann"]);
    const engine = new Engine({ cacheEntries: 0 }, { follower: fixture.follower });
    const request = checkRequest("doc:d1", "view", "user:ann");
    await engine.check(fixture.reader(), fixture.schema, request);
    await engine.check(fixture.reader(), fixture.schema, request);
    expect(engine.stats()).toMatchObject({ cache: { hits: 0, misses: 0, entries: 0 }, indexed: 2, fallbacks: 0 });
  });
});

describe("the fast path", () => {
  it("computes identical concurrent plain walks once", async () => {
    const fixture = await follow(["doc:d1#parent@folder:f1", "folder:f1#viewer@user:ann"]);
    await fixture.touch("team:t1#member@user:bob");
    // An older revision: only the plain walk may answer it (the cache is empty).
    const at = fixture.revision - 1;
    const engine = new Engine({}, { follower: fixture.follower });
    const readers = [new CountingReader(fixture.reader(at)), new CountingReader(fixture.reader(at))];
    const request = checkRequest("doc:d1", "view", "user:ann");
    const answers = await Promise.all(readers.map((reader) => engine.check(reader, fixture.schema, request)));
    expect(answers.map((answer) => answer.permissionship)).toEqual(["allowed", "allowed"]);
    expect(readers[0]?.queries.length).toBeGreaterThan(0);
    expect(readers[1]?.queries).toHaveLength(0);
  });

  it("answers a batch from the index, and its items that need the plain walk from it", async () => {
    const fixture = await follow(
      ["doc:d1#viewer@user:ann", "doc:d2#viewer@user:ann[only_if]"],
      CAVEATED_VIEWERS,
    );
    const engine = new Engine({}, { follower: fixture.follower });
    const answers = await engine.checkBatch(fixture.reader(), fixture.schema, [
      checkRequest("doc:d1", "view", "user:ann"),
      checkRequest("doc:d2", "view", "user:ann"),
      checkRequest("doc:d1", "view", "user:bob"),
      checkRequest("nothing:d1", "view", "user:bob"),
    ]);
    expect(answers).toMatchObject([
      { result: { permissionship: "allowed" } },
      { result: { permissionship: "conditional", missingParameters: ["flag"] } },
      { result: { permissionship: "denied" } },
      { error: { name: "FailedPreconditionError" } },
    ]);
    expect(engine.stats()).toMatchObject({ indexed: 2, fallbacks: 1 });
  });

  it("rejects an aborted request even when the index could answer it", async () => {
    const fixture = await follow(["doc:d1#viewer@user:ann"]);
    const engine = new Engine({}, { follower: fixture.follower });
    const signal = AbortSignal.abort(new Error("client went away"));
    await expect(engine.check(fixture.reader(), fixture.schema, checkRequest("doc:d1", "view", "user:ann"), { signal })).rejects.toThrow(RequestAbortedError);
  });

  it("walks the reader for a traced check", async () => {
    const fixture = await follow(["doc:d1#viewer@user:ann"]);
    const engine = new Engine({}, { follower: fixture.follower });
    const result = await engine.check(fixture.reader(), fixture.schema, checkRequest("doc:d1", "view", "user:ann"), { trace: true });
    expect(result.trace).toBeDefined();
    expect(engine.stats()).toMatchObject({ indexed: 0, fallbacks: 1 });
  });

  it.each([
    [{ cacheEntries: -1 }, {}, /cacheEntries/],
    [{ cacheEntries: 1.5 }, {}, /cacheEntries/],
  ])("rejects the options %j", (options, _dependencies, message) => {
    expect(() => new Engine(options)).toThrow(message);
  });

  it("rejects both an index and a follower", async () => {
    const fixture = await follow([]);
    expect(() => new Engine({}, { index: fixture.follower.index, follower: fixture.follower })).toThrow(/either a graph index or a follower/);
    expect(parseRelationship("doc:d1#viewer@user:ann").relation).toBe("viewer");
  });
});
