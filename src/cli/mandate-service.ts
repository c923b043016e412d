import type { Logger } from "pino";
import { MandateServer } from "../api/index.ts";
import { Engine } from "../engine/index.ts";
import { startGraphIndexFollower } from "../graph/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import type { RunningService, ServiceStats } from "./mandate-service-types.ts";
import { gcIntervalFor, openDatastore } from "./open-datastore.ts";
import type { ServeConfig } from "./serve-config.ts";

export type { RunningService, ServiceStats } from "./mandate-service-types.ts";

/** MandateServiceConfig is what startMandateService needs of `mandate serve`'s configuration. */
export type MandateServiceConfig = Pick<ServeConfig, "datastore" | "databaseUrl" | "dataDir" | "host" | "port" | "gcWindowMs" | "maxDepth" | "cacheEntries">;

/**
 * startMandateService opens (and migrates) the datastore, loads the graph index from it and keeps
 * it following the store, builds the engine on the index and the gRPC server, starts the
 * datastore's background GC and listens. Relative data folders resolve against `cwd`. Whatever
 * was opened is closed again if a later step fails.
 */
export async function startMandateService(config: MandateServiceConfig, logger: Logger, cwd: string): Promise<RunningService> {
  const datastore = await openDatastore(config, cwd, logger);
  const store = datastore.store;
  let follower: GraphIndexFollower | undefined;
  let server: MandateServer | undefined;
  try {
    follower = await startGraphIndexFollower(store, { logger: logger.child({ module: "graph" }) });
    const engine = new Engine({ maxDepth: config.maxDepth, cacheEntries: config.cacheEntries }, { follower, budgets: store });
    server = new MandateServer({ store, engine, logger, follower });
    datastore.startGarbageCollection(config.gcWindowMs, gcIntervalFor(config.gcWindowMs));
    const port = await server.listen(config.host, config.port);
    // Narrowed copies for the closures below (the `let`s stay possibly undefined to TypeScript).
    const [serving, following] = [server, follower];
    return {
      port,
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
          await serving.shutdown();
          await following.stop();
        } finally {
          await store.close();
        }
      },
    };
  } catch (error) {
    await server?.shutdown(0).catch(() => undefined);
    await follower?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}
