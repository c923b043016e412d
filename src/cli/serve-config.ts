import { parseIntegerSetting, settingOf, stringOption } from "./parse-command-line.ts";
import type { OptionSpec, ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

/** LOG_LEVELS are pino's levels, quietest last. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** LogLevel is one of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** DATASTORES are the values --datastore accepts today; `postgres` and `pglite` arrive with issue 3. */
export const DATASTORES = ["memory"] as const;

/**
 * ServeConfig is everything `mandate serve` needs, resolved from flags, then environment, then
 * defaults. `dataDir` is accepted now and used once an embedded persistent datastore exists.
 */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly schemaFile: string | undefined;
  readonly relationshipsFile: string | undefined;
  readonly dataDir: string | undefined;
  readonly datastore: (typeof DATASTORES)[number];
  readonly logLevel: LogLevel;
  readonly maxDepth: number;
}

/** SERVE_OPTIONS are the flags of `mandate serve`. */
export const SERVE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  host: { type: "string" },
  port: { type: "string", short: "p" },
  schema: { type: "string" },
  relationships: { type: "string" },
  data: { type: "string" },
  datastore: { type: "string" },
  "log-level": { type: "string" },
  "max-depth": { type: "string" },
};

/**
 * resolveServeConfig reads the flags of `mandate serve` and their environment variables
 * (MANDATE_HOST, MANDATE_PORT, MANDATE_SCHEMA, MANDATE_RELATIONSHIPS, MANDATE_DATA,
 * MANDATE_DATASTORE, MANDATE_LOG_LEVEL, MANDATE_MAX_DEPTH); a flag wins over its variable.
 * Throws UsageError naming the flag and variable at fault.
 */
export function resolveServeConfig(parsed: ParsedCommandLine, env: Readonly<Record<string, string | undefined>>): ServeConfig {
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const setting = (flag: string, variable: string) => settingOf(stringOption(parsed, flag), env[variable]);
  const port = parseIntegerSetting(setting("port", "MANDATE_PORT") ?? "50051", "--port/MANDATE_PORT", 0, 65_535);
  const maxDepth = parseIntegerSetting(setting("max-depth", "MANDATE_MAX_DEPTH") ?? "50", "--max-depth/MANDATE_MAX_DEPTH", 1, 10_000);
  const logLevel = setting("log-level", "MANDATE_LOG_LEVEL") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level/MANDATE_LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  const datastore = setting("datastore", "MANDATE_DATASTORE") ?? "memory";
  if (!(DATASTORES as readonly string[]).includes(datastore)) {
    throw new UsageError(`--datastore/MANDATE_DATASTORE: "${datastore}" is not one of ${DATASTORES.join(", ")} (postgres and pglite arrive with issue 3)`);
  }
  return {
    host: setting("host", "MANDATE_HOST") ?? "127.0.0.1",
    port,
    schemaFile: setting("schema", "MANDATE_SCHEMA"),
    relationshipsFile: setting("relationships", "MANDATE_RELATIONSHIPS"),
    dataDir: setting("data", "MANDATE_DATA"),
    datastore: datastore as ServeConfig["datastore"],
    logLevel: logLevel as LogLevel,
    maxDepth,
  };
}

/** SERVE_HELP is the help text of `mandate serve`. */
export const SERVE_HELP = `Usage: mandate serve [flags]

Runs the gRPC server: mandate.v1 PermissionsService and SchemaService, the gRPC health service
and server reflection. Logs JSON lines (pino) to stdout, including the address it serves on.
SIGINT or SIGTERM stop it cleanly (calls in flight get up to 5 s).

Flags (each with its environment variable; the flag wins):
  --host HOST            MANDATE_HOST       address to bind (default 127.0.0.1, this machine
                                            only; use 0.0.0.0 to accept remote connections)
  --port N, -p N         MANDATE_PORT       port (default 50051; 0 picks a free port)
  --schema FILE          MANDATE_SCHEMA     schema to load at start; written only if it differs
                                            from the stored one (a refused change stops the server)
  --relationships FILE   MANDATE_RELATIONSHIPS  relationships to touch at start (demo data;
                                            one per line, SpiceDB text form, // comments)
  --datastore NAME       MANDATE_DATASTORE  memory (default; the only one until issue 3)
  --data DIR             MANDATE_DATA       data folder of the embedded datastore. Accepted but
                                            unused: persistence arrives with issue 3 (PGlite);
                                            until then all data is lost when the server stops
  --log-level LEVEL      MANDATE_LOG_LEVEL  ${LOG_LEVELS.join(", ")} (default info)
  --max-depth N          MANDATE_MAX_DEPTH  recursion bound of a check (default 50)
`;
