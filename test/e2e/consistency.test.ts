import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WireCheckPermissionRequest, WireConsistency } from "../../src/api/index.ts";
import { datastoreTagOf, decodeZedToken, encodeZedToken } from "../../src/api/index.ts";
import { DRIVE_SCHEMA, rejection, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";
import { storeKinds } from "./store-kinds.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { ChangeSet, WatchOptions } from "../../src/store/index.ts";
import { parseRelationship } from "../../src/tuple/index.ts";
import type { Revision } from "../../src/tuple/index.ts";

const ANN_VIEWS_README: WireCheckPermissionRequest = {
  resource: { objectType: "document", objectId: "readme" },
  permission: "view",
  subject: { object: { objectType: "user", objectId: "ann" } },
};

describe.each(await storeKinds())("consistency over gRPC (%s store)", (_kind, openStore) => {
  let h: Harness;
  let grantedAt: string;
  let revokedAt: string;
  beforeEach(async () => {
    h = await startHarness({ store: openStore });
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    grantedAt = (await h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:ann")] })).writtenAt?.token ?? "";
    revokedAt = (await h.client.writeRelationships({ updates: [update("delete", "document:readme#viewer@user:ann")] })).writtenAt?.token ?? "";
  });
  afterEach(async () => {
    await h.close();
  });

  const check = (consistency: WireConsistency | null) => h.client.check({ ...ANN_VIEWS_README, consistency });

  it.each<[string, () => WireConsistency | null]>([
    ["unset", () => null],
    ["minimize_latency", () => ({ minimizeLatency: true })],
    ["fully_consistent", () => ({ fullyConsistent: true })],
    ["at_least_as_fresh the revocation", () => ({ atLeastAsFresh: { token: revokedAt } })],
    ["at_least_as_fresh an older token", () => ({ atLeastAsFresh: { token: grantedAt } })],
  ])("never sees revoked access with consistency %s", async (_mode, consistency) => {
    const response = await check(consistency());
    expect(response.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
    expect(response.checkedAt?.token).toBe(revokedAt);
  });

  it("sees the old data at_exact_snapshot of an older token", async () => {
    const response = await check({ atExactSnapshot: { token: grantedAt } });
    expect(response.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    expect(response.checkedAt?.token).toBe(grantedAt);
    const read = [];
    for await (const item of h.client.readRelationships({ relationshipFilter: { resourceType: "document" }, consistency: { atExactSnapshot: { token: grantedAt } } })) {
      read.push(item);
    }
    expect(read.map((item) => item.relationship?.subject?.object?.objectId)).toEqual(["ann"]);
    expect(read[0]?.readAt?.token).toBe(grantedAt);
  });

  it.each([
    ["atLeastAsFresh", "consistency.at_least_as_fresh"],
    ["atExactSnapshot", "consistency.at_exact_snapshot"],
  ])("rejects a garbage %s token with INVALID_ARGUMENT naming the field", async (mode, field) => {
    const failure = await rejection(check({ [mode]: { token: "not-a-token" } }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain(field);
  });

  it.each(["atLeastAsFresh", "atExactSnapshot"])("rejects a %s token from the future with FAILED_PRECONDITION", async (mode) => {
    const tag = decodeZedToken(revokedAt, "revokedAt").datastoreTag;
    const failure = await rejection(check({ [mode]: { token: encodeZedToken(tag, 1_000_000) } }));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toContain("token is from the future");
  });

  it.each([
    ["atLeastAsFresh", "consistency.at_least_as_fresh"],
    ["atExactSnapshot", "consistency.at_exact_snapshot"],
  ])("rejects a %s token of another datastore with INVALID_ARGUMENT, even for a revision that exists here", async (mode, field) => {
    const failure = await rejection(check({ [mode]: { token: encodeZedToken(datastoreTagOf("another datastore"), 1) } }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain(`${field}: token is from another datastore`);
  });

  it("rejects a token from another server's store, with the other server's real token", async () => {
    const other = await startHarness();
    try {
      const foreign = (await other.client.writeSchema({ schema: DRIVE_SCHEMA })).writtenAt?.token ?? "";
      const failure = await rejection(check({ atLeastAsFresh: { token: foreign } }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toContain("token is from another datastore");
    } finally {
      await other.close();
    }
  });

  it("refuses an exact snapshot older than the kept history as expired, but still serves at_least_as_fresh of it at the head", async () => {
    await h.store.garbageCollect(new Date(Date.now() + 1000));
    const failure = await rejection(check({ atExactSnapshot: { token: grantedAt } }));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toContain("consistency.at_exact_snapshot: token expired");
    expect(failure.details).toContain("older than the GC window");
    const response = await check({ atLeastAsFresh: { token: grantedAt } });
    expect(response.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
    expect(response.checkedAt?.token).toBe(revokedAt);
  });

  it("returns tokens that increase with every write", async () => {
    const next = (await h.client.writeRelationships({ updates: [update("touch", "document:readme#viewer@user:bob")] })).writtenAt?.token ?? "";
    expect(next).not.toBe(revokedAt);
    const response = await check({ atLeastAsFresh: { token: revokedAt } });
    expect(response.checkedAt?.token).toBe(next);
  });
});

/** LaggingStore is a MemoryStore whose watch holds back change sets while `lagging`: a graph index following it falls behind. */
class LaggingStore extends MemoryStore {
  lagging = false;
  #resume: (() => void) | undefined;

  override async *watch(afterRevision: Revision, signal: AbortSignal, options?: WatchOptions): AsyncIterable<ChangeSet> {
    for await (const changeSet of super.watch(afterRevision, signal, options)) {
      while (this.lagging) await new Promise<void>((resolve) => (this.#resume = resolve));
      yield changeSet;
    }
  }

  catchUp(): void {
    this.lagging = false;
    this.#resume?.();
  }
}

describe("consistency while the graph index lags behind the store", () => {
  let h: Harness;
  let store: LaggingStore;
  let grantedAt: string;
  beforeEach(async () => {
    store = new LaggingStore();
    h = await startHarness({ store: async () => store });
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    grantedAt = (await h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:ann")] })).writtenAt?.token ?? "";
    store.lagging = true;
  });
  afterEach(async () => {
    store.catchUp();
    await h.close();
  });

  const check = (consistency: WireConsistency | null) => h.client.check({ ...ANN_VIEWS_README, consistency });

  it.each<[string, (revokedAt: string) => WireConsistency | null]>([
    ["minimize_latency", () => ({ minimizeLatency: true })],
    ["fully_consistent", () => ({ fullyConsistent: true })],
    ["at_least_as_fresh the revocation", (revokedAt) => ({ atLeastAsFresh: { token: revokedAt } })],
  ])("never answers from before a revocation made through the same server, with %s", async (_mode, consistency) => {
    const revokedAt = (await h.client.writeRelationships({ updates: [update("delete", "document:readme#viewer@user:ann")] })).writtenAt?.token ?? "";
    const response = await check(consistency(revokedAt));
    expect(response.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
    expect(response.checkedAt?.token).toBe(revokedAt);
  });

  it("answers minimize_latency from the index's revision for a write made elsewhere, naming that revision in its token, and fully_consistent from the newest", async () => {
    // Another replica's write: straight to the store, so this server has not seen it.
    await store.write([{ operation: "delete", relationship: parseRelationship("document:readme#viewer@user:ann") }]);
    const latest = await check({ minimizeLatency: true });
    expect(latest.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    expect(latest.checkedAt?.token).toBe(grantedAt);
    const consistent = await check({ fullyConsistent: true });
    expect(consistent.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
    expect(decodeZedToken(consistent.checkedAt?.token ?? "", "token").revision).toBe(await store.headRevision());
  });
});
