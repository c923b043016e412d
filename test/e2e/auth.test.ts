import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiKeyRegistry, callErrorOf, objectRefToWire } from "../../src/api/index.ts";
import type { MandateClient } from "../../src/api/index.ts";
import { DRIVE_SCHEMA, rejection, rel, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";

// Authentication and authorization of the API itself, over gRPC: each role against each RPC,
// bad keys, rotation with its grace period (clock controlled), and revocation of a key whose
// Watch stream is open.

type Role = "read" | "write" | "admin";

const DENIED = [status.UNAUTHENTICATED, status.PERMISSION_DENIED];
const ann = objectRefToWire({ type: "user", id: "ann" });

// Runs a call to its end (a stream: its first message, or 150 ms of waiting) and returns "ok" or the
// gRPC status code it failed with. A Watch that is let in waits for changes: it ends CANCELLED.
async function outcome(call: (signal: AbortSignal) => Promise<unknown>): Promise<"ok" | number> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 150);
  try {
    await call(controller.signal);
    return "ok";
  } catch (error) {
    const failure = callErrorOf(error);
    if (failure === undefined) throw error;
    return failure.code;
  } finally {
    clearTimeout(timer);
  }
}

async function first(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) return;
}

async function* oneBatch() {
  yield { relationships: [rel("document:imported#viewer@user:ann")] };
}

// Every mandate.v1 RPC with the weakest role that may call it.
const RPCS: Array<[string, Role, (client: MandateClient, signal: AbortSignal) => Promise<unknown>]> = [
  ["CheckPermission", "read", (c) => c.check({ resource: { objectType: "document", objectId: "a" }, permission: "view", subject: { object: ann } })],
  ["CheckBulkPermissions", "read", (c) => c.checkBulk({ items: [] })],
  ["ExpandPermissionTree", "read", (c) => c.expand({ resource: { objectType: "document", objectId: "a" }, permission: "view" })],
  ["ReadRelationships", "read", (c) => first(c.readRelationships({ relationshipFilter: { resourceType: "document" } }))],
  ["ExportBulkRelationships", "read", (c) => first(c.exportBulkRelationships({}))],
  ["LookupResources", "read", (c) => first(c.lookupResources({ resourceObjectType: "document", permission: "view", subject: { object: ann } }))],
  ["LookupSubjects", "read", (c) => first(c.lookupSubjects({ resource: { objectType: "document", objectId: "a" }, permission: "view", subjectObjectType: "user" }))],
  ["ReadSchema", "read", (c) => c.readSchema()],
  ["Watch", "read", (c, signal) => first(c.watch({}, { signal }))],
  ["ListDelegations", "read", (c) => c.listDelegations({ selector: "principal", principal: ann })],
  ["WriteRelationships", "write", (c) => c.writeRelationships({ updates: [update("touch", "document:a#viewer@user:ann")] })],
  ["DeleteRelationships", "write", (c) => c.deleteRelationships({ relationshipFilter: { resourceType: "document", optionalResourceId: "none" } })],
  ["ImportBulkRelationships", "write", (c) => c.importBulkRelationships(oneBatch())],
  ["GrantDelegation", "write", (c) => c.grantDelegation({ actor: objectRefToWire({ type: "user", id: "bot" }), principal: ann, scope: ["*"] })],
  ["RevokeDelegations", "write", (c) => c.revokeDelegations({ selector: "principal", principal: ann })],
  ["WriteSchema", "admin", (c) => c.writeSchema({ schema: DRIVE_SCHEMA })],
  ["CreateKey", "admin", (c) => c.createKey({ owner: "someone", role: "KEY_ROLE_READ" })],
  ["ListKeys", "admin", (c) => c.listKeys()],
  ["RotateKey", "admin", (c) => c.rotateKey({ id: "0000000000000000", grace: { seconds: 0 } })],
  ["RevokeKey", "admin", (c) => c.revokeKey({ id: "0000000000000000" })],
];

const RANK: Record<Role, number> = { read: 0, write: 1, admin: 2 };
const CASES = (["read", "write", "admin"] as const).flatMap((role) =>
  RPCS.map(([method, needed, call]) => ({ role, method, needed, call, allowed: RANK[role] >= RANK[needed] })),
);

describe("API keys over gRPC", () => {
  let clock: number;
  let h: Harness;
  let keys: Record<Role, MandateClient>;

  beforeEach(async () => {
    clock = Date.parse("2030-01-01T00:00:00Z");
    // The failed-authentication bound runs on the test's clock too, so that its refill is not timing-dependent.
    h = await startHarness({ auth: { now: () => clock, recheckMs: 50, failedAuthentications: { perSecond: 10, burst: 20, now: () => clock } } });
    const issue = async (role: Role) => h.connect((await h.apiKeys.create({ owner: `${role}-tests`, role })).token);
    keys = { read: await issue("read"), write: await issue("write"), admin: await issue("admin") };
    await keys.admin.writeSchema({ schema: DRIVE_SCHEMA });
  });

  afterEach(async () => {
    await h.close();
  });

  it.each(CASES)("lets a $role key call $method only if $needed suffices (allowed: $allowed)", async ({ role, needed, call, allowed }) => {
    const result = await outcome((signal) => call(keys[role], signal));
    if (allowed) {
      expect(DENIED).not.toContain(result);
    } else {
      expect(result).toBe(status.PERMISSION_DENIED);
      const failure = await rejection(call(keys[role], new AbortController().signal));
      expect(failure.details).toMatch(new RegExp(`has role ${role}; this method needs role ${needed}`));
    }
  });

  it.each(RPCS.map(([method, , call]) => ({ method, call })))("refuses $method without a key with UNAUTHENTICATED", async ({ call }) => {
    expect(await outcome((signal) => call(h.client, signal))).toBe(status.UNAUTHENTICATED);
  });

  it("answers the health check without a key", async () => {
    expect(await h.client.health()).toMatch(/SERVING/);
  });

  it("refuses the health service's Watch stream without a key, so that keyless callers cannot hold streams", async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, "Health");
    const client = new Health(h.address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Watch(request: { service: string }): grpc.ClientReadableStream<unknown>;
    };
    try {
      const code = await new Promise<number>((resolve) => {
        const stream = client.Watch({ service: "" });
        stream.on("data", () => resolve(status.OK));
        stream.on("error", (error: grpc.ServiceError) => resolve(error.code));
      });
      expect(code).toBe(status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  it("stops looking up keys for an address after a burst of failed authentications (key guessing cannot flood the datastore)", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) {
      const guess = `mk_${i.toString(16).padStart(16, "0")}_${"x".repeat(43)}`;
      codes.push((await rejection(h.connect(guess).readSchema())).code);
    }
    expect(codes.slice(0, 20).every((code) => code === status.UNAUTHENTICATED)).toBe(true);
    expect(codes.slice(20)).toEqual(Array(5).fill(status.RESOURCE_EXHAUSTED));
    clock += 1_000;
    expect((await rejection(h.connect(`mk_${"f".repeat(16)}_${"x".repeat(43)}`).readSchema())).code).toBe(status.UNAUTHENTICATED);
  });

  it.each([
    ["a token of the wrong form", () => "not-a-key", /malformed/],
    ["an unknown key id", () => `mk_0123456789abcdef_${"x".repeat(43)}`, /API key 0123456789abcdef does not exist/],
  ])("refuses %s with UNAUTHENTICATED", async (_name, token, message) => {
    const failure = await rejection(h.connect(token()).readSchema());
    expect(failure.code).toBe(status.UNAUTHENTICATED);
    expect(failure.details).toMatch(message);
  });

  it("refuses a wrong secret with UNAUTHENTICATED, without echoing either secret", async () => {
    const { key, token } = await h.apiKeys.create({ owner: "ci", role: "read" });
    const wrongSecret = "y".repeat(43);
    const failure = await rejection(h.connect(`mk_${key.id}_${wrongSecret}`).readSchema());
    expect(failure).toMatchObject({ code: status.UNAUTHENTICATED, details: `API key ${key.id}: wrong secret` });
    expect(failure.details).not.toContain(wrongSecret);
    expect(failure.details).not.toContain(token.slice(-43));
  });

  it("refuses a key once it has expired, with UNAUTHENTICATED", async () => {
    const { token } = await h.apiKeys.create({ owner: "temp", role: "read", expiresAt: new Date(clock + 60_000) });
    const client = h.connect(token);
    await client.readSchema();
    clock += 60_000;
    const failure = await rejection(client.readSchema());
    expect(failure.code).toBe(status.UNAUTHENTICATED);
    expect(failure.details).toMatch(/expired at 2030-01-01T00:01:00.000Z/);
  });

  it("refuses a revoked key at once on this server, with UNAUTHENTICATED", async () => {
    const { key, token } = await h.apiKeys.create({ owner: "leaver", role: "write" });
    const client = h.connect(token);
    await client.readSchema();
    await keys.admin.revokeKey({ id: key.id });
    const failure = await rejection(client.readSchema());
    expect(failure.code).toBe(status.UNAUTHENTICATED);
    expect(failure.details).toMatch(new RegExp(`API key ${key.id} was revoked at`));
  });

  it("keeps the old secret working through the rotation's grace period, then stops it by itself", async () => {
    const created = await keys.admin.createKey({ owner: "deployer", role: "KEY_ROLE_WRITE" });
    const id = created.key?.id ?? "";
    const oldClient = h.connect(created.token ?? "");
    const rotated = await keys.admin.rotateKey({ id, grace: { seconds: 3600 } });
    expect(rotated.token).not.toBe(created.token);
    expect(rotated.key?.graceUntil).toEqual({ seconds: (clock + 3_600_000) / 1000, nanos: 0 });
    const newClient = h.connect(rotated.token ?? "");
    await oldClient.readSchema();
    await newClient.readSchema();
    clock += 3_600_000 - 1;
    await oldClient.readSchema();
    clock += 1;
    const failure = await rejection(oldClient.readSchema());
    expect(failure.code).toBe(status.UNAUTHENTICATED);
    expect(failure.details).toMatch(/replaced by a rotation and its grace period ended at 2030-01-01T01:00:00.000Z/);
    await newClient.readSchema();
  });

  it("stops the old secret at once when rotated without grace", async () => {
    const { key, token } = await h.apiKeys.create({ owner: "ci", role: "read" });
    const rotated = await h.apiKeys.rotate(key.id, 0);
    expect((await rejection(h.connect(token).readSchema())).code).toBe(status.UNAUTHENTICATED);
    await h.connect(rotated.token).readSchema();
  });

  it("lists keys without their secrets or hashes", async () => {
    const { token } = await h.apiKeys.create({ owner: "ci", role: "read" });
    const listed = await keys.admin.listKeys();
    // Created at the same instant of the test clock: oldest first, ties by (random) id.
    expect(listed.keys?.map((key) => key.owner).sort()).toEqual(["admin-tests", "ci", "read-tests", "write-tests"]);
    expect(JSON.stringify(listed)).not.toContain(token.slice(-43));
    expect(Object.keys(listed.keys?.[0] ?? {}).sort()).toEqual(["createdAt", "expiresAt", "graceUntil", "id", "owner", "revokedAt", "role"]);
  });

  it("ends an open Watch stream with UNAUTHENTICATED when its key is revoked on this server", async () => {
    const { key, token } = await h.apiKeys.create({ owner: "watcher", role: "read" });
    const stream = h.connect(token).watch({})[Symbol.asyncIterator]();
    const pending = stream.next();
    await keys.write.writeRelationships({ updates: [update("touch", "document:a#viewer@user:ann")] });
    expect((await pending).done).toBe(false);
    const next = stream.next();
    await h.apiKeys.revoke(key.id);
    const failure = await rejection(next);
    expect(failure.code).toBe(status.UNAUTHENTICATED);
    expect(failure.details).toMatch(new RegExp(`API key ${key.id} was revoked at .*; the call was ended`));
  });

  it("ends an open Watch stream when another server revokes its key, once the cached record is stale", async () => {
    const { key, token } = await h.apiKeys.create({ owner: "watcher", role: "read" });
    const stream = h.connect(token).watch({})[Symbol.asyncIterator]();
    const next = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Another replica on the same datastore: its registry, not this server's, revokes.
    await new ApiKeyRegistry({ store: h.store, now: () => clock }).revoke(key.id);
    clock += 1_000;
    const failure = await rejection(next);
    expect(failure.code).toBe(status.UNAUTHENTICATED);
  });
});

describe("API keys in logs", () => {
  it("never writes a token or its secret to the server's log, whatever the call's outcome", async () => {
    let logged = "";
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const h = await startHarness({ auth: {}, logger: pino({ level: "trace" }, sink) });
    try {
      const { key, token } = await h.apiKeys.create({ owner: "ci", role: "read" });
      const client = h.connect(token);
      await client.readSchema().catch(() => undefined);
      await client.writeSchema({ schema: DRIVE_SCHEMA }).catch(() => undefined);
      await h.connect(`mk_${key.id}_${"z".repeat(43)}`).readSchema().catch(() => undefined);
      const secret = token.slice(`mk_${key.id}_`.length);
      expect(logged).toContain("call finished");
      expect(logged).not.toContain(secret);
      expect(logged).not.toContain("z".repeat(43));
      expect(logged.toLowerCase()).not.toContain("bearer");
    } finally {
      await h.close();
    }
  });
});
