import * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { DRIVE_SCHEMA, rejection, startHarness, update } from "./harness.ts";
import type { Harness } from "./harness.ts";

// Bad input and abuse over gRPC: each refused with the limit named, and the server keeps serving.

const MiB = 1024 * 1024;
let harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  harnesses = [];
});

async function serve(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  await h.client.writeSchema({ schema: DRIVE_SCHEMA });
  return h;
}

// stillServes: a write and a check afterwards succeed.
async function expectStillServing(h: Harness): Promise<void> {
  await h.client.writeRelationships({ updates: [update("touch", "document:after#viewer@user:ann")] });
  const answer = await h.client.check({
    resource: { objectType: "document", objectId: "after" },
    permission: "view",
    subject: { object: { objectType: "user", objectId: "ann" } },
    consistency: { fullyConsistent: true },
  });
  expect(answer.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
}

// Protobuf by hand (length-delimited fields only), because the client's encoder needs seconds for
// a million items: the test would measure the client. Concatenated messages merge, and repeated
// fields append, so a request of a million items is one single-item request repeated.
function field(number: number, payload: Buffer | string): Buffer {
  const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
  const length: number[] = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...length]), bytes]);
}
// CheckBulkPermissionsRequest { items (2): { permission (2) } }: 8 bytes an item, 8 MB in all. The
// items are otherwise empty: the count is refused before any item is read, and the server's
// decoding (one object per item) stays well within the test's time on a slow machine.
const ONE_ITEM_REQUEST = field(2, field(2, "view"));
const A_MILLION = 1_000_000;

function checkBulkOfAMillion(h: Harness): Promise<unknown> {
  const request = Buffer.alloc(ONE_ITEM_REQUEST.length * A_MILLION);
  for (let offset = 0; offset < request.length; offset += ONE_ITEM_REQUEST.length) ONE_ITEM_REQUEST.copy(request, offset);
  const client = new grpc.Client(h.address, grpc.credentials.createInsecure());
  const bytes = (buffer: Buffer) => buffer;
  return new Promise<unknown>((resolve, reject) => {
    client.makeUnaryRequest("/mandate.v1.PermissionsService/CheckBulkPermissions", bytes, bytes, request, new grpc.Metadata(), (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response);
    });
  });
}

describe("requests larger than maxMessageBytes", () => {
  it.each([
    ["a 100 MB schema", (h: Harness) => h.client.writeSchema({ schema: `// ${"x".repeat(100 * MiB)}\n${DRIVE_SCHEMA}` })],
    ["a batch of a million checks (8 MB)", checkBulkOfAMillion],
  ])("refuses %s with RESOURCE_EXHAUSTED and keeps serving", async (_what, call) => {
    const h = await serve();
    const failure = await rejection(call(h));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.details).toMatch(/larger than max .* vs 4194304/);
    await expectStillServing(h);
  });
});

describe("a batch of a million checks within the message size", () => {
  it("is refused with RESOURCE_EXHAUSTED naming the batch limit, before any check is answered", async () => {
    const h = await serve({ limits: { maxMessageBytes: 256 * MiB } });
    const failure = await rejection(checkBulkOfAMillion(h));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.details).toBe("items: 1000000 checks exceed the limit of 1000 per request (maxChecksPerBatch)");
    await expectStillServing(h);
  });
});

describe("a deeply nested schema", () => {
  const DEPTH = 100_000;
  it.each([
    ["parentheses", `definition user {}\ndefinition document {\n  relation viewer: user\n  permission view = ${"(".repeat(DEPTH)}viewer${")".repeat(DEPTH)}\n}\n`, "nests deeper than 100 levels"],
    ["caveat parameter types", `caveat deep(p ${"list<".repeat(DEPTH)}int${">".repeat(DEPTH)}) {\n  true\n}\ndefinition user {}\n`, "nests deeper than 100 levels"],
    ["operands", `definition user {}\ndefinition document {\n  relation viewer: user\n  permission view = ${Array(DEPTH).fill("viewer").join(" + ")}\n}\n`, "more than 1000 operands"],
  ])("with %s past the parser's bound is refused with INVALID_ARGUMENT, without a stack overflow", async (_what, schema, message) => {
    const h = await serve();
    const failure = await rejection(h.client.writeSchema({ schema }));
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain(message);
    await expectStillServing(h);
  });
});

describe("a relationship chain deeper than --max-depth", () => {
  it("fails the check with the depth limit named, and the server keeps serving", async () => {
    const h = await serve({ maxDepth: 10 });
    // view = viewer + parent->view: each folder up the chain is one more level of recursion.
    const chain = Array.from({ length: 30 }, (_, i) => update("touch", `folder:f${i}#parent@folder:f${i + 1}`));
    await h.client.writeRelationships({ updates: [update("touch", "folder:f30#viewer@user:ann"), update("touch", "document:deep#parent@folder:f0"), ...chain] });
    const failure = await rejection(
      h.client.check({
        resource: { objectType: "document", objectId: "deep" },
        permission: "view",
        subject: { object: { objectType: "user", objectId: "ann" } },
        consistency: { fullyConsistent: true },
      }),
    );
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.details).toContain("depth");
    await expectStillServing(h);
  });
});

// With authentication on: one key per client, as in production; the admin key writes the schema.
async function serveWithKeys(limits: NonNullable<Parameters<typeof startHarness>[0]>["limits"]) {
  const h = await startHarness({ auth: {}, limits });
  harnesses.push(h);
  const admin = h.connect((await h.apiKeys.create({ owner: "ops", role: "admin" })).token);
  const schemaToken = (await admin.writeSchema({ schema: DRIVE_SCHEMA })).writtenAt?.token ?? "";
  const flooderKey = await h.apiKeys.create({ owner: "flooder", role: "read" });
  const neighbourKey = await h.apiKeys.create({ owner: "neighbour", role: "read" });
  return { h, admin, schemaToken, flooder: h.connect(flooderKey.token), neighbour: h.connect(neighbourKey.token), flooderKeyId: flooderKey.key.id };
}

const annViewsReadme = {
  resource: { objectType: "document", objectId: "readme" },
  permission: "view",
  subject: { object: { objectType: "user", objectId: "ann" } },
};

describe("a flood from one key", () => {
  it("is held to the key's rate while every call of another key succeeds", async () => {
    const BURST = 20;
    const RATE = 1;
    const { flooder, neighbour, flooderKeyId } = await serveWithKeys({ rateLimitPerSecond: RATE, rateLimitBurst: BURST });
    const started = performance.now();
    const outcomes = (calls: Promise<unknown>[]) =>
      Promise.all(calls.map((call) => call.then(() => ({ code: status.OK, details: "" }), () => rejection(call))));
    const [flooded, served] = await Promise.all([
      outcomes(Array.from({ length: 300 }, () => flooder.check(annViewsReadme))),
      // Fewer than the burst: with its own bucket, the neighbour never waits for a refill.
      outcomes(Array.from({ length: BURST - 5 }, () => neighbour.check(annViewsReadme))),
    ]);
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect(served.map((outcome) => outcome.code)).toEqual(Array(BURST - 5).fill(status.OK));
    const admitted = flooded.filter((outcome) => outcome.code === status.OK).length;
    expect(admitted).toBeGreaterThanOrEqual(BURST);
    // The burst, plus whatever refilled while the flood ran (however slow the machine).
    expect(admitted).toBeLessThanOrEqual(BURST + Math.ceil(elapsedSeconds * RATE));
    for (const refused of flooded.filter((outcome) => outcome.code !== status.OK)) {
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused.details).toContain(`caller key "${flooderKeyId}"`);
      expect(refused.details).toContain("rateLimitPerSecond");
    }
    // The health service is never limited.
    expect(await flooder.health()).toBe("SERVING");
  });
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const message of stream) all.push(message);
  return all;
}

/** Pulls a stream's first message, keeping the stream open; `close` cancels it. */
function openStream<T>(stream: AsyncIterable<T>) {
  const iterator = stream[Symbol.asyncIterator]();
  return { first: iterator.next(), close: () => iterator.return?.() };
}

describe("too many concurrent streams for one key", () => {
  it("refuses the key's next stream naming the limit, leaves other keys alone, and frees a slot when a client goes away", async () => {
    const { admin, schemaToken, flooder, neighbour } = await serveWithKeys({ maxStreamsPerKey: 2 });
    const watches = [flooder.watch({ optionalStartCursor: { token: schemaToken } }), flooder.watch({ optionalStartCursor: { token: schemaToken } })].map(openStream);
    await admin.writeRelationships({ updates: [update("touch", "document:readme#viewer@user:ann")] });
    // Both watches deliver the write: both are open on the server.
    await Promise.all(watches.map((watch) => watch.first));

    const refused = await rejection(openStream(flooder.lookupResources({ resourceObjectType: "document", permission: "view", subject: annViewsReadme.subject })).first);
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.details).toContain("maxStreamsPerKey");
    expect(refused.details).toContain("--max-streams-per-key");
    // Unary calls are not streams; another key's streams are its own.
    expect((await flooder.check({ ...annViewsReadme, consistency: { fullyConsistent: true } })).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    const neighbours = await collect(neighbour.lookupResources({ resourceObjectType: "document", permission: "view", subject: annViewsReadme.subject, consistency: { fullyConsistent: true } }));
    expect(neighbours.flatMap((message) => message.results ?? []).map((result) => result.resourceObjectId)).toEqual(["readme"]);

    await watches[0]?.close();
    // The server learns of the cancellation asynchronously: the slot comes back shortly after.
    await expect
      .poll(async () => (await collect(flooder.readRelationships({ relationshipFilter: { resourceType: "document" } })).then(() => "served", () => "refused")))
      .toBe("served");
    await watches[1]?.close();
  });
});
