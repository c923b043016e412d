import { DEFAULT_API_LIMITS } from "../api/index.ts";
import { readConfigFile } from "./config-file.ts";
import type { ConfigFileSettings } from "./config-file.ts";
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

/**
 * ServerTlsFiles are the PEM files of --tls-cert, --tls-key and (mutual TLS) --tls-client-ca, as
 * given (relative to the working directory); see readServerTls.
 */
export interface ServerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | undefined;
}

/** ServeConfig is everything `mandate serve` needs, resolved from flags, then environment, then the configuration file, then defaults. */
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
  /** metricsPort: serve Prometheus metrics over HTTP on this port (0 picks a free one); undefined serves none. */
  readonly metricsPort: number | undefined;
  /** metricsHost: the address the metrics endpoint binds (default 127.0.0.1: it has no authentication, so serving it further is a choice). */
  readonly metricsHost: string;
  /** rateLimitPerSecond, rateLimitBurst, maxStreamsPerKey: the per-caller-key limits of ApiLimits (0 turns each off). */
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  readonly maxStreamsPerKey: number;
  /** tls: serve TLS with these files; undefined serves plaintext. */
  readonly tls: ServerTlsFiles | undefined;
  /** shutdownGraceMs: how long calls in flight may finish after SIGTERM before they are cancelled. */
  readonly shutdownGraceMs: number;
  /** auth: `keys` (default) makes every call but health present an API key; `none` lets every call in. */
  readonly auth: AuthMode;
  /**
   * bootstrapKey: MANDATE_BOOTSTRAP_KEY (environment only: flags show in process lists), a token
   * the operator chose, registered as an admin key at start if absent. Never log it.
   */
  readonly bootstrapKey: string | undefined;
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
  "metrics-port": { type: "string" },
  "metrics-host": { type: "string" },
  "rate-limit": { type: "string" },
  "rate-burst": { type: "string" },
  "max-streams-per-key": { type: "string" },
  config: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-client-ca": { type: "string" },
  "shutdown-grace": { type: "string" },
  auth: { type: "string" },
};

/**
 * resolveServeConfig reads the flags of `mandate serve` and their environment variables
 * (MANDATE_HOST, MANDATE_PORT, MANDATE_SCHEMA, MANDATE_RELATIONSHIPS, MANDATE_DATA,
 * MANDATE_DATASTORE, DATABASE_URL, MANDATE_GC_WINDOW, MANDATE_LOG_LEVEL, MANDATE_MAX_DEPTH,
 * MANDATE_CACHE_ENTRIES, MANDATE_METRICS_PORT, MANDATE_METRICS_HOST, MANDATE_RATE_LIMIT, MANDATE_RATE_BURST, MANDATE_MAX_STREAMS_PER_KEY, MANDATE_AUTH, and MANDATE_BOOTSTRAP_KEY with no flag); a flag
 * wins over its variable, and the variable over the configuration file's `file` settings (by
 * flag name; see readServeConfigFile).
 * Throws UsageError naming the flag and variable at fault.
 */
export function resolveServeConfig(
  parsed: ParsedCommandLine,
  env: Readonly<Record<string, string | undefined>>,
  file: ConfigFileSettings = {},
): ServeConfig {
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const setting = (flag: string, variable: string) => settingOf(stringOption(parsed, flag), env[variable]) ?? file[flag];
  const port = parseIntegerSetting(setting("port", "MANDATE_PORT") ?? "50051", "--port/MANDATE_PORT", 0, 65_535);
  const maxDepth = parseIntegerSetting(setting("max-depth", "MANDATE_MAX_DEPTH") ?? "50", "--max-depth/MANDATE_MAX_DEPTH", 1, 10_000);
  const cacheEntries = parseIntegerSetting(
    setting("cache-entries", "MANDATE_CACHE_ENTRIES") ?? String(DEFAULT_CACHE_ENTRIES),
    "--cache-entries/MANDATE_CACHE_ENTRIES",
    0,
    100_000_000,
  );
  const perKey = (flag: string, variable: string, fallback: number) =>
    parseIntegerSetting(setting(flag, variable) ?? String(fallback), `--${flag}/${variable}`, 0, 1_000_000);
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
    ...resolveDatastoreConfig(parsed, env, file),
    gcWindowMs,
    logLevel: logLevel as LogLevel,
    maxDepth,
    cacheEntries,
    metricsPort: optionalPort(setting("metrics-port", "MANDATE_METRICS_PORT"), "--metrics-port/MANDATE_METRICS_PORT"),
    metricsHost: setting("metrics-host", "MANDATE_METRICS_HOST") ?? "127.0.0.1",
    rateLimitPerSecond: perKey("rate-limit", "MANDATE_RATE_LIMIT", DEFAULT_API_LIMITS.rateLimitPerSecond),
    rateLimitBurst: perKey("rate-burst", "MANDATE_RATE_BURST", DEFAULT_API_LIMITS.rateLimitBurst),
    maxStreamsPerKey: perKey("max-streams-per-key", "MANDATE_MAX_STREAMS_PER_KEY", DEFAULT_API_LIMITS.maxStreamsPerKey),
    tls: resolveServerTls(setting("tls-cert", "MANDATE_TLS_CERT"), setting("tls-key", "MANDATE_TLS_KEY"), setting("tls-client-ca", "MANDATE_TLS_CLIENT_CA")),
    shutdownGraceMs: parseDuration(setting("shutdown-grace", "MANDATE_SHUTDOWN_GRACE") ?? "5s", "--shutdown-grace/MANDATE_SHUTDOWN_GRACE"),
    auth: authModeOf(setting("auth", "MANDATE_AUTH") ?? "keys"),
    bootstrapKey: settingOf(undefined, env["MANDATE_BOOTSTRAP_KEY"]),
  };
}

/** AUTH_MODES are the values --auth accepts. */
const AUTH_MODES = ["keys", "none"] as const;

/** AuthMode is one of AUTH_MODES. */
export type AuthMode = (typeof AUTH_MODES)[number];

function authModeOf(text: string): AuthMode {
  if (!(AUTH_MODES as readonly string[]).includes(text)) throw new UsageError(`--auth/MANDATE_AUTH: "${text}" is not one of ${AUTH_MODES.join(", ")}`, { field: "--auth" });
  return text as AuthMode;
}

// A certificate needs its key and a key its certificate; a client CA (mutual TLS) needs both.
function resolveServerTls(certFile: string | undefined, keyFile: string | undefined, clientCaFile: string | undefined): ServerTlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) throw new UsageError("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)", { field: "--tls-client-ca" });
    return undefined;
  }
  if (certFile === undefined) throw new UsageError("--tls-key needs --tls-cert/MANDATE_TLS_CERT", { field: "--tls-cert" });
  if (keyFile === undefined) throw new UsageError("--tls-cert needs --tls-key/MANDATE_TLS_KEY", { field: "--tls-key" });
  return { certFile, keyFile, clientCaFile };
}

/** CONFIG_FILE_KEYS are the keys a configuration file may set: every flag of `mandate serve` but --config. */
export const CONFIG_FILE_KEYS: readonly string[] = Object.keys(SERVE_OPTIONS).filter((name) => name !== "config");

/**
 * readServeConfigFile reads the configuration file of --config/MANDATE_CONFIG (relative to `cwd`),
 * or returns no settings when neither is given. Throws UsageError naming the file, line and key at
 * fault (see parseConfigFile).
 */
export function readServeConfigFile(parsed: ParsedCommandLine, env: Readonly<Record<string, string | undefined>>, cwd: string): ConfigFileSettings {
  const path = settingOf(stringOption(parsed, "config"), env["MANDATE_CONFIG"]);
  return path === undefined ? {} : readConfigFile(path, cwd, CONFIG_FILE_KEYS);
}

// A port that may be left unset (the feature it serves is then off).
function optionalPort(text: string | undefined, name: string): number | undefined {
  return text === undefined ? undefined : parseIntegerSetting(text, name, 0, 65_535);
}

/**
 * resolveDatastoreConfig reads --datastore/MANDATE_DATASTORE, --database-url/DATABASE_URL and
 * --data/MANDATE_DATA (then the configuration file's `file` settings). Throws UsageError for an unknown datastore, or postgres without a URL.
 */
export function resolveDatastoreConfig(
  parsed: ParsedCommandLine,
  env: Readonly<Record<string, string | undefined>>,
  file: ConfigFileSettings = {},
): DatastoreConfig {
  const databaseUrl = settingOf(stringOption(parsed, "database-url"), env["DATABASE_URL"]) ?? file["database-url"];
  const dataDir = settingOf(stringOption(parsed, "data"), env["MANDATE_DATA"]) ?? file["data"] ?? DEFAULT_DATA_DIR;
  const datastore =
    settingOf(stringOption(parsed, "datastore"), env["MANDATE_DATASTORE"]) ?? file["datastore"] ?? (databaseUrl === undefined ? "pglite" : "postgres");
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
SIGINT or SIGTERM stop it cleanly: it stops accepting calls, calls in flight get up to
--shutdown-grace to finish, then the datastore is closed.
Migrations are applied at start (or ahead of time with "mandate migrate").
Health: "" (and each service) is readiness: SERVING once the graph index has caught up with
the datastore; "liveness" is SERVING from start to shutdown.

Flags (each with its environment variable; a flag wins over its variable, a variable over the
configuration file):
  --config FILE          MANDATE_CONFIG     YAML file setting any flag below by its long name,
                                            e.g. "port: 50051" or "tls-cert: server.pem";
                                            an unknown key is an error
  --tls-cert FILE        MANDATE_TLS_CERT   serve TLS with this PEM certificate (chain) ...
  --tls-key FILE         MANDATE_TLS_KEY    ... and its PEM private key (default: plaintext)
  --tls-client-ca FILE   MANDATE_TLS_CLIENT_CA  mutual TLS: clients must present a certificate
                                            signed by this PEM CA
  --shutdown-grace DURATION  MANDATE_SHUTDOWN_GRACE  how long calls in flight may finish after
                                            SIGTERM before they are cancelled (default 5s)
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
  --metrics-port N       MANDATE_METRICS_PORT  serve Prometheus metrics at http://HOST:N/metrics
                                            (default: off; 0 picks a free port). No authentication:
                                            bind it where only the scraper reaches it
  --metrics-host HOST    MANDATE_METRICS_HOST  address the metrics endpoint binds (default 127.0.0.1)
  --rate-limit N         MANDATE_RATE_LIMIT  calls per second one API key may start, on
                                            average, per server process (default ${DEFAULT_API_LIMITS.rateLimitPerSecond}: off);
                                            over it, calls fail with RESOURCE_EXHAUSTED
  --rate-burst N         MANDATE_RATE_BURST  calls one key may start at once before the rate
                                            applies (default ${DEFAULT_API_LIMITS.rateLimitBurst}: same as --rate-limit)
  --max-streams-per-key N  MANDATE_MAX_STREAMS_PER_KEY  streaming calls (Watch, Lookup*, Read,
                                            Export, Import) one key may have open at once
                                            (default ${DEFAULT_API_LIMITS.maxStreamsPerKey}; 0: no limit)
  --auth MODE            MANDATE_AUTH       keys (default): every call but health needs
                                            "authorization: Bearer <API key>" (mandate keys
                                            --help); none: no authentication (local use only)
                         MANDATE_BOOTSTRAP_KEY  an admin key registered at start if absent
                                            (environment only), e.g. from "mandate keys generate"
`;
