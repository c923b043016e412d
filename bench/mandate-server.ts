// Entry of the Mandate server the benchmark harness starts as a child process (see mandate-process.ts):
// `node --expose-gc bin/run-ts.js bench/mandate-server.ts --datastore memory|postgres
//  [--database-url URL] [--cache-entries N] [--log-level warn]`, with an IPC channel.
//
// It runs startMandateService (the composition `mandate serve` uses) on 127.0.0.1 and a free port,
// says {type:"ready", port, rssBytes} once listening, answers {type:"stats", collectGarbage?} with
// {type:"stats", stats, peakRssBytes}, and stops on {type:"stop"} or when the harness goes away.
// It samples its own RSS every 100 ms, so that the peak of a phase is known without /proc (and
// reads the kernel's peak, VmHWM, where /proc has it); {type:"stats", resetPeak:true} starts a new peak.
import { parseArgs } from "node:util";
import { pino } from "pino";
import { startMandateService } from "../src/cli/mandate-service.ts";
import type { RunningService } from "../src/cli/mandate-service.ts";
import { DEFAULT_CACHE_ENTRIES } from "../src/cli/serve-config.ts";
import type { ServerReply, ServerRequest } from "./mandate-server-protocol.ts";
import { peakRssBytes as processPeakRssBytes, resetPeakRss } from "./peak-rss.ts";

const RSS_SAMPLE_MS = 100;

const { values } = parseArgs({
  options: {
    datastore: { type: "string", default: "memory" },
    "database-url": { type: "string" },
    "cache-entries": { type: "string" },
    "log-level": { type: "string", default: "warn" },
  },
});
if (values.datastore !== "memory" && values.datastore !== "postgres") throw new Error(`--datastore: "${values.datastore}" is not memory or postgres`);
if (values.datastore === "postgres" && values["database-url"] === undefined) throw new Error("--datastore postgres needs --database-url");
const cacheEntries = values["cache-entries"] === undefined ? undefined : Number(values["cache-entries"]);
if (cacheEntries !== undefined && !(Number.isInteger(cacheEntries) && cacheEntries >= 0)) throw new Error(`--cache-entries: "${values["cache-entries"]}" is not an integer >= 0`);

const send = (reply: ServerReply): void => {
  process.send?.(reply);
};

let peakRssBytes = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
}, RSS_SAMPLE_MS);
sampler.unref();

// Logs go to stderr (the harness shows them): the graph index logs its build progress at info.
const logger = pino({ level: values["log-level"], base: { service: "mandate-bench" } }, pino.destination(2));
const service: RunningService = await startMandateService(
  {
    datastore: values.datastore,
    databaseUrl: values["database-url"],
    dataDir: "",
    host: "127.0.0.1",
    port: 0,
    // No GC: a benchmark run is short and its history is dropped with the process or database.
    gcWindowMs: 0,
    maxDepth: 50,
    cacheEntries: cacheEntries ?? DEFAULT_CACHE_ENTRIES,
  },
  logger,
  process.cwd(),
);

let stopping: Promise<void> | undefined;
const stop = (): Promise<void> => {
  stopping ??= service.stop().finally(() => clearInterval(sampler));
  return stopping;
};

process.on("message", (request: ServerRequest) => {
  switch (request.type) {
    case "stats": {
      // A forced collection first, when asked, so that RSS after a load is not garbage of the import.
      if (request.collectGarbage === true) globalThis.gc?.();
      const stats = service.stats();
      // The kernel's peak (VmHWM) sees spikes between two samples.
      peakRssBytes = Math.max(peakRssBytes, stats.rssBytes, processPeakRssBytes());
      send({ type: "stats", stats, peakRssBytes });
      if (request.resetPeak === true) {
        resetPeakRss();
        peakRssBytes = process.memoryUsage.rss();
      }
      break;
    }
    case "stop":
      void stop().then(() => process.exit(0));
      break;
    default:
      throw new Error(`unknown request ${JSON.stringify(request)}`);
  }
});
process.on("disconnect", () => {
  void stop().then(() => process.exit(0));
});

send({ type: "ready", port: service.port, rssBytes: process.memoryUsage.rss() });
