import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WireWatchRequest, WireWatchResponse } from "../../src/api/index.ts";
import { datastoreTagOf, decodeZedToken, encodeZedToken, relationshipFromWire } from "../../src/api/index.ts";
import { formatRelationship } from "../../src/tuple/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { ChangeSet } from "../../src/store/index.ts";
import { DRIVE_SCHEMA, rejection, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";
import { storeKinds } from "./store-kinds.ts";

/** WatchReader pulls Watch messages one at a time, so that a test can write between them. */
class WatchReader {
  readonly #iterator: AsyncIterator<WireWatchResponse>;
  constructor(stream: AsyncIterable<WireWatchResponse>) {
    this.#iterator = stream[Symbol.asyncIterator]();
  }
  async next(): Promise<WireWatchResponse> {
    const result = await this.#iterator.next();
    if (result.done) throw new Error("the watch ended");
    return result.value;
  }
  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}

const describeChanges = (message: WireWatchResponse) =>
  (message.updates ?? []).map((u) => `${u.operation === "OPERATION_DELETE" ? "-" : "+"}${formatRelationship(relationshipFromWire(u.relationship, "relationship"))}`);

describe.each(await storeKinds())("Watch over gRPC (%s store)", (_kind, openStore) => {
  let h: Harness;
  let schemaToken: string;
  beforeEach(async () => {
    h = await startHarness({ store: openStore });
    schemaToken = (await h.client.writeSchema({ schema: DRIVE_SCHEMA })).writtenAt?.token ?? "";
  });
  afterEach(async () => {
    await h.close();
  });

  const write = async (...updates: ReturnType<typeof update>[]) => (await h.client.writeRelationships({ updates })).writtenAt?.token ?? "";
  const watch = (request: WireWatchRequest) => new WatchReader(h.client.watch(request));

  it("streams each write's changes in order, with the write's token as changes_through", async () => {
    const reader = watch({ optionalStartCursor: { token: schemaToken } });
    const first = await write(update("touch", "document:a#viewer@user:ann"), update("touch", "document:b#viewer@user:bob"));
    const second = await write(update("delete", "document:a#viewer@user:ann"));
    const m1 = await reader.next();
    const m2 = await reader.next();
    expect(describeChanges(m1)).toEqual(["+document:a#viewer@user:ann", "+document:b#viewer@user:bob"]);
    expect(m1.changesThrough?.token).toBe(first);
    expect(describeChanges(m2)).toEqual(["-document:a#viewer@user:ann"]);
    expect(m2.changesThrough?.token).toBe(second);
    await reader.close();
  });

  it("without a start cursor streams only changes made after the call", async () => {
    await write(update("touch", "document:old#viewer@user:ann"));
    const reader = watch({});
    // The call starts with the first pull; give the server time to start its watch before writing.
    const pending = reader.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const token = await write(update("touch", "document:new#viewer@user:ann"));
    const message = await pending;
    expect(describeChanges(message)).toEqual(["+document:new#viewer@user:ann"]);
    expect(message.changesThrough?.token).toBe(token);
    await reader.close();
  });

  it("resumed with the last changes_through after a disconnect, has no gaps and no duplicates", async () => {
    const seen: string[] = [];
    let cursor = schemaToken;
    let next = 0;
    for (let round = 0; round < 4; round++) {
      const reader = watch({ optionalStartCursor: { token: cursor } });
      // Writes made while disconnected (and while connected) must all arrive exactly once.
      for (let i = 0; i < 3; i++) await write(update("touch", `document:d${next++}#viewer@user:ann`));
      for (let i = 0; i < 2; i++) {
        const message = await reader.next();
        seen.push(...describeChanges(message));
        cursor = message.changesThrough?.token ?? cursor;
      }
      await reader.close();
    }
    const reader = watch({ optionalStartCursor: { token: cursor } });
    while (seen.length < next) {
      const message = await reader.next();
      seen.push(...describeChanges(message));
    }
    await reader.close();
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => `+document:d${i}#viewer@user:ann`));
  });

  it("keeps only the resource types asked for, and still moves the resume point past the rest", async () => {
    const reader = watch({ optionalStartCursor: { token: schemaToken }, optionalObjectTypes: ["folder"] });
    const documentOnly = await write(update("touch", "document:a#viewer@user:ann"));
    const both = await write(update("touch", "document:b#viewer@user:ann"), update("touch", "folder:f#viewer@user:ann"));
    const progress = await reader.next();
    expect(describeChanges(progress)).toEqual([]);
    expect(progress.changesThrough?.token).toBe(documentOnly);
    const message = await reader.next();
    expect(describeChanges(message)).toEqual(["+folder:f#viewer@user:ann"]);
    expect(message.changesThrough?.token).toBe(both);
    await reader.close();
  });

  it.each<[string, () => WireWatchRequest, number, string]>([
    ["a garbage start cursor", () => ({ optionalStartCursor: { token: "garbage" } }), status.INVALID_ARGUMENT, "optional_start_cursor"],
    ["a start cursor of another datastore", () => ({ optionalStartCursor: { token: encodeZedToken(datastoreTagOf("elsewhere"), 1) } }), status.INVALID_ARGUMENT, "token is from another datastore"],
    [
      "a start cursor from the future",
      () => ({ optionalStartCursor: { token: encodeZedToken(decodeZedToken(schemaToken, "t").datastoreTag, 999) } }),
      status.FAILED_PRECONDITION,
      "token is from the future",
    ],
    ["a malformed object type", () => ({ optionalObjectTypes: ["Not A Type"] }), status.INVALID_ARGUMENT, "optional_object_types[0]"],
  ])("refuses %s", async (_what, request, code, text) => {
    const failure = await rejection(new WatchReader(h.client.watch(request())).next());
    expect(failure.code).toBe(code);
    expect(failure.details).toContain(text);
  });

  it("refuses a start cursor older than the kept history as expired", async () => {
    await write(update("touch", "document:a#viewer@user:ann"));
    await write(update("delete", "document:a#viewer@user:ann"));
    await h.store.garbageCollect(new Date(Date.now() + 1000));
    const failure = await rejection(watch({ optionalStartCursor: { token: schemaToken } }).next());
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toContain("optional_start_cursor: token expired");
  });

  it("ends open watches with UNAVAILABLE when the server shuts down, so that clients reconnect", async () => {
    const reader = watch({});
    const pending = rejection(reader.next());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await h.close();
    const failure = await pending;
    expect(failure.code).toBe(status.UNAVAILABLE);
    h = await startHarness({ store: openStore });
  });
});

describe("Watch and the store's change stream", () => {
  it("aborts the store's watch when the client goes away", async () => {
    const signals: AbortSignal[] = [];
    class SpyStore extends MemoryStore {
      override async *watch(afterRevision: number, signal: AbortSignal): AsyncIterable<ChangeSet> {
        signals.push(signal);
        yield* super.watch(afterRevision, signal);
      }
    }
    // Without the graph index, whose follower would be a second watcher of the store.
    const h = await startHarness({ store: async () => new SpyStore(), index: false });
    try {
      await h.client.writeSchema({ schema: DRIVE_SCHEMA });
      const cancel = new AbortController();
      const reader = new WatchReader(h.client.watch({}, { signal: cancel.signal }));
      const pending = rejection(reader.next());
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(signals.map((signal) => signal.aborted)).toEqual([false]);
      cancel.abort();
      expect((await pending).code).toBe(status.CANCELLED);
      for (let i = 0; i < 50 && signals[0]?.aborted !== true; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(signals[0]?.aborted).toBe(true);
    } finally {
      await h.close();
    }
  });
});
