import type { WireCheckDebugTrace } from "../../src/api/index.ts";
import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WireCheckPermissionRequest, WireReadRelationshipsRequest, WireRelationshipFilter } from "../../src/api/index.ts";
import { DRIVE_SCHEMA, rejection, rel, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";

function checkRequest(resource: string, permission: string, subject: string): WireCheckPermissionRequest {
  const [resourceType, resourceId] = resource.split(":");
  const [subjectObject, subjectRelation] = subject.split("#");
  const [subjectType, subjectId] = (subjectObject ?? "").split(":");
  return {
    resource: { objectType: resourceType, objectId: resourceId },
    permission,
    subject: { object: { objectType: subjectType, objectId: subjectId }, optionalRelation: subjectRelation ?? "" },
  };
}

async function readAll(h: Harness, request: WireReadRelationshipsRequest): Promise<string[]> {
  const texts: string[] = [];
  for await (const item of h.client.readRelationships(request)) texts.push(relText(item.relationship));
  return texts;
}

function relText(relationship: ReturnType<typeof rel> | null | undefined): string {
  const r = relationship!;
  const subjectRelation = r.subject?.optionalRelation ? `#${r.subject.optionalRelation}` : "";
  return `${r.resource?.objectType}:${r.resource?.objectId}#${r.relation}@${r.subject?.object?.objectType}:${r.subject?.object?.objectId}${subjectRelation}`;
}

const SEED = [
  "folder:root#viewer@group:eng#member",
  "group:eng#member@user:ann",
  "document:readme#parent@folder:root",
  "document:readme#owner@user:bob",
  "document:readme#banned@user:eve",
  "document:readme#viewer@user:eve",
  "document:plan#viewer@user:carl",
];

describe("PermissionsService over gRPC", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    await h.client.writeRelationships({ updates: SEED.map((text) => update("create", text)) });
  });
  afterEach(async () => {
    await h.close();
  });

  describe("CheckPermission", () => {
    it.each([
      ["document:readme", "view", "user:ann", "PERMISSIONSHIP_HAS_PERMISSION"],
      ["document:readme", "edit", "user:bob", "PERMISSIONSHIP_HAS_PERMISSION"],
      ["document:readme", "view", "user:eve", "PERMISSIONSHIP_NO_PERMISSION"],
      ["document:readme", "edit", "user:ann", "PERMISSIONSHIP_NO_PERMISSION"],
      ["document:plan", "view", "user:ann", "PERMISSIONSHIP_NO_PERMISSION"],
    ])("answers %s %s for %s with %s", async (resource, permission, subject, expected) => {
      const response = await h.client.check({ ...checkRequest(resource, permission, subject), consistency: { fullyConsistent: true } });
      expect(response.permissionship).toBe(expected);
      expect(response.checkedAt?.token).toMatch(/^mz2_/);
      expect(response.debugTrace).toBeNull();
    });

    it("returns a debug trace when asked", async () => {
      const response = await h.client.check({ ...checkRequest("document:readme", "view", "user:ann"), withTracing: true });
      expect(response.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(response.debugTrace?.resource).toEqual({ objectType: "document", objectId: "readme" });
      expect(response.debugTrace?.permission).toBe("view");
      expect(response.debugTrace?.result).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(response.debugTrace?.children?.length).toBeGreaterThan(0);
      // ann reaches the document only through its folder: the trace names the arrow it followed.
      const labels: string[] = [];
      const collect = (node: WireCheckDebugTrace): void => {
        if (node.label) labels.push(`${node.operation}: ${node.label}`);
        for (const child of node.children ?? []) collect(child);
      };
      if (response.debugTrace) collect(response.debugTrace);
      expect(labels).toContain("OPERATION_ARROW: parent->view");
    });

    it.each([
      [checkRequest("document:readme", "view", "user:an n"), status.INVALID_ARGUMENT, "subject.object.object_id"],
      [checkRequest("Document:readme", "view", "user:ann"), status.INVALID_ARGUMENT, "resource.object_type"],
      [checkRequest("document:", "view", "user:ann"), status.INVALID_ARGUMENT, "resource.object_id"],
      [checkRequest("spreadsheet:1", "view", "user:ann"), status.FAILED_PRECONDITION, "resource.object_type"],
      [checkRequest("document:readme", "delete", "user:ann"), status.FAILED_PRECONDITION, "permission"],
      [checkRequest("document:readme", "view", "robot:r2"), status.FAILED_PRECONDITION, "subject.object.object_type"],
      [{ ...checkRequest("document:readme", "view", "user:ann"), subject: null }, status.INVALID_ARGUMENT, "subject: is required"],
    ])("rejects a malformed or unknown check (%#) with a status naming the field", async (request, code, field) => {
      const failure = await rejection(h.client.check(request));
      expect(failure.code).toBe(code);
      expect(failure.details).toContain(field);
    });

    it("fails with FAILED_PRECONDITION when no schema has been written", async () => {
      const empty = await startHarness();
      try {
        const failure = await rejection(empty.client.check(checkRequest("document:readme", "view", "user:ann")));
        expect(failure.code).toBe(status.FAILED_PRECONDITION);
        expect(failure.details).toContain("no schema has been written");
      } finally {
        await empty.close();
      }
    });
  });

  describe("CheckBulkPermissions", () => {
    it("answers each item, reporting a bad item's error without failing the others", async () => {
      const response = await h.client.checkBulk({
        items: [
          checkRequest("document:readme", "view", "user:ann"),
          checkRequest("document:readme", "view", "user:b@d"),
          checkRequest("spreadsheet:1", "view", "user:ann"),
          checkRequest("document:plan", "view", "user:ann"),
        ],
      });
      const pairs = response.pairs ?? [];
      expect(pairs).toHaveLength(4);
      expect(pairs[0]?.item?.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      expect(pairs[1]?.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(pairs[1]?.error?.message).toContain("items[1].subject.object.object_id");
      expect(pairs[2]?.error?.code).toBe(status.FAILED_PRECONDITION);
      expect(pairs[2]?.error?.message).toContain("items[2].resource.object_type");
      expect(pairs[3]?.item?.permissionship).toBe("PERMISSIONSHIP_NO_PERMISSION");
      expect(pairs[3]?.request?.resource?.objectId).toBe("plan");
      expect(response.checkedAt?.token).toMatch(/^mz2_/);
    });

    it("rejects a batch over the limit with RESOURCE_EXHAUSTED naming the limit", async () => {
      const items = Array.from({ length: 1001 }, () => checkRequest("document:readme", "view", "user:ann"));
      const failure = await rejection(h.client.checkBulk({ items }));
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(failure.details).toContain("maxChecksPerBatch");
    });
  });

  describe("ExpandPermissionTree", () => {
    it("returns the permission's rewrite tree with direct subjects at the leaves", async () => {
      const response = await h.client.expand({ resource: { objectType: "document", objectId: "readme" }, permission: "view" });
      expect(response.expandedAt?.token).toMatch(/^mz2_/);
      const root = response.treeRoot;
      expect(root?.expandedObject).toEqual({ objectType: "document", objectId: "readme" });
      expect(root?.expandedRelation).toBe("view");
      expect(root?.intermediate?.operation).toBe("OPERATION_EXCLUSION");
      const leaves: string[] = [];
      const walk = (node: typeof root): void => {
        for (const subject of node?.leaf?.subjects ?? []) leaves.push(`${node?.expandedRelation}@${subject.object?.objectType}:${subject.object?.objectId}`);
        for (const child of node?.intermediate?.children ?? []) walk(child);
      };
      walk(root);
      expect(leaves).toEqual(expect.arrayContaining(["owner@user:bob", "banned@user:eve", "viewer@user:eve"]));
    });

    it("rejects an unknown permission with FAILED_PRECONDITION", async () => {
      const failure = await rejection(h.client.expand({ resource: { objectType: "document", objectId: "readme" }, permission: "nope" }));
      expect(failure.code).toBe(status.FAILED_PRECONDITION);
      expect(failure.details).toContain("permission");
    });
  });

  describe("WriteRelationships", () => {
    it("creates, touches and deletes relationships", async () => {
      await h.client.writeRelationships({ updates: [update("create", "document:new#viewer@user:zed")] });
      await h.client.writeRelationships({ updates: [update("touch", "document:new#viewer@user:zed"), update("touch", "document:new#editor@user:yan")] });
      const written = await h.client.writeRelationships({ updates: [update("delete", "document:new#viewer@user:zed")] });
      expect(written.writtenAt?.token).toMatch(/^mz2_/);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "new" } })).toEqual(["document:new#editor@user:yan"]);
    });

    it("answers a create of an existing relationship with ALREADY_EXISTS and writes nothing", async () => {
      const failure = await rejection(
        h.client.writeRelationships({ updates: [update("create", "document:other#viewer@user:ann"), update("create", "document:readme#owner@user:bob")] }),
      );
      expect(failure.code).toBe(status.ALREADY_EXISTS);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "other" } })).toEqual([]);
    });

    it("applies a write whose preconditions hold", async () => {
      await h.client.writeRelationships({
        updates: [update("create", "document:spec#viewer@user:ann")],
        optionalPreconditions: [
          { operation: "OPERATION_MUST_MATCH", filter: { resourceType: "document", optionalResourceId: "readme", optionalRelation: "owner" } },
          { operation: "OPERATION_MUST_NOT_MATCH", filter: { resourceType: "document", optionalResourceId: "spec" } },
        ],
      });
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "spec" } })).toEqual(["document:spec#viewer@user:ann"]);
    });

    it.each([
      ["OPERATION_MUST_MATCH", { resourceType: "document", optionalResourceId: "missing" }],
      ["OPERATION_MUST_NOT_MATCH", { resourceType: "document", optionalResourceId: "readme" }],
    ] as const)("writes nothing when a %s precondition fails", async (operation, filter: WireRelationshipFilter) => {
      const failure = await rejection(
        h.client.writeRelationships({ updates: [update("create", "document:spec#viewer@user:ann")], optionalPreconditions: [{ operation, filter }] }),
      );
      expect(failure.code).toBe(status.FAILED_PRECONDITION);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "spec" } })).toEqual([]);
    });

    it.each([
      ["a malformed id", "document:re adme#viewer@user:ann", status.INVALID_ARGUMENT, "updates[1].relationship.resource.object_id"],
      ["an unknown type", "spreadsheet:1#viewer@user:ann", status.FAILED_PRECONDITION, "updates[1].relationship.resource"],
      ["an unknown relation", "document:readme#reader@user:ann", status.FAILED_PRECONDITION, "updates[1].relationship.relation"],
      ["a wrong subject type", "document:readme#owner@group:eng#member", status.INVALID_ARGUMENT, "updates[1].relationship.subject"],
      ["a permission", "document:readme#view@user:ann", status.INVALID_ARGUMENT, "updates[1].relationship.relation"],
    ])("rejects %s with an error naming the field, writing nothing", async (_what, text, code, field) => {
      const valid = update("create", "document:fine#viewer@user:ann");
      const bad = text.includes(" ")
        ? { operation: "OPERATION_CREATE" as const, relationship: { ...rel("document:x#viewer@user:ann"), resource: { objectType: "document", objectId: "re adme" } } }
        : update("create", text);
      const failure = await rejection(h.client.writeRelationships({ updates: [valid, bad] }));
      expect(failure.code).toBe(code);
      expect(failure.details).toContain(field);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "fine" } })).toEqual([]);
    });

    it.each([
      ["a permission", "document:readme#view@user:bob", "updates[0].relationship.relation"],
      ["a subject type the relation does not allow", "document:readme#owner@group:eng#member", "updates[0].relationship.subject"],
    ])("rejects a delete of %s with INVALID_ARGUMENT, as SpiceDB, leaving the revision as it was", async (_what, text, field) => {
      const head = await h.store.headRevision();
      const failure = await rejection(h.client.writeRelationships({ updates: [update("delete", text)] }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toContain(field);
      expect(await h.store.headRevision()).toEqual(head);
    });

    it("still deletes a relationship the schema allows", async () => {
      const written = await h.client.writeRelationships({ updates: [update("delete", "document:readme#owner@user:bob")] });
      expect(written.writtenAt?.token).toMatch(/^mz2_/);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "readme", optionalRelation: "owner" } })).toEqual([]);
    });

    it("accepts a write of preconditions only, returning a new token", async () => {
      const before = (await h.client.check(checkRequest("document:readme", "view", "user:ann"))).checkedAt?.token;
      const written = await h.client.writeRelationships({
        updates: [],
        optionalPreconditions: [{ operation: "OPERATION_MUST_MATCH", filter: { resourceType: "document", optionalResourceId: "readme" } }],
      });
      expect(written.writtenAt?.token).toMatch(/^mz2_/);
      expect(written.writtenAt?.token).not.toBe(before);
    });

    it("rejects a write over the limit with RESOURCE_EXHAUSTED naming the limit", async () => {
      const updates = Array.from({ length: 1001 }, (_, i) => update("touch", `document:d${i}#viewer@user:ann`));
      const failure = await rejection(h.client.writeRelationships({ updates }));
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(failure.details).toContain("maxUpdatesPerWrite");
    });
  });

  describe("DeleteRelationships", () => {
    it("deletes every relationship matching the filter and reports how many", async () => {
      const response = await h.client.deleteRelationships({ relationshipFilter: { resourceType: "document", optionalResourceId: "readme" } });
      expect(Number(response.relationshipsDeletedCount)).toBe(4);
      expect(response.deletedAt?.token).toMatch(/^mz2_/);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document" } })).toEqual(["document:plan#viewer@user:carl"]);
    });

    it("deletes by subject filter", async () => {
      await h.client.deleteRelationships({
        relationshipFilter: { resourceType: "document", optionalSubjectFilter: { subjectType: "user", optionalSubjectId: "eve" } },
      });
      expect(await readAll(h, { relationshipFilter: { resourceType: "document", optionalResourceId: "readme" } })).toEqual([
        "document:readme#owner@user:bob",
        "document:readme#parent@folder:root",
      ]);
    });

    it("refuses an empty filter", async () => {
      const failure = await rejection(h.client.deleteRelationships({ relationshipFilter: {} }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toContain("relationship_filter");
    });

    it("deletes nothing and answers RESOURCE_EXHAUSTED when more than optional_limit would go", async () => {
      const failure = await rejection(h.client.deleteRelationships({ relationshipFilter: { resourceType: "document" }, optionalLimit: 2 }));
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(await readAll(h, { relationshipFilter: { resourceType: "document" } })).toHaveLength(5);
    });
  });

  describe("DeleteRelationships past maxDeletesPerRequest", () => {
    let small: Harness;
    beforeEach(async () => {
      small = await startHarness({ limits: { maxDeletesPerRequest: 3 } });
      await small.client.writeSchema({ schema: DRIVE_SCHEMA });
      await small.client.writeRelationships({ updates: SEED.map((text) => update("create", text)) });
    });
    afterEach(async () => {
      await small.close();
    });

    it("deletes nothing and answers RESOURCE_EXHAUSTED naming the limit when no optional_limit is given", async () => {
      const failure = await rejection(small.client.deleteRelationships({ relationshipFilter: { resourceType: "document" } }));
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(failure.details).toContain("maxDeletesPerRequest");
      expect(await readAll(small, { relationshipFilter: { resourceType: "document" } })).toHaveLength(5);
    });

    it("deletes up to the limit in one request", async () => {
      const response = await small.client.deleteRelationships({ relationshipFilter: { resourceType: "document", optionalResourceId: "plan" } });
      expect(Number(response.relationshipsDeletedCount)).toBe(1);
    });

    it("refuses an optional_limit above the limit with INVALID_ARGUMENT", async () => {
      const failure = await rejection(small.client.deleteRelationships({ relationshipFilter: { resourceType: "document" }, optionalLimit: 4 }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toContain("optional_limit");
      expect(failure.details).toContain("maxDeletesPerRequest");
    });
  });

  describe("ReadRelationships", () => {
    it("pages with cursors to exactly the relationships of one full read", async () => {
      const full = await readAll(h, { relationshipFilter: {} });
      expect(full).toHaveLength(SEED.length);
      const paged: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = [];
        for await (const item of h.client.readRelationships({ relationshipFilter: {}, optionalLimit: 3, optionalCursor: cursor ? { token: cursor } : null })) {
          page.push(item);
        }
        paged.push(...page.map((item) => relText(item.relationship)));
        if (page.length < 3) break;
        cursor = page.at(-1)?.afterResultCursor?.token ?? undefined;
      }
      expect(paged).toEqual(full);
    });

    it("resumes at the cursor's revision, not seeing later writes", async () => {
      const first = [];
      for await (const item of h.client.readRelationships({ relationshipFilter: { resourceType: "document" }, optionalLimit: 1 })) first.push(item);
      await h.client.writeRelationships({ updates: [update("create", "document:zzz#viewer@user:ann")] });
      const rest = await readAll(h, { relationshipFilter: { resourceType: "document" }, optionalCursor: first[0]?.afterResultCursor });
      expect(rest).not.toContain("document:zzz#viewer@user:ann");
      expect(rest).toHaveLength(4);
      expect(rest.every((text, i) => i === 0 || text > (rest[i - 1] ?? ""))).toBe(true);
    });

    it("rejects a cursor issued for another filter", async () => {
      const first = [];
      for await (const item of h.client.readRelationships({ relationshipFilter: { resourceType: "document" }, optionalLimit: 1 })) first.push(item);
      const failure = await rejection(
        readAll(h, { relationshipFilter: { resourceType: "folder" }, optionalCursor: first[0]?.afterResultCursor }),
      );
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toContain("optional_cursor");
    });

    it.each([
      [{ optionalCursor: { token: "garbage" } }, "optional_cursor"],
      [{ optionalLimit: 1001 }, "optional_limit"],
      [{ relationshipFilter: { resourceType: "document", optionalResourceId: "a", optionalResourceIdPrefix: "b" } }, "optional_resource_id_prefix"],
    ])("rejects a bad read request (%#) with INVALID_ARGUMENT naming the field", async (request, field) => {
      const failure = await rejection(readAll(h, { relationshipFilter: {}, ...request }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toContain(field);
    });

    it("filters by subject relation", async () => {
      expect(
        await readAll(h, { relationshipFilter: { optionalSubjectFilter: { subjectType: "group", optionalRelation: { relation: "member" } } } }),
      ).toEqual(["folder:root#viewer@group:eng#member"]);
    });
  });
});

describe("caveated relationships over gRPC", () => {
  const CAVEAT_SCHEMA = `use expiration

caveat from_network(network string, ip string) {
  ip == network
}

definition user {}

definition document {
  relation viewer: user with from_network | user with expiration
  permission view = viewer
}
`;
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.client.writeSchema({ schema: CAVEAT_SCHEMA });
  });
  afterEach(async () => {
    await h.close();
  });

  it("answers CONDITIONAL naming the missing context, and reads the caveat back", async () => {
    await h.client.writeRelationships({
      updates: [update("create", 'document:readme#viewer@user:ann[from_network:{"network":"10.0.0.0"}]')],
    });
    const response = await h.client.check(checkRequest("document:readme", "view", "user:ann"));
    expect(response.permissionship).toBe("PERMISSIONSHIP_CONDITIONAL_PERMISSION");
    expect(response.partialCaveatInfo?.missingRequiredContext).toEqual(["ip"]);
    const read = [];
    for await (const item of h.client.readRelationships({ relationshipFilter: { resourceType: "document" } })) read.push(item.relationship);
    expect(read[0]?.optionalCaveat?.caveatName).toBe("from_network");
    expect(read[0]?.optionalCaveat?.context?.fields?.["network"]?.stringValue).toBe("10.0.0.0");
  });

  it("round-trips an expiry and refuses an uncaveated, unexpiring relationship", async () => {
    await h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:bob[expiration:2099-01-01T00:00:00Z]")] });
    const read = [];
    for await (const item of h.client.readRelationships({ relationshipFilter: { resourceType: "document" } })) read.push(item.relationship);
    expect(Number(read[0]?.optionalExpiresAt?.seconds)).toBe(Date.parse("2099-01-01T00:00:00Z") / 1000);
    const failure = await rejection(h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:carl")] }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain("updates[0].relationship");
  });
});
