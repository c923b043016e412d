import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectRef } from "../../src/tuple/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import { Engine } from "../../src/engine/index.ts";
import type {
  CheckRequest,
  CheckResult,
  ExpandTree,
  LookupOptions,
  LookupResourcesRequest,
  LookupResult,
  LookupSubjectsRequest,
  LookupSubjectsResult,
} from "../../src/engine/index.ts";
import type { Harness } from "./harness.ts";
import { rejection, startHarness } from "./harness.ts";

type Options = { readonly signal?: AbortSignal | undefined };

// An engine that never answers by itself: it waits for the request's signal and records that it
// saw it abort, so the test learns whether the call's cancellation reached the engine.
class WaitingEngine extends Engine {
  readonly started: string[] = [];
  readonly aborted: string[] = [];

  #wait(operation: string, options: Options): Promise<never> {
    this.started.push(operation);
    return new Promise((_, reject) => {
      options.signal?.addEventListener("abort", () => {
        this.aborted.push(operation);
        reject(new Error(`${operation} aborted`));
      });
    });
  }

  override check(_reader: RelationshipReader, _schema: Schema, _request: CheckRequest, options: Options = {}): Promise<CheckResult> {
    return this.#wait("check", options);
  }

  override checkBatch(_reader: RelationshipReader, _schema: Schema, _requests: readonly CheckRequest[], options: Options = {}): Promise<never> {
    return this.#wait("checkBatch", options);
  }

  override expand(_reader: RelationshipReader, _schema: Schema, _resource: ObjectRef, _permission: string, options: Options = {}): Promise<ExpandTree> {
    return this.#wait("expand", options);
  }

  override lookupResources(_reader: RelationshipReader, _schema: Schema, _request: LookupResourcesRequest, options: LookupOptions = {}): Promise<Iterable<LookupResult>> {
    return this.#wait("lookupResources", options);
  }

  override lookupSubjects(_reader: RelationshipReader, _schema: Schema, _request: LookupSubjectsRequest, options: LookupOptions = {}): Promise<Iterable<LookupSubjectsResult>> {
    return this.#wait("lookupSubjects", options);
  }
}

// drain reads a stream to its end (or its error).
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

const resource = { objectType: "document", objectId: "readme" };
const subject = { object: { objectType: "user", objectId: "ann" } };

describe("a call whose deadline passes", () => {
  const engine = new WaitingEngine();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ engine });
    await h.client.writeSchema({ schema: "definition user {}\n\ndefinition document {\n  relation viewer: user\n}\n" });
  });
  afterAll(async () => {
    await h.close();
  });

  const soon = () => ({ deadline: new Date(Date.now() + 200) });

  it.each([
    ["check", () => h.client.check({ resource, permission: "viewer", subject }, soon())],
    ["checkBatch", () => h.client.checkBulk({ items: [{ resource, permission: "viewer", subject }] }, soon())],
    ["expand", () => h.client.expand({ resource, permission: "viewer" }, soon())],
    ["lookupResources", () => drain(h.client.lookupResources({ resourceObjectType: "document", permission: "viewer", subject }, soon()))],
    ["lookupSubjects", () => drain(h.client.lookupSubjects({ resource, permission: "viewer", subjectObjectType: "user" }, soon()))],
  ])("stops the engine's %s", async (operation, call) => {
    const failure = await rejection(call());
    expect(failure.code).toBe(status.DEADLINE_EXCEEDED);
    await expect.poll(() => engine.aborted).toContain(operation);
  });
});

describe("a streaming call whose client goes away", () => {
  const engine = new WaitingEngine();
  let h: Harness;
  beforeAll(async () => {
    // One stream per key at most: a slot left taken by an abandoned call would refuse the next.
    h = await startHarness({ engine, limits: { maxStreamsPerKey: 1 } });
    await h.client.writeSchema({ schema: "definition user {}\n\ndefinition document {\n  relation viewer: user\n}\n" });
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([
    ["lookupResources", (signal: AbortSignal) => drain(h.client.lookupResources({ resourceObjectType: "document", permission: "viewer", subject }, { signal }))],
    ["lookupSubjects", (signal: AbortSignal) => drain(h.client.lookupSubjects({ resource, permission: "viewer", subjectObjectType: "user" }, { signal }))],
  ])("stops the engine's %s and frees the key's stream slot", async (operation, call) => {
    const cancel = new AbortController();
    const pending = rejection(call(cancel.signal));
    // The call is open on the server once the engine has been asked (the slot is taken by then).
    await expect.poll(() => engine.started).toContain(operation);
    cancel.abort();
    expect((await pending).code).toBe(status.CANCELLED);
    await expect.poll(() => engine.aborted).toContain(operation);
    // The slot came back: the next stream of the same key is served (and is itself cancelled).
    const next = new AbortController();
    const again = rejection(call(next.signal));
    await expect.poll(() => engine.started.filter((started) => started === operation).length).toBe(2);
    next.abort();
    expect((await again).code).toBe(status.CANCELLED);
  });
});
