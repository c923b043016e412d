import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DRIVE_SCHEMA, rejection, rel, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";

describe("SchemaService over gRPC", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("answers ReadSchema with NOT_FOUND before any schema is written", async () => {
    const failure = await rejection(h.client.readSchema());
    expect(failure.code).toBe(status.NOT_FOUND);
    expect(failure.details).toContain("no schema has been written");
  });

  it("returns the schema text exactly as written, with tokens", async () => {
    const written = await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    expect(written.writtenAt?.token).toMatch(/^mz2_/);
    const read = await h.client.readSchema();
    expect(read.schemaText).toBe(DRIVE_SCHEMA);
    expect(read.readAt?.token).toMatch(/^mz2_/);
  });

  it("rejects a schema that does not compile with INVALID_ARGUMENT and its line:column", async () => {
    const failure = await rejection(h.client.writeSchema({ schema: "definition user {}\n\ndefinition document {\n  relation viewer: usr\n}\n" }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toMatch(/schema\.zed:4:\d+: /);
    expect(failure.details).toContain("usr");
  });

  it("rejects an empty schema with INVALID_ARGUMENT naming the field", async () => {
    const failure = await rejection(h.client.writeSchema({ schema: "  " }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain("schema:");
  });

  it("refuses a schema change that would orphan a stored relationship, naming it", async () => {
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    await h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:*")] });
    const withoutWildcard = DRIVE_SCHEMA.replace("relation viewer: user | user:* | group#member", "relation viewer: user | group#member");
    const failure = await rejection(h.client.writeSchema({ schema: withoutWildcard }));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toContain("document:readme#viewer@user:*");
    expect((await h.client.readSchema()).schemaText).toBe(DRIVE_SCHEMA);
  });

  it("refuses removing a definition whose relations are still in use", async () => {
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    await h.client.writeRelationships({ updates: [update("create", "group:eng#member@user:ann")] });
    const withoutGroupRelation = DRIVE_SCHEMA.replace("relation member: user | group#member", "relation member: group#member");
    const failure = await rejection(h.client.writeSchema({ schema: withoutGroupRelation }));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toContain("group:eng#member@user:ann");
  });

  it("accepts a schema change that removes only unused subject types", async () => {
    await h.client.writeSchema({ schema: DRIVE_SCHEMA });
    await h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:ann")] });
    const withoutWildcard = DRIVE_SCHEMA.replace("relation viewer: user | user:* | group#member", "relation viewer: user | group#member");
    await h.client.writeSchema({ schema: withoutWildcard });
    expect((await h.client.readSchema()).schemaText).toBe(withoutWildcard);
  });

  describe("removing a caveated subject type", () => {
    const BOTH = "caveat cv(x int) {\n  x == 1\n}\n\ndefinition user {}\n\ndefinition document {\n  relation viewer: user | user with cv\n}\n";
    const PLAIN_ONLY = BOTH.replace("relation viewer: user | user with cv", "relation viewer: user");

    it("accepts the change while only plain `user` relationships exist", async () => {
      await h.client.writeSchema({ schema: BOTH });
      await h.client.writeRelationships({ updates: [update("create", "document:readme#viewer@user:ann")] });
      await h.client.writeSchema({ schema: PLAIN_ONLY });
      expect((await h.client.readSchema()).schemaText).toBe(PLAIN_ONLY);
    });

    it("refuses the change with FAILED_PRECONDITION naming a relationship that carries the caveat", async () => {
      await h.client.writeSchema({ schema: BOTH });
      const caveated = { ...rel("document:readme#viewer@user:bob"), optionalCaveat: { caveatName: "cv", context: { fields: {} } } };
      await h.client.writeRelationships({
        updates: [update("create", "document:readme#viewer@user:ann"), { operation: "OPERATION_CREATE", relationship: caveated }],
      });
      const failure = await rejection(h.client.writeSchema({ schema: PLAIN_ONLY }));
      expect(failure.code).toBe(status.FAILED_PRECONDITION);
      expect(failure.details).toContain("document:readme#viewer@user:bob");
      expect(failure.details).toContain("user with cv");
      expect((await h.client.readSchema()).schemaText).toBe(BOTH);
    });

    it("accepts removing plain `user` while only relationships with the caveat exist", async () => {
      await h.client.writeSchema({ schema: BOTH });
      const caveated = { ...rel("document:readme#viewer@user:bob"), optionalCaveat: { caveatName: "cv", context: { fields: {} } } };
      await h.client.writeRelationships({ updates: [{ operation: "OPERATION_CREATE", relationship: caveated }] });
      const caveatOnly = BOTH.replace("relation viewer: user | user with cv", "relation viewer: user with cv");
      await h.client.writeSchema({ schema: caveatOnly });
      expect((await h.client.readSchema()).schemaText).toBe(caveatOnly);
    });
  });
});
