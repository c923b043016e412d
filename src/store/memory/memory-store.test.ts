import { describe, expect, it } from "vitest";
import { FailedPreconditionError, parseRelationship } from "../../tuple/index.ts";
import { runStoreConformance } from "../store.conformance.ts";
import { MemoryStore } from "./memory-store.ts";

runStoreConformance("MemoryStore", async (options) => new MemoryStore(options));

describe("MemoryStore beyond the contract", () => {
  it("refuses a snapshot newer than the head at once, not at the first read", async () => {
    const store = new MemoryStore();
    expect(() => store.snapshot(1)).toThrow(FailedPreconditionError);
  });

  it("returns frozen relationships, so one caller cannot change what another reads", async () => {
    const store = new MemoryStore();
    const revision = await store.write([{ operation: "touch", relationship: parseRelationship('document:a#viewer@user:ann[on_weekdays:{"tz":"UTC"}]') }]);
    const [read] = await store.snapshot(revision).queryRelationships({});
    expect(Object.isFrozen(read)).toBe(true);
    expect(Object.isFrozen(read?.subject)).toBe(true);
    expect(Object.isFrozen(read?.caveat?.context)).toBe(true);
  });

  it("keeps a relationship visible to a reader after it expires, and hides it from a later snapshot", async () => {
    let clock = Date.parse("2030-01-01T00:00:00Z");
    const store = new MemoryStore({ now: () => clock });
    const expiresAt = new Date(clock + 30_000);
    const revision = await store.write([
      { operation: "touch", relationship: { ...parseRelationship("document:a#viewer@user:ann"), expiresAt } },
    ]);
    const reader = store.snapshot(revision);
    expect(await reader.queryRelationships({})).toHaveLength(1);
    clock += 30_000;
    expect(await reader.queryRelationships({})).toHaveLength(1);
    expect(await store.snapshot(revision).queryRelationships({})).toHaveLength(0);
  });
});
