import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT } from "./run-mandate.ts";

// Docker is not available where the tests run, so these files are checked for coherence instead:
// they parse, and they agree with what the mandate command and package.json provide.

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface ComposeService {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
}

describe("deployment files", () => {
  const compose = parse(read("docker-compose.yml")) as { services: Record<string, ComposeService> };

  it("runs mandate from the Dockerfile after a healthy Postgres 16", () => {
    const { mandate, postgres } = compose.services;
    expect(postgres?.image).toBe("postgres:16");
    expect(postgres?.healthcheck?.test.join(" ")).toContain("pg_isready");
    expect(mandate?.build).toBe(".");
    expect(mandate?.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
  });

  it("points mandate at the postgres service through DATABASE_URL, so that it uses the postgres datastore", () => {
    const mandate = compose.services["mandate"];
    const url = new URL(mandate?.environment?.["DATABASE_URL"] ?? "missing:");
    const postgres = compose.services["postgres"]?.environment ?? {};
    expect(url.protocol).toBe("postgres:");
    expect(url.hostname).toBe("postgres");
    expect(url.username).toBe(postgres["POSTGRES_USER"]);
    expect(url.pathname).toBe(`/${postgres["POSTGRES_DB"]}`);
    expect(mandate?.environment?.["MANDATE_DATASTORE"]).toBeUndefined();
  });

  it("binds mandate to every interface on the published port and health-checks it with mandate health", () => {
    const mandate = compose.services["mandate"];
    expect(mandate?.environment?.["MANDATE_HOST"]).toBe("0.0.0.0");
    expect(mandate?.ports).toEqual([`${mandate?.environment?.["MANDATE_PORT"]}:50051`]);
    expect(mandate?.healthcheck?.test).toEqual(["CMD", "node", "bin/mandate.js", "health", "--endpoint", "127.0.0.1:50051"]);
    for (const file of [mandate?.environment?.["MANDATE_SCHEMA"], mandate?.environment?.["MANDATE_RELATIONSHIPS"]]) {
      expect(() => accessSync(join(ROOT, file ?? "missing"))).not.toThrow();
    }
  });

  it("builds the image from node:20-slim and serves on 0.0.0.0", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci/m);
    expect(dockerfile).toContain('CMD ["node", "bin/mandate.js", "serve", "--host", "0.0.0.0"]');
  });

  it("has an executable .ci/run that runs npm ci and npm test with Postgres required", () => {
    expect(() => accessSync(join(ROOT, ".ci/run"), constants.X_OK)).not.toThrow();
    const script = read(".ci/run");
    expect(script).toContain("set -euo pipefail");
    expect(script).toContain("MANDATE_REQUIRE_POSTGRES=1");
    expect(script.indexOf("npm ci")).toBeLessThan(script.indexOf("npm test"));
  });

  it("points package.json's bin and start script at files that exist", () => {
    const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin["mandate"]).toBe("bin/mandate.js");
    for (const file of pkg.scripts["start"]?.match(/schema\/\S+/g) ?? []) {
      expect(() => accessSync(join(ROOT, file))).not.toThrow();
    }
  });
});
