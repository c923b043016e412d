import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./parse-command-line.ts";
import { resolveServeConfig, SERVE_OPTIONS } from "./serve-config.ts";

const resolveWith = (args: string[], env: Record<string, string> = {}) => resolveServeConfig(parseCommandLine(args, SERVE_OPTIONS), env);

describe("resolveServeConfig", () => {
  it("defaults to a local-only server on 50051 with the memory datastore", () => {
    expect(resolveWith([])).toEqual({
      host: "127.0.0.1",
      port: 50051,
      schemaFile: undefined,
      relationshipsFile: undefined,
      dataDir: undefined,
      datastore: "memory",
      logLevel: "info",
      maxDepth: 50,
    });
  });

  it("reads every setting from the environment", () => {
    const config = resolveWith([], {
      MANDATE_HOST: "0.0.0.0",
      MANDATE_PORT: "6000",
      MANDATE_SCHEMA: "s.zed",
      MANDATE_RELATIONSHIPS: "r.txt",
      MANDATE_DATA: "/data",
      MANDATE_DATASTORE: "memory",
      MANDATE_LOG_LEVEL: "warn",
      MANDATE_MAX_DEPTH: "12",
    });
    expect(config).toEqual({
      host: "0.0.0.0",
      port: 6000,
      schemaFile: "s.zed",
      relationshipsFile: "r.txt",
      dataDir: "/data",
      datastore: "memory",
      logLevel: "warn",
      maxDepth: 12,
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
    [["--datastore", "postgres"], {}, '--datastore/MANDATE_DATASTORE: "postgres" is not one of memory'],
    [["--max-depth", "0"], {}, "--max-depth/MANDATE_MAX_DEPTH: 0 is out of range"],
    [["extra"], {}, 'unexpected argument "extra"'],
  ])("rejects %j %j naming the flag and variable", (args, env, message) => {
    expect(() => resolveWith(args, env)).toThrow(message);
  });
});
