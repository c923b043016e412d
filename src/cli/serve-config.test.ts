import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./parse-command-line.ts";
import { CONFIG_FILE_KEYS, resolveServeConfig, SERVE_OPTIONS } from "./serve-config.ts";

const resolveWith = (args: string[], env: Record<string, string> = {}) => resolveServeConfig(parseCommandLine(args, SERVE_OPTIONS), env);

describe("resolveServeConfig", () => {
  it("defaults to a local-only server on 50051 with PGlite in ./data and a 24 h GC window", () => {
    expect(resolveWith([])).toEqual({
      host: "127.0.0.1",
      port: 50051,
      schemaFile: undefined,
      relationshipsFile: undefined,
      dataDir: "./data",
      datastore: "pglite",
      databaseUrl: undefined,
      gcWindowMs: 24 * 3_600_000,
      logLevel: "info",
      maxDepth: 50,
      cacheEntries: 100_000,
      metricsPort: undefined,
      metricsHost: "127.0.0.1",
      rateLimitPerSecond: 0,
      rateLimitBurst: 0,
      maxStreamsPerKey: 100,
      tls: undefined,
      shutdownGraceMs: 5_000,
      auth: "keys",
      bootstrapKey: undefined,
    });
  });

  it.each<[string[], Record<string, string>, string]>([
    [[], { DATABASE_URL: "postgres://db/mandate" }, "postgres"],
    [["--database-url", "postgres://db/mandate"], {}, "postgres"],
    [["--datastore", "memory"], { DATABASE_URL: "postgres://db/mandate" }, "memory"],
    [["--data", "/tmp/x"], {}, "pglite"],
  ])("with %j and %j uses the %s datastore", (args, env, datastore) => {
    expect(resolveWith(args, env).datastore).toBe(datastore);
  });

  it.each([
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["2d", 172_800_000],
    ["500ms", 500],
    ["0", 0],
  ])("reads --gc-window %s as %d ms", (text, ms) => {
    expect(resolveWith(["--gc-window", text]).gcWindowMs).toBe(ms);
  });

  it("reads every setting from the environment", () => {
    const config = resolveWith([], {
      MANDATE_HOST: "0.0.0.0",
      MANDATE_PORT: "6000",
      MANDATE_SCHEMA: "s.zed",
      MANDATE_RELATIONSHIPS: "r.txt",
      MANDATE_DATA: "/data",
      MANDATE_DATASTORE: "postgres",
      DATABASE_URL: "postgres://db:5432/mandate",
      MANDATE_GC_WINDOW: "1h",
      MANDATE_LOG_LEVEL: "warn",
      MANDATE_MAX_DEPTH: "12",
      MANDATE_CACHE_ENTRIES: "0",
      MANDATE_METRICS_PORT: "9464",
      MANDATE_METRICS_HOST: "10.0.0.5",
      MANDATE_RATE_LIMIT: "50",
      MANDATE_RATE_BURST: "200",
      MANDATE_MAX_STREAMS_PER_KEY: "8",
      MANDATE_TLS_CERT: "server.pem",
      MANDATE_TLS_KEY: "server.key",
      MANDATE_TLS_CLIENT_CA: "clients.pem",
      MANDATE_SHUTDOWN_GRACE: "30s",
      MANDATE_AUTH: "none",
      MANDATE_BOOTSTRAP_KEY: "mk_bootstrap_0123456789abcdef0123456789abcdef",
    });
    expect(config).toEqual({
      host: "0.0.0.0",
      port: 6000,
      schemaFile: "s.zed",
      relationshipsFile: "r.txt",
      dataDir: "/data",
      datastore: "postgres",
      databaseUrl: "postgres://db:5432/mandate",
      gcWindowMs: 3_600_000,
      logLevel: "warn",
      maxDepth: 12,
      cacheEntries: 0,
      metricsPort: 9464,
      metricsHost: "10.0.0.5",
      rateLimitPerSecond: 50,
      rateLimitBurst: 200,
      maxStreamsPerKey: 8,
      tls: { certFile: "server.pem", keyFile: "server.key", clientCaFile: "clients.pem" },
      shutdownGraceMs: 30_000,
      auth: "none",
      bootstrapKey: "mk_bootstrap_0123456789abcdef0123456789abcdef",
    });
  });

  it("lets a flag override its environment variable", () => {
    expect(resolveWith(["--port", "0", "--log-level=debug"], { MANDATE_PORT: "6000", MANDATE_LOG_LEVEL: "warn" })).toMatchObject({
      port: 0,
      logLevel: "debug",
    });
  });

  it.each([
    [["--port", "http"], {}, '--port/MANDATE_PORT: "http" is not a whole number'],
    [[], { MANDATE_PORT: "99999" }, "--port/MANDATE_PORT: 99999 is out of range"],
    [["--log-level", "loud"], {}, '--log-level/MANDATE_LOG_LEVEL: "loud" is not one of'],
    [["--datastore", "mysql"], {}, '--datastore/MANDATE_DATASTORE: "mysql" is not one of memory, postgres, pglite'],
    [["--datastore", "postgres"], {}, "--datastore postgres needs --database-url or DATABASE_URL"],
    [["--gc-window", "soon"], {}, '--gc-window/MANDATE_GC_WINDOW: "soon" is not a duration'],
    [["--gc-window", "12"], {}, '--gc-window/MANDATE_GC_WINDOW: "12" is not a duration'],
    [["--max-depth", "0"], {}, "--max-depth/MANDATE_MAX_DEPTH: 0 is out of range"],
    [["--auth", "password"], {}, '--auth/MANDATE_AUTH: "password" is not one of keys, none'],
    [["--cache-entries=-1"], {}, "--cache-entries/MANDATE_CACHE_ENTRIES: -1 is out of range"],
    [["--rate-limit", "fast"], {}, '--rate-limit/MANDATE_RATE_LIMIT: "fast" is not a whole number'],
    [[], { MANDATE_MAX_STREAMS_PER_KEY: "-1" }, "--max-streams-per-key/MANDATE_MAX_STREAMS_PER_KEY: -1 is out of range"],
    [["extra"], {}, 'unexpected argument "extra"'],
    [["--tls-cert", "server.pem"], {}, "--tls-cert needs --tls-key/MANDATE_TLS_KEY"],
    [["--tls-key", "server.key"], {}, "--tls-key needs --tls-cert/MANDATE_TLS_CERT"],
    [["--tls-client-ca", "clients.pem"], {}, "--tls-client-ca needs --tls-cert and --tls-key"],
    [["--shutdown-grace", "soon"], {}, '--shutdown-grace/MANDATE_SHUTDOWN_GRACE: "soon" is not a duration'],
  ])("rejects %j %j naming the flag and variable", (args, env, message) => {
    expect(() => resolveWith(args, env)).toThrow(message);
  });
});

describe("the configuration file", () => {
  const file = { port: "7000", "log-level": "warn", datastore: "memory", "tls-cert": "file.pem", "tls-key": "file.key", "shutdown-grace": "1m" };
  const resolveWithFile = (args: string[], env: Record<string, string> = {}) =>
    resolveServeConfig(parseCommandLine(args, SERVE_OPTIONS), env, file);

  it("sets what neither a flag nor a variable sets", () => {
    expect(resolveWithFile([])).toMatchObject({
      port: 7000,
      logLevel: "warn",
      datastore: "memory",
      tls: { certFile: "file.pem", keyFile: "file.key", clientCaFile: undefined },
      shutdownGraceMs: 60_000,
    });
  });

  it("gives way to a variable, and a variable to a flag", () => {
    expect(resolveWithFile(["--port", "8000"], { MANDATE_PORT: "9000", MANDATE_LOG_LEVEL: "debug" })).toMatchObject({ port: 8000, logLevel: "debug" });
  });

  it("can set every flag of mandate serve but --config itself", () => {
    expect(CONFIG_FILE_KEYS).not.toContain("config");
    expect(CONFIG_FILE_KEYS).toEqual(expect.arrayContaining(["host", "port", "database-url", "gc-window", "tls-cert", "tls-key", "tls-client-ca", "shutdown-grace"]));
  });
});
