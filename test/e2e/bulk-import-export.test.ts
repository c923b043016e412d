import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WireExportBulkRelationshipsResponse, WireRelationship } from "../../src/api/index.ts";
import { relationshipFromWire } from "../../src/api/index.ts";
import { formatRelationship } from "../../src/tuple/index.ts";
import { DRIVE_SCHEMA, rel, rejection, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";
import { storeKinds } from "./store-kinds.ts";

async function* batchesOf(lines: readonly string[], size: number): AsyncGenerator<{ relationships: WireRelationship[] }> {
  for (let start = 0; start < lines.length; start += size) yield { relationships: lines.slice(start, start + size).map(rel) };
}

const text = (relationships: readonly WireRelationship[] | null | undefined) =>
  (relationships ?? []).map((r) => formatRelationship(relationshipFromWire(r, "relationship")));

const DOCS = Array.from({ length: 2500 }, (_, i) => `document:doc${String(i).padStart(5, "0")}#viewer@user:u${i % 7}`);

describe.each(await storeKinds())("bulk import and export over gRPC (%s store)", (_kind, openStore) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ store: openStore });
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
  });
  afterEach(async () => {
    await h.close();
  });

  const exportAll = async (request: Parameters<Harness["client"]["exportBulkRelationships"]>[0]) => {
    const messages: WireExportBulkRelationshipsResponse[] = [];
    for await (const message of h.client.exportBulkRelationships(request)) messages.push(message);
    return messages;
  };

  it("imports in one revision and exports the same relationships back, in batches", async () => {
    const response = await h.client.importBulkRelationships(batchesOf(DOCS, 400));
    expect(Number(response.numLoaded)).toBe(DOCS.length);
    const messages = await exportAll({ consistency: { atLeastAsFresh: { token: response.writtenAt?.token ?? "" } } });
    expect(messages.map((m) => m.relationships?.length)).toEqual([1000, 1000, 500]);
    expect(messages.flatMap((m) => text(m.relationships))).toEqual(DOCS);
    expect(messages.every((m) => m.readAt?.token === response.writtenAt?.token)).toBe(true);
  });

  it("resumes an export by cursor at the revision pinned in it, not seeing later writes", async () => {
    await h.client.importBulkRelationships(batchesOf(DOCS, 1000));
    const first: WireExportBulkRelationshipsResponse[] = [];
    for await (const message of h.client.exportBulkRelationships({ optionalLimit: 300 })) {
      first.push(message);
      if (first.length === 2) break;
    }
    await h.client.writeRelationships({ updates: [update("touch", "document:doc00000#viewer@user:late"), update("delete", DOCS[1999] ?? "")] });
    const rest = await exportAll({ optionalLimit: 300, optionalCursor: first[1]?.afterResultCursor ?? null });
    expect([...first, ...rest].flatMap((m) => text(m.relationships))).toEqual(DOCS);
  });

  it("exports only what the filter selects", async () => {
    await h.client.importBulkRelationships(batchesOf([...DOCS.slice(0, 3), "folder:f#viewer@user:ann"], 10));
    const messages = await exportAll({ optionalRelationshipFilter: { resourceType: "folder" } });
    expect(messages.flatMap((m) => text(m.relationships))).toEqual(["folder:f#viewer@user:ann"]);
  });

  it.each<[string, string[], number, string]>([
    ["a relationship the schema does not allow", ["document:a#viewer@user:ann", "document:b#owner@group:eng#member"], status.INVALID_ARGUMENT, "message[1].relationships[1]"],
    ["an unknown relation", ["document:a#nope@user:ann"], status.FAILED_PRECONDITION, "message[1].relationships[0]"],
    ["a relationship that already exists", ["document:existing#viewer@user:ann"], status.ALREADY_EXISTS, "document:existing#viewer@user:ann"],
    ["the same relationship twice", ["document:x#viewer@user:ann", "document:x#viewer@user:ann"], status.ALREADY_EXISTS, "document:x#viewer@user:ann"],
  ])("refuses an import with %s and imports nothing of it", async (_what, lines, code, text_) => {
    await h.client.writeRelationships({ updates: [update("touch", "document:existing#viewer@user:ann")] });
    const failure = await rejection(h.client.importBulkRelationships(batchesOf([...DOCS.slice(0, 5), ...lines], 5)));
    expect(failure.code).toBe(code);
    expect(failure.details).toContain(text_);
    const messages = await exportAll({ consistency: { fullyConsistent: true } });
    expect(messages.flatMap((m) => text(m.relationships))).toEqual(["document:existing#viewer@user:ann"]);
  });

  it.each([
    ["fails mid-stream", async function* () {
      yield* batchesOf(DOCS.slice(0, 5), 5);
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error("a malformed line");
    }, undefined],
    ["lets its deadline pass mid-stream", async function* () {
      yield* batchesOf(DOCS.slice(0, 5), 5);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      yield* batchesOf(DOCS.slice(5, 10), 5);
    }, 500],
  ] as const)("commits nothing of an import whose client %s", async (_what, batches, deadlineMs) => {
    const before = await h.store.headRevision();
    const options = deadlineMs === undefined ? undefined : { deadline: new Date(Date.now() + deadlineMs) };
    await expect(h.client.importBulkRelationships(batches(), options)).rejects.toThrow();
    // Give the server the time an abandoned import would need to commit, then look.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await h.store.headRevision()).toBe(before);
    const messages = await exportAll({ consistency: { fullyConsistent: true } });
    expect(messages.flatMap((m) => text(m.relationships))).toEqual([]);
  });

  it.each<[string, () => Promise<string>, number, string]>([
    ["garbage", async () => "garbage", status.INVALID_ARGUMENT, "optional_cursor"],
    [
      "a cursor of another filter",
      async () => {
        for await (const m of h.client.exportBulkRelationships({ optionalLimit: 1, optionalRelationshipFilter: { resourceType: "document" } })) return m.afterResultCursor?.token ?? "";
        return "";
      },
      status.INVALID_ARGUMENT,
      "different optional_relationship_filter",
    ],
  ])("refuses to resume from %s", async (_what, cursor, code, text_) => {
    await h.client.importBulkRelationships(batchesOf(DOCS.slice(0, 3), 10));
    const failure = await rejection(exportAll({ optionalCursor: { token: await cursor() } }));
    expect(failure.code).toBe(code);
    expect(failure.details).toContain(text_);
  });
});
