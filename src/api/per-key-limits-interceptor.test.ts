import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { afterEach, describe, expect, it } from "vitest";
import { CALLER_KEY_HEADER } from "./caller.ts";
import { perKeyLimitsInterceptor } from "./per-key-limits-interceptor.ts";
import type { PerKeyLimits } from "./per-key-limits-interceptor.ts";

// A real gRPC server with one unary and one server-streaming method (raw bytes, no proto), behind
// the interceptor under test. In front of it stands what the authentication interceptor will
// do: record a caller key, here copied from a test header.
const TEST_KEY_HEADER = "x-test-key";
const identity = (bytes: Buffer) => bytes;
const SERVICE: grpc.ServiceDefinition = {
  Ping: { path: "/test.Limited/Ping", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  Follow: { path: "/test.Limited/Follow", requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
const TestClient = grpc.makeGenericClientConstructor(SERVICE, "Limited");

const recordTestKey: grpc.ServerInterceptor = (_method, next) =>
  new grpc.ServerInterceptingCall(next, {
    start(startNext) {
      startNext({
        onReceiveMetadata(metadata, pass) {
          const key = metadata.get(TEST_KEY_HEADER)[0];
          if (typeof key === "string") metadata.set(CALLER_KEY_HEADER, key);
          pass(metadata);
        },
      });
    },
  });

interface Rig {
  readonly client: grpc.Client;
  readonly health: grpc.Client;
  readonly openFollows: () => number;
  close(): void;
}

let rigs: Rig[] = [];
afterEach(() => {
  for (const rig of rigs) rig.close();
  rigs = [];
});

async function startRig(limits: PerKeyLimits, now?: () => number): Promise<Rig> {
  let openFollows = 0;
  const server = new grpc.Server({ interceptors: [recordTestKey, perKeyLimitsInterceptor(limits, now === undefined ? {} : { now })] });
  server.addService(SERVICE, {
    Ping: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from("pong")),
    // Streams until the client goes away, like Watch.
    Follow: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      openFollows++;
      call.write(Buffer.from("started"));
      call.on("cancelled", () => openFollows--);
    },
  });
  new HealthImplementation({ "": "SERVING" }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = new TestClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const HealthClient = grpc.makeGenericClientConstructor(
    { Check: { path: "/grpc.health.v1.Health/Check", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    "Health",
  );
  const health = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const rig = {
    client,
    health,
    openFollows: () => openFollows,
    close() {
      client.close();
      health.close();
      server.forceShutdown();
    },
  };
  rigs.push(rig);
  return rig;
}

function metadataFor(key: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(TEST_KEY_HEADER, key);
  return metadata;
}

type Outcome = { readonly code: grpc.status; readonly details: string };

function ping(client: grpc.Client, key: string): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(SERVICE["Ping"]!.path, identity, identity, Buffer.alloc(0), metadataFor(key), (error: grpc.ServiceError | null) =>
      resolve(error === null ? { code: grpc.status.OK, details: "" } : { code: error.code, details: error.details }),
    );
  });
}

function checkHealth(health: grpc.Client): Promise<grpc.status> {
  return new Promise((resolve) => {
    // An empty HealthCheckRequest (service "") is zero bytes on the wire.
    health.makeUnaryRequest("/grpc.health.v1.Health/Check", identity, identity, Buffer.alloc(0), new grpc.Metadata(), (error: grpc.ServiceError | null) =>
      resolve(error === null ? grpc.status.OK : error.code),
    );
  });
}

// follow opens a Follow stream; `started` resolves once the handler runs, `ended` with the status it ends with.
function follow(client: grpc.Client, key: string) {
  const stream = client.makeServerStreamRequest(SERVICE["Follow"]!.path, identity, identity, Buffer.alloc(0), metadataFor(key));
  const started = new Promise<void>((resolve) => stream.once("data", () => resolve()));
  const ended = new Promise<Outcome>((resolve) => {
    stream.on("error", (error: grpc.ServiceError) => resolve({ code: error.code, details: error.details }));
    stream.on("status", (status: grpc.StatusObject) => status.code === grpc.status.OK && resolve({ code: status.code, details: status.details }));
  });
  return { stream, started, ended };
}

const OFF: PerKeyLimits = { rateLimitPerSecond: 0, rateLimitBurst: 0, maxStreamsPerKey: 0 };
// The clock stands still unless a test moves it: no token refills behind a slow machine's back.
const frozen = () => 0;

describe("perKeyLimitsInterceptor, the rate limit", () => {
  it("refuses a key's calls past its burst with RESOURCE_EXHAUSTED naming the limit and its flag", async () => {
    const rig = await startRig({ ...OFF, rateLimitPerSecond: 5, rateLimitBurst: 5 }, frozen);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => ping(rig.client, "flooder")));
    expect(outcomes.filter((outcome) => outcome.code === grpc.status.OK)).toHaveLength(5);
    const refused = outcomes.filter((outcome) => outcome.code !== grpc.status.OK);
    expect(refused).toHaveLength(15);
    for (const outcome of refused) {
      expect(outcome.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(outcome.details).toContain('caller key "flooder"');
      expect(outcome.details).toContain("rateLimitPerSecond");
      expect(outcome.details).toContain("--rate-limit");
    }
  });

  it("leaves every call of another key succeeding while one key floods", async () => {
    const rig = await startRig({ ...OFF, rateLimitPerSecond: 10, rateLimitBurst: 10 }, frozen);
    const flood = Array.from({ length: 200 }, () => ping(rig.client, "flooder"));
    const neighbour = Array.from({ length: 10 }, () => ping(rig.client, "neighbour"));
    const [flooded, served] = await Promise.all([Promise.all(flood), Promise.all(neighbour)]);
    expect(flooded.filter((outcome) => outcome.code === grpc.status.RESOURCE_EXHAUSTED)).toHaveLength(190);
    expect(served.map((outcome) => outcome.code)).toEqual(Array(10).fill(grpc.status.OK));
  });

  it("serves a refused key again once its tokens refill", async () => {
    let now = 0;
    const rig = await startRig({ ...OFF, rateLimitPerSecond: 2, rateLimitBurst: 1 }, () => now);
    expect((await ping(rig.client, "ci")).code).toBe(grpc.status.OK);
    expect((await ping(rig.client, "ci")).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    now += 500;
    expect((await ping(rig.client, "ci")).code).toBe(grpc.status.OK);
  });

  it("defaults the burst to one second's worth of calls", async () => {
    const rig = await startRig({ ...OFF, rateLimitPerSecond: 3 }, frozen);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => ping(rig.client, "ci")));
    expect(outcomes.filter((outcome) => outcome.code === grpc.status.OK)).toHaveLength(3);
  });

  it("never limits the health service", async () => {
    const rig = await startRig({ ...OFF, rateLimitPerSecond: 1, rateLimitBurst: 1 }, frozen);
    await ping(rig.client, "anonymous");
    expect((await ping(rig.client, "anonymous")).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const probes = await Promise.all(Array.from({ length: 20 }, () => checkHealth(rig.health)));
    expect(probes).toEqual(Array(20).fill(grpc.status.OK));
  });

  it("limits nothing when every limit is 0", async () => {
    const rig = await startRig(OFF, frozen);
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => ping(rig.client, "ci")));
    expect(outcomes.every((outcome) => outcome.code === grpc.status.OK)).toBe(true);
  });
});

describe("perKeyLimitsInterceptor, concurrent streams", () => {
  it("refuses a key's stream past the maximum, before its handler runs, naming the limit and its flag", async () => {
    const rig = await startRig({ ...OFF, maxStreamsPerKey: 2 });
    const open = [follow(rig.client, "ci"), follow(rig.client, "ci")];
    await Promise.all(open.map((call) => call.started));
    const third = await follow(rig.client, "ci").ended;
    expect(third.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(third.details).toContain("maxStreamsPerKey");
    expect(third.details).toContain("--max-streams-per-key");
    expect(rig.openFollows()).toBe(2);
    for (const call of open) call.stream.cancel();
  });

  it("counts each key's streams apart and never counts unary calls", async () => {
    const rig = await startRig({ ...OFF, maxStreamsPerKey: 1 });
    const held = follow(rig.client, "flooder");
    await held.started;
    expect((await follow(rig.client, "flooder").ended).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const neighbours = follow(rig.client, "neighbour");
    await neighbours.started;
    expect((await ping(rig.client, "flooder")).code).toBe(grpc.status.OK);
    held.stream.cancel();
    neighbours.stream.cancel();
  });

  it("frees the slot of a stream whose client goes away", async () => {
    const rig = await startRig({ ...OFF, maxStreamsPerKey: 1 });
    const first = follow(rig.client, "ci");
    await first.started;
    first.stream.cancel();
    await expect.poll(() => rig.openFollows()).toBe(0);
    const second = follow(rig.client, "ci");
    await second.started;
    second.stream.cancel();
  });
});
