import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { ApiKeyRegistry, MandateMetrics, MandateServer, MetricsEndpoint } from "../api/index.ts";
import { serverCredentials } from "../api/index.ts";
import type { ApiLimits, ServerTls } from "../api/index.ts";
import { Engine } from "../engine/index.ts";
import { startGraphIndexFollower } from "../graph/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import type { RunningService, ServiceStats } from "./mandate-service-types.ts";
import { gcIntervalFor, openDatastore } from "./open-datastore.ts";
import { prepareAuthentication } from "./prepare-authentication.ts";
import type { ServeConfig } from "./serve-config.ts";

export type { RunningService, ServiceStats } from "./mandate-service-types.ts";

/** MandateServiceConfig is what startMandateService needs of `mandate serve`'s configuration. */
export type MandateServiceConfig = Pick<ServeConfig, "datastore" | "databaseUrl" | "dataDir" | "host" | "port" | "gcWindowMs" | "maxDepth" | "cacheEntries"> &
  Partial<
    Pick<ServeConfig, "shutdownGraceMs" | "rateLimitPerSecond" | "rateLimitBurst" | "maxStreamsPerKey" | "metricsPort" | "metricsHost" | "auth" | "bootstrapKey">
  >;

/**
 * MandateServiceOptions: `tls` to serve TLS (plaintext without), and `beforeListen`, called with
 * the address of a private plaintext socket before the server listens publicly (see
 * startMandateService).
 */
export interface MandateServiceOptions {
  readonly tls?: ServerTls | undefined;
  /** beforeListen gets `apiKey`, an admin key of this process only, revoked once it returns, when authentication is on. */
  readonly beforeListen?: ((privateAddress: string, apiKey: string | undefined) => Promise<void>) | undefined;
}

/**
 * startMandateService opens (and migrates) the datastore, loads the graph index from it and keeps
 * it following the store, builds the engine on the index and the gRPC server, starts the
 * datastore's background GC and listens. Relative data folders resolve against `cwd`. Whatever
 * was opened is closed again if a later step fails.
 *
 * `beforeListen` (start-up data) runs against a Unix socket in a fresh folder only this user can
 * open, plaintext whatever `tls` says, and closed before the public listen: the process needs no
 * client certificate of its own for mutual TLS, and no client sees a half-loaded schema.
 */
export async function startMandateService(
  config: MandateServiceConfig,
  logger: Logger,
  cwd: string,
  options: MandateServiceOptions = {},
): Promise<RunningService> {
  const datastore = await openDatastore(config, cwd, logger);
  const store = datastore.store;
  let follower: GraphIndexFollower | undefined;
  let server: MandateServer | undefined;
  let metricsEndpoint: MetricsEndpoint | undefined;
  try {
    follower = await startGraphIndexFollower(store, { logger: logger.child({ module: "graph" }) });
    const engine = new Engine({ maxDepth: config.maxDepth, cacheEntries: config.cacheEntries }, { follower, budgets: store });
    const metrics = config.metricsPort === undefined ? undefined : new MandateMetrics({ engine, store, follower, poolUsage: datastore.poolUsage });
    // Authentication is on only when asked: `mandate serve` asks by default (--auth keys).
    const auth = config.auth ?? "none";
    const apiKeys = new ApiKeyRegistry({ store });
    await prepareAuthentication({ auth, bootstrapKey: config.bootstrapKey }, apiKeys, logger);
    server = new MandateServer({ store, engine, logger, follower, limits: perKeyLimitsOf(config), callObservers: metrics === undefined ? [] : [metrics], auth, apiKeys });
    datastore.startGarbageCollection(config.gcWindowMs, gcIntervalFor(config.gcWindowMs));
    if (options.beforeListen !== undefined) await runBeforeListen(server, options.beforeListen, auth === "keys" ? apiKeys : undefined);
    const port = await server.listen(config.host, config.port, serverCredentials(options.tls));
    const metricsServing = metrics === undefined ? undefined : await serveMetrics(metrics, config.metricsHost ?? "127.0.0.1", config.metricsPort ?? 0, logger);
    metricsEndpoint = metricsServing?.endpoint;
    // Narrowed copies for the closures below (the `let`s stay possibly undefined to TypeScript).
    const [serving, following] = [server, follower];
    return {
      port,
      metricsPort: metricsServing?.port,
      description: datastore.description,
      stats(): ServiceStats {
        const engineStats = engine.stats();
        return {
          cache: engineStats.cache,
          indexed: engineStats.indexed,
          fallbacks: engineStats.fallbacks,
          // follower.index, not a copy: a reload replaces the index object.
          index: following.index.stats(),
          rssBytes: process.memoryUsage.rss(),
        };
      },
      async stop(): Promise<void> {
        try {
          await serving.shutdown(config.shutdownGraceMs);
          await following.stop();
        } finally {
          await metricsServing?.endpoint.close();
          await store.close();
        }
      },
    };
  } catch (error) {
    await server?.shutdown(0).catch(() => undefined);
    await metricsEndpoint?.close().catch(() => undefined);
    await follower?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

// The per-key limits the configuration sets; those it leaves out keep DEFAULT_API_LIMITS.
function perKeyLimitsOf(config: MandateServiceConfig): Partial<ApiLimits> {
  const { rateLimitPerSecond, rateLimitBurst, maxStreamsPerKey } = config;
  return Object.fromEntries(Object.entries({ rateLimitPerSecond, rateLimitBurst, maxStreamsPerKey }).filter(([, value]) => value !== undefined));
}

// Serves `metrics` for Prometheus at http://host:port/metrics and logs where.
async function serveMetrics(metrics: MandateMetrics, host: string, port: number, logger: Logger): Promise<{ endpoint: MetricsEndpoint; port: number }> {
  const endpoint = new MetricsEndpoint(metrics);
  const bound = await endpoint.listen(host, port);
  const address = `${host.includes(":") ? `[${host}]` : host}:${bound}`;
  logger.info({ metricsAddress: address }, `metrics on http://${address}/metrics`);
  return { endpoint, port: bound };
}

async function runBeforeListen(
  server: MandateServer,
  beforeListen: NonNullable<MandateServiceOptions["beforeListen"]>,
  apiKeys: ApiKeyRegistry | undefined,
): Promise<void> {
  // mkdtemp creates the folder with mode 0700: other users cannot reach the socket inside.
  const folder = mkdtempSync(join(tmpdir(), "mandate-"));
  // With authentication on, start-up data is written with a key that exists in this process only.
  const localKey = apiKeys?.issueLocalKey("mandate serve start-up data", "admin");
  try {
    const socket = await server.listenPrivately(join(folder, "startup.sock"));
    try {
      await beforeListen(socket.address, localKey?.token);
    } finally {
      socket.close();
    }
  } finally {
    localKey?.revoke();
    rmSync(folder, { recursive: true, force: true });
  }
}
