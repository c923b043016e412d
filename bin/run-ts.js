#!/usr/bin/env node
// Runs a TypeScript file of this repository without a build step: `node bin/run-ts.js FILE [ARGS...]`.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: node bin/run-ts.js FILE.ts [ARGS...]\n");
  process.exit(2);
}
register();
process.argv.splice(1, 2, resolve(file));
await import(pathToFileURL(resolve(file)).href);
