import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callErrorOf, createMandateClient } from "../../src/api/index.ts";
import type { MandateClient } from "../../src/api/index.ts";
import { startServe } from "./serve-process.ts";
import type { ServeProcess } from "./serve-process.ts";

// `mandate serve` with the per-key limits set by flag and by environment variable: they reach the
// server. (The limits themselves are tested in test/e2e/abuse.test.ts and the interceptor's test.)
// Authentication is off: every call is the key `anonymous`.

const DRIVE = ["--datastore", "memory", "--schema", "schema/drive.zed", "--relationships", "schema/drive.relationships"];
const opened: Array<{ serve: ServeProcess; client: MandateClient }> = [];
let rateLimited: MandateClient;
let streamLimited: MandateClient;

beforeAll(async () => {
  const start = async (args: string[], env: Record<string, string>) => {
    const serve = await startServe(args, env);
    const client = createMandateClient(serve.endpoint);
    opened.push({ serve, client });
    return client;
  };
  [rateLimited, streamLimited] = await Promise.all([
    // A burst smaller than the start-up data's calls (read schema, write schema, write relationships).
    start([...DRIVE, "--rate-limit", "1", "--rate-burst", "2"], {}),
    start(DRIVE, { MANDATE_MAX_STREAMS_PER_KEY: "1" }),
  ]);
});

afterAll(async () => {
  for (const { serve, client } of opened) {
    client.close();
    await serve.stop();
  }
});

const subject = { object: { objectType: "user", objectId: "bob" } };
const checkOn = (client: MandateClient) => client.check({ resource: { objectType: "document", objectId: "readme" }, permission: "view", subject });
const outcomeOf = (call: Promise<unknown>) => call.then(() => "OK", (error: unknown) => callErrorOf(error)?.codeName ?? "?");

async function lookupOn(client: MandateClient): Promise<string> {
  const failure = await (async () => {
    for await (const _ of client.lookupResources({ resourceObjectType: "document", permission: "view", subject }));
  })().then(
    () => undefined,
    (error: unknown) => callErrorOf(error),
  );
  if (failure !== undefined) expect(failure.details).toContain("--max-streams-per-key");
  return failure?.codeName ?? "OK";
}

describe("mandate serve --rate-limit --rate-burst", () => {
  it("loads its start-up data whatever the limits, then refuses calls past the burst naming the flag", async () => {
    expect((await checkOn(rateLimited)).permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
    const failures = await Promise.all(Array.from({ length: 30 }, () => checkOn(rateLimited).then(() => undefined, (error: unknown) => callErrorOf(error))));
    const refused = failures.filter((failure) => failure !== undefined);
    // At most the rest of the burst, plus a few refilled at 1 per second while the 30 calls ran.
    expect(refused.length).toBeGreaterThanOrEqual(20);
    expect(refused.every((failure) => failure?.codeName === "RESOURCE_EXHAUSTED" && failure.details.includes("--rate-limit"))).toBe(true);
    expect(await rateLimited.health()).toBe("SERVING");
  });
});

describe("MANDATE_MAX_STREAMS_PER_KEY", () => {
  it("refuses a second stream of the key while its Watch is open, and serves it again once the Watch ends", async () => {
    const cancel = new AbortController();
    const watch = outcomeOf((async () => {
      for await (const _ of streamLimited.watch({}, { signal: cancel.signal }));
    })());
    // The Watch holds the key's one slot once the server has it.
    await expect.poll(() => lookupOn(streamLimited)).toBe("RESOURCE_EXHAUSTED");
    cancel.abort();
    expect(await watch).toBe("CANCELLED");
    await expect.poll(() => lookupOn(streamLimited)).toBe("OK");
  });
});
