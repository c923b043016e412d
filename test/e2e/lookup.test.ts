import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  WireConsistency,
  WireLookupResourcesRequest,
  WireLookupResourcesResult,
  WireLookupSubjectsRequest,
  WireLookupSubjectsResult,
} from "../../src/api/index.ts";
import { compareLookupOrder } from "../../src/engine/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { Harness } from "./harness.ts";
import { startHarness, update } from "./harness.ts";
import { LOOKUP_SCHEMA, PAGED, collect, collectResults, resourcesRequest, subjectsRequest, writeLookupData } from "./lookup-fixture.ts";
import { storeKinds } from "./store-kinds.ts";

const resourceIds = (results: readonly WireLookupResourcesResult[]) => results.map((result) => result.resourceObjectId ?? "");
const subjectIds = (results: readonly WireLookupSubjectsResult[]) => results.map((result) => result.subject?.subjectObjectId ?? "");
const sorted = (ids: readonly string[]) => [...ids].sort();

// Every variant runs against each store with the graph index, and once on memory without it: the
// answers must not depend on which path the engine took.
const variants = [
  ...(await storeKinds()).map(([name, open]) => [`${name} store, graph index`, open, true] as const),
  ["memory store, no graph index", async () => new MemoryStore(), false] as const,
];

describe.each(variants)("lookups over gRPC (%s)", (_name, openStore, index) => {
  let h: Harness;
  let writtenAt: string;
  beforeAll(async () => {
    h = await startHarness({ store: openStore, index });
    writtenAt = await writeLookupData(h.client);
  });
  afterAll(async () => {
    await h.close();
  });

  const resources = async (permission: string, subject: string, more: Partial<WireLookupResourcesRequest> = {}) =>
    collectResults(h.client.lookupResources(resourcesRequest("document", permission, subject, more)));
  const subjects = async (resource: string, permission: string, subjectType: string, more: Partial<WireLookupSubjectsRequest> = {}) =>
    collectResults(h.client.lookupSubjects(subjectsRequest(resource, permission, subjectType, more)));

  describe("LookupResources", () => {
    it.each([
      ["ann reaches documents through nested groups, folders, direct grants, a wildcard and a caveat", "view", "user:ann", ["d1", "d2", "d5", "d6", "d7", ...PAGED]],
      ["bob is left out where he is banned", "view", "user:bob", ["d1", ...PAGED]],
      ["carl owns one document and sees the public one", "view", "user:carl", ["d3", "d6"]],
      ["a user named by no relationship sees only the public document", "view", "user:dave", ["d6"]],
      ["an intersection needs both sides", "review", "user:ann", ["d7"]],
      ["an intersection is empty when one side is missing", "review", "user:bob", []],
    ])("finds what %s", async (_case, permission, subject, expected) => {
      expect(sorted(resourceIds(await resources(permission, subject)))).toEqual(sorted(expected));
    });

    it("streams results in lookup order, each once, with the token of the revision looked up at", async () => {
      const responses = await resources("view", "user:ann");
      const ids = resourceIds(responses);
      expect(ids).toEqual([...ids].sort(compareLookupOrder));
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(responses.map((response) => response.lookedUpAt?.token))).toEqual(new Set([writtenAt]));
    });

    it("answers CONDITIONAL with the missing parameters for a caveated grant, and ALLOWED otherwise", async () => {
      const responses = await resources("view", "user:ann");
      const conditional = responses.find((response) => response.resourceObjectId === "d5");
      expect(conditional?.permissionship).toBe("LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION");
      expect(conditional?.partialCaveatInfo?.missingRequiredContext).toEqual(["ip"]);
      const others = responses.filter((response) => response.resourceObjectId !== "d5");
      expect(new Set(others.map((response) => response.permissionship))).toEqual(new Set(["LOOKUP_PERMISSIONSHIP_HAS_PERMISSION"]));
    });

    it("finds resources for a userset subject", async () => {
      const responses = await collectResults(h.client.lookupResources(resourcesRequest("folder", "view", "group:eng#member")));
      expect(sorted(resourceIds(responses))).toEqual(["root", "sub"]);
    });

    it.each([1, 4, 7, 36, 1000])("pages through every result with optional_limit %i, in order, without duplicates", async (limit) => {
      const unpaged = resourceIds(await resources("view", "user:ann"));
      const paged: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page <= unpaged.length; page++) {
        const responses = await resources("view", "user:ann", { optionalLimit: limit, optionalCursor: cursor === undefined ? null : { token: cursor } });
        expect(responses.length).toBeLessThanOrEqual(limit);
        paged.push(...resourceIds(responses));
        if (responses.length < limit) break;
        cursor = responses.at(-1)?.afterResultCursor?.token ?? undefined;
      }
      expect(paged).toEqual(unpaged);
    });

    it("sends several results to a message, each message's cursor resuming after its last result", async () => {
      const unpaged = await resources("view", "user:ann");
      const cursors = unpaged.filter((result) => result.afterResultCursor !== undefined);
      expect(cursors.length).toBeLessThan(unpaged.length);
      const firstThree = await resources("view", "user:ann", { optionalLimit: 3 });
      expect(firstThree).toHaveLength(3);
      const rest = await resources("view", "user:ann", { optionalCursor: firstThree.at(-1)?.afterResultCursor ?? null });
      expect(resourceIds(rest)).toEqual(resourceIds(unpaged).slice(3));
    });
  });

  describe("LookupSubjects", () => {
    it("lists the wildcard with the subjects it excludes, and no one it already covers", async () => {
      const responses = await subjects("document:d6", "view", "user");
      expect(responses).toHaveLength(1);
      expect(responses[0]?.subject).toEqual({ subjectObjectId: "*", permissionship: "LOOKUP_PERMISSIONSHIP_HAS_PERMISSION", partialCaveatInfo: null });
      expect(responses[0]?.excludedSubjects?.map((subject) => subject.subjectObjectId)).toEqual(["bob"]);
    });

    it.each([
      ["nested groups through folders", "document:d1", ["ann", "bob", "eve"]],
      ["a group minus a banned member", "document:d4", ["eve"]],
      ["direct grants", "document:d2", ["ann"]],
      ["no one", "document:nothing", []],
    ])("finds the subjects of %s", async (_case, resource, expected) => {
      const responses = await subjects(resource, "view", "user");
      expect(sorted(subjectIds(responses))).toEqual(expected);
      expect(responses.every((response) => (response.excludedSubjects ?? []).length === 0)).toBe(true);
    });

    it("answers CONDITIONAL with the missing parameters for a caveated grant", async () => {
      const responses = await subjects("document:d5", "view", "user");
      expect(responses.map((response) => response.subject)).toEqual([
        { subjectObjectId: "ann", permissionship: "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION", partialCaveatInfo: { missingRequiredContext: ["ip"] } },
      ]);
    });

    it("finds userset subjects with optional_subject_relation", async () => {
      const responses = await subjects("folder:root", "view", "group", { optionalSubjectRelation: "member" });
      expect(sorted(subjectIds(responses))).toEqual(["eng", "staff"]);
    });

    it("lists an intersection's subjects", async () => {
      expect(subjectIds(await subjects("document:d7", "review", "user"))).toEqual(["ann"]);
      expect(subjectIds(await subjects("document:d2", "review", "user"))).toEqual([]);
    });

    it.each([1, 2])("pages through every subject with optional_limit %i, in order, without duplicates", async (limit) => {
      for (const resource of ["document:d1", "document:d6"]) {
        const unpaged = subjectIds(await subjects(resource, "view", "user"));
        const paged: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page <= unpaged.length; page++) {
          const responses = await subjects(resource, "view", "user", { optionalLimit: limit, optionalCursor: cursor === undefined ? null : { token: cursor } });
          paged.push(...subjectIds(responses));
          if (responses.length < limit) break;
          cursor = responses.at(-1)?.afterResultCursor?.token ?? undefined;
        }
        expect(paged).toEqual(unpaged);
      }
    });
  });

  describe("consistency", () => {
    const annViews = ["d1", "d2", "d5", "d6", "d7", ...PAGED];
    it.each<[string, () => WireConsistency | null]>([
      ["unset", () => null],
      ["minimize_latency", () => ({ minimizeLatency: true })],
      ["fully_consistent", () => ({ fullyConsistent: true })],
      ["at_least_as_fresh", () => ({ atLeastAsFresh: { token: writtenAt } })],
      ["at_exact_snapshot", () => ({ atExactSnapshot: { token: writtenAt } })],
    ])("answers with consistency %s", async (_mode, consistency) => {
      expect(sorted(resourceIds(await resources("view", "user:ann", { consistency: consistency() })))).toEqual(sorted(annViews));
      expect(sorted(subjectIds(await subjects("document:d1", "view", "user", { consistency: consistency() })))).toEqual(["ann", "bob", "eve"]);
    });
  });
});

describe.each(await storeKinds())("lookups after writes (%s store)", (_kind, openStore) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store: openStore });
    await writeLookupData(h.client);
  });
  afterAll(async () => {
    await h.close();
  });

  const annViews = async (consistency: WireConsistency) =>
    resourceIds(await collectResults(h.client.lookupResources(resourcesRequest("document", "view", "user:ann", { consistency }))));
  const viewersOf = async (resource: string, consistency: WireConsistency) =>
    subjectIds(await collectResults(h.client.lookupSubjects(subjectsRequest(resource, "view", "user", { consistency }))));

  it("sees a grant at_least_as_fresh as its write, never a revoked grant after its revocation, and the old data at the old snapshot", async () => {
    const granted = (await h.client.writeRelationships({ updates: [update("create", "document:fresh#viewer@user:ann")] })).writtenAt?.token ?? "";
    expect(await annViews({ atLeastAsFresh: { token: granted } })).toContain("fresh");
    expect(await viewersOf("document:fresh", { atLeastAsFresh: { token: granted } })).toEqual(["ann"]);

    const revoked = (await h.client.writeRelationships({ updates: [update("delete", "document:fresh#viewer@user:ann")] })).writtenAt?.token ?? "";
    expect(await annViews({ atLeastAsFresh: { token: revoked } })).not.toContain("fresh");
    expect(await viewersOf("document:fresh", { atLeastAsFresh: { token: revoked } })).toEqual([]);
    expect(await annViews({ minimizeLatency: true })).not.toContain("fresh");

    expect(await annViews({ atExactSnapshot: { token: granted } })).toContain("fresh");
    expect(await viewersOf("document:fresh", { atExactSnapshot: { token: granted } })).toEqual(["ann"]);
  });

  it("finishes a paged lookup at the revision of its first page, whatever is written meanwhile", async () => {
    const request = resourcesRequest("document", "view", "user:ann", { consistency: { fullyConsistent: true }, optionalLimit: 3 });
    const first = await collectResults(h.client.lookupResources(request));
    const before = resourceIds(await collectResults(h.client.lookupResources(resourcesRequest("document", "view", "user:ann", { consistency: { atExactSnapshot: { token: first[0]?.lookedUpAt?.token ?? "" } } }))));
    await h.client.writeRelationships({ updates: [update("touch", "document:later#viewer@user:ann"), update("delete", "document:d2#viewer@user:ann")] });
    const rest = await collectResults(h.client.lookupResources({ ...request, consistency: null, optionalLimit: 0, optionalCursor: first.at(-1)?.afterResultCursor ?? null }));
    expect([...resourceIds(first), ...resourceIds(rest)]).toEqual(before);
    expect(new Set(rest.map((response) => response.lookedUpAt?.token))).toEqual(new Set([first[0]?.lookedUpAt?.token]));
  });
});

describe("lookup messages over gRPC", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.client.writeSchema({ schema: LOOKUP_SCHEMA });
    // 1,250 documents in one folder: more results than one message carries.
    const documents = Array.from({ length: 1_250 }, (_, i) => update("touch", `document:many${i}#parent@folder:big`));
    for (let i = 0; i < documents.length; i += 500) await h.client.writeRelationships({ updates: documents.slice(i, i + 500) });
    await h.client.writeRelationships({ updates: [update("touch", "folder:big#viewer@user:reader"), update("touch", "folder:big#viewer@user:second")] });
  });
  afterAll(async () => {
    await h.close();
  });

  it("carry a small first batch, then larger ones, each resumable from its cursor", async () => {
    const messages = await collect(h.client.lookupResources(resourcesRequest("document", "view", "user:reader")));
    expect(messages.map((message) => message.results?.length)).toEqual([100, 1_000, 150]);
    const ids = messages.flatMap((message) => (message.results ?? []).map((result) => result.resourceObjectId ?? ""));
    expect(new Set(ids).size).toBe(1_250);
    expect(ids).toEqual([...ids].sort(compareLookupOrder));
    const resumed = await collectResults(h.client.lookupResources(resourcesRequest("document", "view", "user:reader", { optionalCursor: messages[0]?.afterResultCursor ?? null })));
    expect(resourceIds(resumed)).toEqual(ids.slice(100));
  });

  it("carry LookupSubjects results the same way", async () => {
    const messages = await collect(h.client.lookupSubjects(subjectsRequest("document:many7", "view", "user")));
    expect(messages.flatMap((message) => (message.results ?? []).map((result) => result.subject?.subjectObjectId)).sort()).toEqual(["reader", "second"]);
    expect(messages).toHaveLength(1);
  });
});
