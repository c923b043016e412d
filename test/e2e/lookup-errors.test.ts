import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WireLookupResourcesRequest, WireLookupSubjectsRequest } from "../../src/api/index.ts";
import { datastoreTagOf, toWireStruct } from "../../src/api/index.ts";
import { Engine } from "../../src/engine/index.ts";
import type { LookupOptions, LookupResourcesRequest, LookupResult, LookupSubjectsRequest, LookupSubjectsResult } from "../../src/engine/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import type { Harness } from "./harness.ts";
import { rejection, startHarness, update } from "./harness.ts";
import { LOOKUP_SCHEMA, collect, collectResults, resourcesRequest, subjectsRequest, writeLookupData } from "./lookup-fixture.ts";

describe("lookups refuse bad input", () => {
  let h: Harness;
  let writtenAt: string;
  let cursor: string;
  let latest: string;
  beforeAll(async () => {
    h = await startHarness();
    writtenAt = await writeLookupData(h.client);
    const first = await collectResults(h.client.lookupResources(resourcesRequest("document", "view", "user:ann", { optionalLimit: 2 })));
    cursor = first.at(-1)?.afterResultCursor?.token ?? "";
    // A later revision, so that the cursor's revision is not the newest.
    latest = (await h.client.writeRelationships({ updates: [update("touch", "document:later#viewer@user:ann")] })).writtenAt?.token ?? "";
  });
  afterAll(async () => {
    await h.close();
  });

  const resources = (request: WireLookupResourcesRequest) => rejection(collect(h.client.lookupResources(request)));
  const subjects = (request: WireLookupSubjectsRequest) => rejection(collect(h.client.lookupSubjects(request)));
  const resumed = (more: Partial<WireLookupResourcesRequest>) => resourcesRequest("document", "view", "user:ann", { optionalCursor: { token: cursor }, ...more });

  it.each<[string, () => WireLookupResourcesRequest, status, string]>([
    ["an unknown resource type", () => resourcesRequest("nothing", "view", "user:ann"), status.FAILED_PRECONDITION, "resource_object_type"],
    ["a missing resource type", () => resourcesRequest("", "view", "user:ann"), status.INVALID_ARGUMENT, "resource_object_type"],
    ["an unknown permission", () => resourcesRequest("document", "nothing", "user:ann"), status.FAILED_PRECONDITION, "permission"],
    ["an unknown subject type", () => resourcesRequest("document", "view", "nothing:ann"), status.FAILED_PRECONDITION, "subject.object.object_type"],
    ["an unknown subject relation", () => resourcesRequest("document", "view", "group:eng#nothing"), status.FAILED_PRECONDITION, "subject.optional_relation"],
    ["a wildcard subject", () => resourcesRequest("document", "view", "user:*"), status.INVALID_ARGUMENT, "subject.object.object_id"],
    ["a limit above the maximum", () => resourcesRequest("document", "view", "user:ann", { optionalLimit: 1001 }), status.INVALID_ARGUMENT, "optional_limit"],
    ["a malformed cursor", () => resumed({ optionalCursor: { token: "ml1_garbage" } }), status.INVALID_ARGUMENT, "optional_cursor"],
    ["a cursor of another subject", () => ({ ...resumed({}), subject: { object: { objectType: "user", objectId: "bob" } } }), status.INVALID_ARGUMENT, "optional_cursor"],
    ["a cursor of another permission", () => ({ ...resumed({}), permission: "review" }), status.INVALID_ARGUMENT, "optional_cursor"],
    ["a cursor of another context", () => resumed({ context: toWireStruct({ ip: "10.0.0.1" }) }), status.INVALID_ARGUMENT, "optional_cursor"],
  ])("refuses %s, naming the field", async (_case, request, code, field) => {
    const failure = await resources(request());
    expect(failure.code).toBe(code);
    expect(failure.details).toMatch(new RegExp(`^${field.replaceAll(".", "\\.")}: `));
  });

  it("names the maximum when the limit is above it", async () => {
    const failure = await resources(resourcesRequest("document", "view", "user:ann", { optionalLimit: 5000 }));
    expect(failure.details).toContain("maximum of 1000 (maxLookupPageSize)");
  });

  it.each<[string, () => WireLookupSubjectsRequest, status, string]>([
    ["an unknown resource type", () => subjectsRequest("nothing:d1", "view", "user"), status.FAILED_PRECONDITION, "resource.object_type"],
    ["a malformed resource id", () => subjectsRequest("document:bad id", "view", "user"), status.INVALID_ARGUMENT, "resource.object_id"],
    ["an unknown permission", () => subjectsRequest("document:d1", "nothing", "user"), status.FAILED_PRECONDITION, "permission"],
    ["an unknown subject type", () => subjectsRequest("document:d1", "view", "nothing"), status.FAILED_PRECONDITION, "subject_object_type"],
    ["a missing subject type", () => subjectsRequest("document:d1", "view", ""), status.INVALID_ARGUMENT, "subject_object_type"],
    ["an unknown subject relation", () => subjectsRequest("document:d1", "view", "group", { optionalSubjectRelation: "nothing" }), status.FAILED_PRECONDITION, "optional_subject_relation"],
    ["a limit above the maximum", () => subjectsRequest("document:d1", "view", "user", { optionalLimit: 1001 }), status.INVALID_ARGUMENT, "optional_limit"],
    ["a LookupResources cursor", () => subjectsRequest("document:d1", "view", "user", { optionalCursor: { token: cursor } }), status.INVALID_ARGUMENT, "optional_cursor"],
  ])("LookupSubjects refuses %s, naming the field", async (_case, request, code, field) => {
    const failure = await subjects(request());
    expect(failure.code).toBe(code);
    expect(failure.details).toMatch(new RegExp(`^${field.replaceAll(".", "\\.")}: `));
  });

  it("says which call a cursor of the other lookup came from", async () => {
    const failure = await subjects(subjectsRequest("document:d1", "view", "user", { optionalCursor: { token: cursor } }));
    expect(failure.details).toContain("issued by LookupResources, not LookupSubjects");
  });

  it("refuses a ReadRelationships cursor as malformed", async () => {
    const read = await collect(h.client.readRelationships({ relationshipFilter: { resourceType: "document" }, optionalLimit: 1 }));
    const failure = await resources(resumed({ optionalCursor: read[0]?.afterResultCursor ?? null }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain("optional_cursor: the cursor is malformed");
  });

  it.each<[string, () => Partial<WireLookupResourcesRequest>, string]>([
    ["at_exact_snapshot of another revision", () => ({ consistency: { atExactSnapshot: { token: latest } } }), "consistency.at_exact_snapshot"],
    ["at_least_as_fresh of a newer revision", () => ({ consistency: { atLeastAsFresh: { token: latest } } }), "consistency.at_least_as_fresh"],
    ["fully_consistent", () => ({ consistency: { fullyConsistent: true } }), "fully_consistent"],
  ])("refuses a cursor with consistency %s, saying which", async (_case, more, named) => {
    const failure = await resources(resumed(more()));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toMatch(/^optional_cursor: /);
    expect(failure.details).toContain(named);
  });

  it.each<[string, () => Partial<WireLookupResourcesRequest>]>([
    ["no consistency", () => ({})],
    ["minimize_latency", () => ({ consistency: { minimizeLatency: true } })],
    ["at_exact_snapshot of its own revision", () => ({ consistency: { atExactSnapshot: { token: writtenAt } } })],
    ["at_least_as_fresh of its own revision", () => ({ consistency: { atLeastAsFresh: { token: writtenAt } } })],
  ])("resumes a cursor with %s at the cursor's revision", async (_case, more) => {
    const rest = await collectResults(h.client.lookupResources(resumed(more())));
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.map((response) => response.resourceObjectId)).not.toContain("later");
    expect(new Set(rest.map((response) => response.lookedUpAt?.token))).toEqual(new Set([writtenAt]));
  });

  it("refuses a cursor of another datastore", async () => {
    const body = JSON.parse(Buffer.from(cursor.slice(4), "base64url").toString("utf8")) as Record<string, unknown>;
    const foreign = `ml1_${Buffer.from(JSON.stringify({ ...body, d: datastoreTagOf("another datastore") })).toString("base64url")}`;
    const failure = await resources(resumed({ optionalCursor: { token: foreign } }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain("optional_cursor: token is from another datastore");
  });
});

// An engine whose lookups, once started, wait for the request's signal, recording that it aborted:
// the test learns whether the call's end reached the engine.
class WaitingLookupEngine extends Engine {
  readonly started: string[] = [];
  readonly aborted: string[] = [];

  async #waitForAbort(operation: string, signal: AbortSignal | undefined): Promise<never> {
    this.started.push(operation);
    await new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
    this.aborted.push(operation);
    throw new Error(`${operation} aborted`);
  }

  override async lookupResources(_reader: RelationshipReader, _schema: Schema, _request: LookupResourcesRequest, options: LookupOptions = {}): Promise<Iterable<LookupResult>> {
    return this.#waitForAbort("lookupResources", options.signal);
  }

  override async lookupSubjects(_reader: RelationshipReader, _schema: Schema, _request: LookupSubjectsRequest, options: LookupOptions = {}): Promise<Iterable<LookupSubjectsResult>> {
    return this.#waitForAbort("lookupSubjects", options.signal);
  }
}

describe("a lookup stream that ends early", () => {
  const engine = new WaitingLookupEngine();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ engine });
    await h.client.writeSchema({ schema: LOOKUP_SCHEMA });
  });
  afterAll(async () => {
    await h.close();
  });

  const streams = {
    lookupResources: (options: { deadline?: Date; signal?: AbortSignal }) => h.client.lookupResources(resourcesRequest("document", "view", "user:ann"), options),
    lookupSubjects: (options: { deadline?: Date; signal?: AbortSignal }) => h.client.lookupSubjects(subjectsRequest("document:d1", "view", "user"), options),
  };

  it.each(["lookupResources", "lookupSubjects"] as const)("stops the engine's %s when the client cancels the call", async (operation) => {
    const controller = new AbortController();
    const reading = collect<unknown>(streams[operation]({ signal: controller.signal })).catch((error: unknown) => error);
    await expect.poll(() => engine.started.filter((name) => name === operation).length).toBe(1);
    controller.abort();
    expect(await reading).toMatchObject({ code: status.CANCELLED });
    await expect.poll(() => engine.aborted.filter((name) => name === operation).length).toBe(1);
  });

  it.each(["lookupResources", "lookupSubjects"] as const)("stops the engine's %s when the deadline passes", async (operation) => {
    const failure = await rejection(collect<unknown>(streams[operation]({ deadline: new Date(Date.now() + 200) })));
    expect(failure.code).toBe(status.DEADLINE_EXCEEDED);
    await expect.poll(() => engine.aborted.filter((name) => name === operation).length).toBe(2);
  });
});
