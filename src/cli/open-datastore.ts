import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Logger } from "pino";
import type { DatastoreLocation, PoolUsage, Store } from "../store/index.ts";
import { MemoryStore, PostgresStore, migrate } from "../store/index.ts";
import { assertNever } from "../tuple/index.ts";
import type { DatastoreConfig } from "./serve-config.ts";
import { UsageError } from "./usage-error.ts";

/** OpenedDatastore is a store ready for use, and how to start its background GC. */
export interface OpenedDatastore {
  readonly store: Store;
  /** description names the datastore for logs, without credentials (e.g. "pglite ./data"). */
  readonly description: string;
  /**
   * startGarbageCollection removes history older than `windowMs` every `intervalMs`, in the
   * background, until the store closes; failures are logged and retried at the next run.
   */
  startGarbageCollection(windowMs: number, intervalMs: number): void;
  /** poolUsage is the connection pool's state now (Postgres), undefined without a pool (PGlite, memory). */
  poolUsage(): PoolUsage | undefined;
}

/**
 * openDatastore opens the datastore `config` names, applying pending migrations: Postgres at the
 * database URL, PGlite in the data folder (created if missing; relative to `cwd`), or a fresh
 * MemoryStore. Throws StoreUnavailableError when Postgres cannot be reached.
 */
export async function openDatastore(config: DatastoreConfig, cwd: string, logger: Logger): Promise<OpenedDatastore> {
  switch (config.datastore) {
    case "memory":
      return { store: new MemoryStore(), description: "memory", startGarbageCollection: () => undefined, poolUsage: () => undefined };
    case "postgres": {
      const store = await PostgresStore.connect(requireUrl(config));
      return durable(store, `postgres ${redactUrl(requireUrl(config))}`, logger);
    }
    case "pglite": {
      const dataDir = resolve(cwd, config.dataDir);
      mkdirSync(dataDir, { recursive: true });
      return durable(await PostgresStore.embedded(dataDir), `pglite ${config.dataDir}`, logger);
    }
    default:
      return assertNever(config.datastore, "datastore");
  }
}

/**
 * migrateDatastore applies the pending migrations of the postgres or pglite datastore `config`
 * names, and returns a description of it and the names of the migrations applied.
 */
export async function migrateDatastore(config: DatastoreConfig, cwd: string): Promise<{ description: string; applied: string[] }> {
  let location: DatastoreLocation;
  let description: string;
  switch (config.datastore) {
    case "memory":
      throw new UsageError("--datastore memory has nothing to migrate");
    case "postgres":
      location = { url: requireUrl(config) };
      description = `postgres ${redactUrl(requireUrl(config))}`;
      break;
    case "pglite": {
      const dataDir = resolve(cwd, config.dataDir);
      mkdirSync(dataDir, { recursive: true });
      location = { dataDir };
      description = `pglite ${config.dataDir}`;
      break;
    }
    default:
      return assertNever(config.datastore, "datastore");
  }
  return { description, applied: await migrate(location) };
}

function durable(store: PostgresStore, description: string, logger: Logger): OpenedDatastore {
  const log = logger.child({ module: "gc" });
  return {
    store,
    description,
    poolUsage: () => store.poolUsage(),
    startGarbageCollection: (windowMs, intervalMs) => {
      if (windowMs <= 0) return;
      store.startGarbageCollection({
        windowMs,
        intervalMs,
        onResult: (result) => {
          if ("error" in result) log.warn({ err: result.error }, "garbage collection failed; retrying at the next run");
          else log.debug({ removed: result.removed }, "garbage collection done");
        },
      });
    },
  };
}

function requireUrl(config: DatastoreConfig): string {
  if (config.databaseUrl === undefined) throw new UsageError("--datastore postgres needs --database-url or DATABASE_URL");
  return config.databaseUrl;
}

/** gcIntervalFor picks how often GC runs for a window: a tenth of it, between 1 s and 1 h. */
export function gcIntervalFor(windowMs: number): number {
  return Math.min(Math.max(Math.floor(windowMs / 10), 1000), 3_600_000);
}

/** redactUrl drops the password from a database URL, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
