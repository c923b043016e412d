#!/usr/bin/env node
// The `mandate` command. Mandate ships TypeScript sources and no build step: tsx compiles them
// as they load, so `npx mandate ...` works right after `npm ci`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
await main();
