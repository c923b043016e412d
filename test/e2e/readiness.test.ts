import { afterEach, describe, expect, it } from "vitest";
import { LIVENESS_SERVICE } from "../../src/api/index.ts";
import { MemoryStore, StoreUnavailableError } from "../../src/store/index.ts";
import type { ChangeSet, WatchOptions } from "../../src/store/index.ts";
import { parseRelationship } from "../../src/tuple/index.ts";
import { DRIVE_SCHEMA, startHarness } from "./harness.ts";
import type { Harness } from "./harness.ts";

// Readiness ("" in the gRPC health service) follows the graph index: NOT_SERVING until the index
// follows the store's head, and again while the store's watch fails; liveness does not.

/** OutageStore is a MemoryStore whose watches fail while it is down; goDown also breaks the open ones. */
class OutageStore extends MemoryStore {
  #down = false;
  readonly #open = new Set<AbortController>();

  goDown(): void {
    this.#down = true;
    for (const watch of this.#open) watch.abort();
  }

  comeBack(): void {
    this.#down = false;
  }

  override async *watch(afterRevision: number, signal: AbortSignal, options?: WatchOptions): AsyncIterable<ChangeSet> {
    if (this.#down) throw new StoreUnavailableError("the store is down (test)");
    const local = new AbortController();
    const forward = (): void => local.abort();
    signal.addEventListener("abort", forward, { once: true });
    this.#open.add(local);
    try {
      yield* super.watch(afterRevision, local.signal, options);
    } finally {
      this.#open.delete(local);
      signal.removeEventListener("abort", forward);
    }
  }
}

async function statusEventually(h: Harness, service: string, expected: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  let status = await h.client.health(service);
  while (status !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await h.client.health(service);
  }
  return status;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function storeWithData(down: boolean): Promise<OutageStore> {
  const store = new OutageStore();
  await store.writeSchema(DRIVE_SCHEMA, async () => {});
  await store.write([{ operation: "touch", relationship: parseRelationship("document:readme#viewer@user:ann") }]);
  if (down) store.goDown();
  return store;
}

describe("readiness", () => {
  it("is NOT_SERVING while the graph index cannot follow the store at start, and SERVING once it has caught up", async () => {
    const store = await storeWithData(true);
    h = await startHarness({ store: async () => store });
    // Held back for a while: the follower retries the watch and keeps failing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await h.client.health("")).toBe("NOT_SERVING");
    expect(await h.client.health(LIVENESS_SERVICE)).toBe("SERVING");
    store.comeBack();
    expect(await statusEventually(h, "", "SERVING")).toBe("SERVING");
  });

  it("turns NOT_SERVING when the store's watch breaks off, and SERVING again once the index has caught up", async () => {
    const store = await storeWithData(false);
    h = await startHarness({ store: async () => store });
    expect(await statusEventually(h, "", "SERVING")).toBe("SERVING");
    store.goDown();
    expect(await statusEventually(h, "", "NOT_SERVING")).toBe("NOT_SERVING");
    expect(await h.client.health(LIVENESS_SERVICE)).toBe("SERVING");
    store.comeBack();
    expect(await statusEventually(h, "", "SERVING")).toBe("SERVING");
  });

  it("is SERVING at once without a graph index (the plain walk on the store needs no catching up)", async () => {
    h = await startHarness({ index: false });
    expect(await h.client.health("")).toBe("SERVING");
  });
});
