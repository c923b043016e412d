import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { service as healthService } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS_SERVICE, SCHEMA_SERVICE } from "../../src/api/index.ts";
import { rejection, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";

const require = createRequire(import.meta.url);
const { status } = grpc;

function healthStatus(address: string, service: string): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(request: { service: string }, callback: (error: grpc.ServiceError | null, response: { status: string }) => void): void;
  };
  return new Promise((resolve, reject) => {
    client.check({ service }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response.status);
    });
  });
}

function listServices(address: string): Promise<string[]> {
  const protoRoot = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");
  const definition = protoLoader.loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [protoRoot], keepCase: true, oneofs: true });
  const Reflection = grpc.makeGenericClientConstructor(definition["grpc.reflection.v1.ServerReflection"] as grpc.ServiceDefinition, "ServerReflection");
  const client = new Reflection(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, { list_services_response?: { service: Array<{ name: string }> } }>;
  };
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on("data", (response) => {
      resolve((response.list_services_response?.service ?? []).map((entry: { name: string }) => entry.name));
      stream.end();
      client.close();
    });
    stream.on("error", reject);
    stream.write({ list_services: "*" });
  });
}

describe("server infrastructure", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxDepth: 5, limits: { maxMessageBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it.each(["", PERMISSIONS_SERVICE, SCHEMA_SERVICE])("reports health SERVING for service %j", async (service) => {
    expect(await healthStatus(h.address, service)).toBe("SERVING");
  });

  it("lists both services through server reflection", async () => {
    expect(await listServices(h.address)).toEqual(expect.arrayContaining([PERMISSIONS_SERVICE, SCHEMA_SERVICE]));
  });

  it("refuses a message over maxMessageBytes with RESOURCE_EXHAUSTED", async () => {
    const failure = await rejection(h.client.writeSchema({ schema: `definition user {}\n// ${"x".repeat(100 * 1024)}\n` }));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("fails a check deeper than maxDepth with RESOURCE_EXHAUSTED instead of hanging", async () => {
    await h.client.writeSchema({ schema: FOLDER_CHAIN_SCHEMA });
    const chain = Array.from({ length: 10 }, (_, i) => update("create", `folder:f${i}#parent@folder:f${i + 1}`));
    await h.client.writeRelationships({ updates: [...chain, update("create", "folder:f10#viewer@user:ann")] });
    const failure = await rejection(h.client.check(annOn("folder", "f0", "view")));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.details).toMatch(/depth/i);
  });

  it("answers nesting deeper than maxDepth through a nested-group relation from the graph index's closure, and refuses it without the index", async () => {
    const withIndex = await startHarness({ maxDepth: 5 });
    const withoutIndex = await startHarness({ maxDepth: 5, index: false });
    try {
      for (const server of [withIndex, withoutIndex]) {
        await server.client.writeSchema({ schema: GROUP_CHAIN_SCHEMA });
        const chain = Array.from({ length: 10 }, (_, i) => update("touch", `group:g${i}#member@group:g${i + 1}#member`));
        await server.client.writeRelationships({ updates: [...chain, update("touch", "group:g10#member@user:ann")] });
      }
      // The closure holds every group a member reaches, whatever the depth: no recursion to bound.
      expect((await withIndex.client.check(annOn("group", "g0", "member"))).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
      const failure = await rejection(withoutIndex.client.check(annOn("group", "g0", "member")));
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    } finally {
      await withIndex.close();
      await withoutIndex.close();
    }
  });
});

const FOLDER_CHAIN_SCHEMA = `definition user {}

definition folder {
  relation parent: folder
  relation viewer: user
  permission view = viewer + parent->view
}
`;

const GROUP_CHAIN_SCHEMA = "definition user {}\n\ndefinition group {\n  relation member: user | group#member\n}\n";

function annOn(objectType: string, objectId: string, permission: string) {
  return { resource: { objectType, objectId }, permission, subject: { object: { objectType: "user", objectId: "ann" } } };
}
