import { parseIntegerSetting, settingOf, stringOption } from "./parse-command-line.ts";
import type { OptionSpec, ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

/** LOG_LEVELS are pino's levels, quietest last. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** LogLevel is one of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** DATASTORES are the values --datastore accepts. */
const DATASTORES = ["memory", "postgres", "pglite"] as const;

/** DatastoreKind is one of DATASTORES. */
export type DatastoreKind = (typeof DATASTORES)[number];

/** DEFAULT_DATA_DIR is the PGlite data folder when neither --data nor MANDATE_DATA is given. */
export const DEFAULT_DATA_DIR = "./data";

/** DEFAULT_GC_WINDOW_MS is how long deleted relationships stay readable (24 h). */
export const DEFAULT_GC_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * DatastoreConfig says which datastore to open: `postgres` at `databaseUrl`, `pglite` in
 * `dataDir`, or `memory`. The default is postgres when a database URL is given, else pglite in
 * ./data, so that a first run keeps its data with nothing installed.
 */
export interface DatastoreConfig {
  readonly datastore: DatastoreKind;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

/** ServeConfig is everything `mandate serve` needs, resolved from flags, then environment, then defaults. */
export interface ServeConfig extends DatastoreConfig {
  readonly host: string;
  readonly port: number;
  readonly schemaFile: string | undefined;
  readonly relationshipsFile: string | undefined;
  /** gcWindowMs: deleted relationships older than this are removed in the background; 0 disables. */
  readonly gcWindowMs: number;
  readonly logLevel: LogLevel;
  readonly maxDepth: number;
  /** cacheEntries bounds the engine's cross-request subproblem cache; 0 disables it. */
  readonly cacheEntries: number;
}

/** DEFAULT_CACHE_ENTRIES is the subproblem cache's default size (entries, not bytes). */
export const DEFAULT_CACHE_ENTRIES = 100_000;

/** DATASTORE_OPTIONS are the flags that choose a datastore (serve and migrate). */
export const DATASTORE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  data: { type: "string" },
  datastore: { type: "string" },
  "database-url": { type: "string" },
};

/** SERVE_OPTIONS are the flags of `mandate serve`. */
export const SERVE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  host: { type: "string" },
  port: { type: "string", short: "p" },
  schema: { type: "string" },
  relationships: { type: "string" },
  ...DATASTORE_OPTIONS,
  "gc-window": { type: "string" },
  "log-level": { type: "string" },
  "max-depth": { type: "string" },
  "cache-entries": { type: "string" },
};

/**
 * resolveServeConfig reads the flags of `mandate serve` and their environment variables
 * (MANDATE_HOST, MANDATE_PORT, MANDATE_SCHEMA, MANDATE_RELATIONSHIPS, MANDATE_DATA,
 * MANDATE_DATASTORE, DATABASE_URL, MANDATE_GC_WINDOW, MANDATE_LOG_LEVEL, MANDATE_MAX_DEPTH,
 * MANDATE_CACHE_ENTRIES); a flag
 * wins over its variable.
 * Throws UsageError naming the flag and variable at fault.
 */
export function resolveServeConfig(parsed: ParsedCommandLine, env: Readonly<Record<string, string | undefined>>): ServeConfig {
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const setting = (flag: string, variable: string) => settingOf(stringOption(parsed, flag), env[variable]);
  const port = parseIntegerSetting(setting("port", "MANDATE_PORT") ?? "50051", "--port/MANDATE_PORT", 0, 65_535);
  const maxDepth = parseIntegerSetting(setting("max-depth", "MANDATE_MAX_DEPTH") ?? "50", "--max-depth/MANDATE_MAX_DEPTH", 1, 10_000);
  const cacheEntries = parseIntegerSetting(
    setting("cache-entries", "MANDATE_CACHE_ENTRIES") ?? String(DEFAULT_CACHE_ENTRIES),
    "--cache-entries/MANDATE_CACHE_ENTRIES",
    0,
    100_000_000,
  );
  const logLevel = setting("log-level", "MANDATE_LOG_LEVEL") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level/MANDATE_LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  const gcWindowMs = parseDuration(setting("gc-window", "MANDATE_GC_WINDOW") ?? "24h", "--gc-window/MANDATE_GC_WINDOW");
  return {
    host: setting("host", "MANDATE_HOST") ?? "127.0.0.1",
    port,
    schemaFile: setting("schema", "MANDATE_SCHEMA"),
    relationshipsFile: setting("relationships", "MANDATE_RELATIONSHIPS"),
    ...resolveDatastoreConfig(parsed, env),
    gcWindowMs,
    logLevel: logLevel as LogLevel,
    maxDepth,
    cacheEntries,
  };
}

/**
 * resolveDatastoreConfig reads --datastore/MANDATE_DATASTORE, --database-url/DATABASE_URL and
 * --data/MANDATE_DATA. Throws UsageError for an unknown datastore, or postgres without a URL.
 */
export function resolveDatastoreConfig(parsed: ParsedCommandLine, env: Readonly<Record<string, string | undefined>>): DatastoreConfig {
  const databaseUrl = settingOf(stringOption(parsed, "database-url"), env["DATABASE_URL"]);
  const dataDir = settingOf(stringOption(parsed, "data"), env["MANDATE_DATA"], DEFAULT_DATA_DIR);
  const datastore = settingOf(stringOption(parsed, "datastore"), env["MANDATE_DATASTORE"]) ?? (databaseUrl === undefined ? "pglite" : "postgres");
  if (!(DATASTORES as readonly string[]).includes(datastore)) {
    throw new UsageError(`--datastore/MANDATE_DATASTORE: "${datastore}" is not one of ${DATASTORES.join(", ")}`);
  }
  if (datastore === "postgres" && databaseUrl === undefined) {
    throw new UsageError("--datastore postgres needs --database-url or DATABASE_URL (e.g. postgres://user@host:5432/mandate)");
  }
  return { datastore: datastore as DatastoreKind, databaseUrl, dataDir };
}

/**
 * parseDuration reads `24h`, `30m`, `90s`, `500ms`, `2d` or `0`; `name` names the flag in errors.
 */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  const unit = match?.[2];
  if (!match || (unit === undefined && match[1] !== "0")) {
    throw new UsageError(`${name}: "${text}" is not a duration (e.g. 24h, 30m, 90s, 0 to disable)`, { field: name });
  }
  const factors: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * (factors[unit ?? "ms"] ?? 1);
}

/** SERVE_HELP is the help text of `mandate serve`. */
export const SERVE_HELP = `Usage: mandate serve [flags]

Runs the gRPC server: mandate.v1 PermissionsService, SchemaService, WatchService and
DelegationService, the gRPC health service and server reflection. Logs JSON lines (pino) to
stdout, including the address it serves on.
SIGINT or SIGTERM stop it cleanly (calls in flight get up to 5 s; the datastore is closed).
Migrations are applied at start (or ahead of time with "mandate migrate").

Flags (each with its environment variable; the flag wins):
  --host HOST            MANDATE_HOST       address to bind (default 127.0.0.1, this machine
                                            only; use 0.0.0.0 to accept remote connections)
  --port N, -p N         MANDATE_PORT       port (default 50051; 0 picks a free port)
  --schema FILE          MANDATE_SCHEMA     schema to load at start; written only if it differs
                                            from the stored one (a refused change stops the server)
  --relationships FILE   MANDATE_RELATIONSHIPS  relationships to touch at start (demo data;
                                            one per line, SpiceDB text form, // comments)
  --datastore NAME       MANDATE_DATASTORE  postgres (default when a database URL is set),
                                            pglite (default otherwise: embedded Postgres in
                                            --data, nothing to install) or memory (tests; all
                                            data is lost when the server stops)
  --database-url URL     DATABASE_URL       Postgres to use, e.g. postgres://user@host:5432/db
  --data DIR             MANDATE_DATA       PGlite data folder (default ${DEFAULT_DATA_DIR})
  --gc-window DURATION   MANDATE_GC_WINDOW  keep deleted relationships readable this long
                                            (default 24h; e.g. 30m, 7d); older history is
                                            removed in the background and tokens older than
                                            it are refused for exact-snapshot reads
  --log-level LEVEL      MANDATE_LOG_LEVEL  ${LOG_LEVELS.join(", ")} (default info)
  --max-depth N          MANDATE_MAX_DEPTH  recursion bound of a check (default 50)
  --cache-entries N      MANDATE_CACHE_ENTRIES  size of the check cache shared by requests
                                            (default ${DEFAULT_CACHE_ENTRIES}; 0 disables it and the lookup cache)
`;
