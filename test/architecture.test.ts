import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Enforces the dependency rules of STYLE.md (b): imports point left in
// tuple <- schema <- store <- graph <- engine <- api <- cli, modules meet only through index.ts,
// and each third-party package stays in the one module that owns it.

const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");
const MODULES = ["tuple", "schema", "store", "graph", "engine", "api", "cli"] as const;

// Package -> folders (relative to src/) allowed to import it at runtime. `import type` is free.
const PACKAGE_OWNERS: Record<string, readonly string[]> = {
  pg: ["store/postgres"],
  "@electric-sql/pglite": ["store/postgres"],
  roaring: ["graph"],
  "lru-cache": ["engine"],
  "@grpc/grpc-js": ["api"],
  "@grpc/proto-loader": ["api"],
  "@grpc/reflection": ["api"],
  "grpc-health-check": ["api"],
  "prom-client": ["api"],
  "@opentelemetry/api": ["api"],
  pino: ["cli"],
};

interface ImportSite {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): ImportSite[] {
  const text = readFileSync(file, "utf8");
  const sites: ImportSite[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
  for (const match of text.matchAll(pattern)) {
    const specifier = match[3] ?? match[4] ?? match[5];
    if (specifier) sites.push({ file, specifier, typeOnly: match[2] !== undefined });
  }
  return sites;
}

function moduleOf(path: string): string | undefined {
  const rel = relative(SRC, path);
  if (rel.startsWith("..")) return undefined;
  return rel.split("/")[0];
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? specifier);
}

const sites = sourceFiles(SRC).flatMap(importsOf);

describe("architecture", () => {
  it("imports between modules point left and go through index.ts", () => {
    const violations: string[] = [];
    for (const site of sites) {
      if (!site.specifier.startsWith(".")) continue;
      const from = moduleOf(site.file);
      const target = resolve(dirname(site.file), site.specifier);
      const to = moduleOf(target);
      if (!from || !to || from === to) continue;
      const fromRank = MODULES.indexOf(from as (typeof MODULES)[number]);
      const toRank = MODULES.indexOf(to as (typeof MODULES)[number]);
      const where = `${relative(ROOT, site.file)} -> ${site.specifier}`;
      if (toRank > fromRank) violations.push(`${where}: ${from} may not depend on ${to}`);
      if (!target.endsWith("/index.ts")) violations.push(`${where}: import ${to} through its index.ts`);
    }
    expect(violations).toEqual([]);
  });

  it("keeps each third-party package inside the module that owns it", () => {
    const violations: string[] = [];
    for (const site of sites) {
      // Tests may build the real collaborators they need (e.g. a pino logger to read its output).
      if (site.specifier.startsWith(".") || site.specifier.startsWith("node:") || site.typeOnly || site.file.endsWith(".test.ts")) continue;
      const owners = PACKAGE_OWNERS[packageName(site.specifier)];
      if (!owners) continue;
      const rel = relative(SRC, site.file);
      if (!owners.some((owner) => rel.startsWith(`${owner}/`))) {
        violations.push(`${relative(ROOT, site.file)} imports ${site.specifier}; only ${owners.join(", ")} may`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("reads process.env only in the composition root", () => {
    const offenders = sourceFiles(SRC)
      .filter((file) => moduleOf(file) !== "cli" && !file.endsWith(".test.ts"))
      .filter((file) => readFileSync(file, "utf8").includes("process.env"))
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});
