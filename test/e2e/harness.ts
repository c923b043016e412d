import { pino } from "pino";
import type { Logger } from "pino";
import { ApiKeyRegistry, MandateServer, callErrorOf, createMandateClient, relationshipToWire } from "../../src/api/index.ts";
import type { ApiLimits, MandateCallError, MandateClient, WireRelationship, WireRelationshipUpdate, WireUpdateOperation } from "../../src/api/index.ts";
import { Engine } from "../../src/engine/index.ts";
import { startGraphIndexFollower } from "../../src/graph/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/index.ts";
import { parseRelationship } from "../../src/tuple/index.ts";

/** Harness is one Mandate server on a loopback port with a client connected to it. */
export interface Harness {
  readonly client: MandateClient;
  readonly store: Store;
  readonly address: string;
  /** apiKeys is the server's key registry (with `auth`, the one that authenticates calls). */
  readonly apiKeys: ApiKeyRegistry;
  /** connect opens another client, sending `apiKey` as its bearer token if given; close() closes it. */
  connect(apiKey?: string): MandateClient;
  close(): Promise<void>;
}

/** HarnessAuth turns authentication on: keys are verified against the clock `now` (default Date.now), open calls recheck every `recheckMs`. */
export interface HarnessAuth {
  readonly now?: () => number;
  readonly recheckMs?: number;
  /** failedAuthentications: the bound on failed authentications per address, with its clock (default: the server's). */
  readonly failedAuthentications?: { readonly perSecond: number; readonly burst: number; readonly now?: () => number };
}

/**
 * startHarness serves a fresh store (default: a MemoryStore) on 127.0.0.1 (port 0) and connects a
 * client; the server logs to `logger` (default: nowhere) and answers with `engine` (default: a new
 * Engine with `maxDepth`, on a graph index following the store, as `mandate serve` runs; with
 * `index: false`, the plain walk on the store only). Authentication is off unless `auth` is given;
 * then the default client holds no key: tests connect() with the keys they create.
 */
export async function startHarness(
  options: { limits?: Partial<ApiLimits>; maxDepth?: number; store?: () => Promise<Store>; logger?: Logger; engine?: Engine; index?: boolean; auth?: HarnessAuth } = {},
): Promise<Harness> {
  const store = options.store ? await options.store() : new MemoryStore();
  const follower = options.index === false || options.engine !== undefined ? undefined : await startGraphIndexFollower(store);
  const apiKeys = new ApiKeyRegistry({ store, now: options.auth?.now });
  const server = new MandateServer({
    store,
    engine: options.engine ?? new Engine({ maxDepth: options.maxDepth ?? 50 }, { follower, budgets: store }),
    logger: options.logger ?? pino({ level: "silent" }),
    limits: options.limits,
    follower,
    auth: options.auth === undefined ? "none" : "keys",
    apiKeys,
    authRecheckMs: options.auth?.recheckMs,
    failedAuthentications: options.auth?.failedAuthentications,
  });
  const port = await server.listen("127.0.0.1", 0);
  const address = `127.0.0.1:${port}`;
  const client = createMandateClient(address);
  const clients = [client];
  return {
    client,
    store,
    address,
    apiKeys,
    connect(apiKey) {
      const opened = createMandateClient(address, undefined, { apiKey });
      clients.push(opened);
      return opened;
    },
    async close() {
      for (const opened of clients) opened.close();
      await server.shutdown(100);
      await follower?.stop();
      await store.close();
    },
  };
}

/** rel converts SpiceDB text form to a wire relationship. */
export function rel(text: string): WireRelationship {
  return relationshipToWire(parseRelationship(text));
}

/** update builds one wire update from text form. */
export function update(operation: "create" | "touch" | "delete", text: string): WireRelationshipUpdate {
  const wireOperation: WireUpdateOperation =
    operation === "create" ? "OPERATION_CREATE" : operation === "touch" ? "OPERATION_TOUCH" : "OPERATION_DELETE";
  return { operation: wireOperation, relationship: rel(text) };
}

/** rejection awaits a promise expected to fail with a gRPC status and returns its code and details. */
export async function rejection(promise: Promise<unknown>): Promise<MandateCallError> {
  try {
    await promise;
  } catch (error) {
    const failure = callErrorOf(error);
    if (failure === undefined) throw error;
    return failure;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** DRIVE_SCHEMA is a small Google-Drive-like schema used across the e2e suites. */
export const DRIVE_SCHEMA = `definition user {}

definition group {
  relation member: user | group#member
}

definition folder {
  relation parent: folder
  relation viewer: user | group#member
  permission view = viewer + parent->view
}

definition document {
  relation parent: folder
  relation owner: user
  relation editor: user | group#member
  relation viewer: user | user:* | group#member
  relation banned: user
  permission edit = owner + editor
  permission view = (viewer + edit + parent->view) - banned
}
`;
