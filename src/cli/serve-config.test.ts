import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./parse-command-line.ts";
import { resolveServeConfig, SERVE_OPTIONS } from "./serve-config.ts";

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
    [["--cache-entries=-1"], {}, "--cache-entries/MANDATE_CACHE_ENTRIES: -1 is out of range"],
    [["extra"], {}, 'unexpected argument "extra"'],
  ])("rejects %j %j naming the flag and variable", (args, env, message) => {
    expect(() => resolveWith(args, env)).toThrow(message);
  });
});
