// Loading a workload into a Mandate server child through its gRPC API, as every benchmark does.
import { createMandateClient, relationshipToWire } from "../src/api/index.ts";
import type { WireImportBulkRelationshipsRequest, WireZedToken } from "../src/api/index.ts";
import type { Relationship } from "../src/tuple/index.ts";
import { round } from "./latency.ts";
import type { MandateProcess } from "./mandate-process.ts";
import { log } from "./runner-io.ts";

const IMPORT_BATCH = 1_000;
const INDEX_CATCH_UP_TIMEOUT_MS = 30 * 60_000;

/** LoadFigures: how a server was loaded and what it held afterwards. */
export interface LoadFigures {
  readonly loadSeconds: number;
  /** indexCatchUpSeconds: from the import's answer until the index held every relationship. */
  readonly indexCatchUpSeconds: number;
  readonly emptyRssMB: number;
  readonly rssAfterLoadMB: number;
  readonly indexBuildMs: number | undefined;
}

/**
 * loadInto writes `data.schema` (WriteSchema), then `data.relationships` (ImportBulkRelationships,
 * batches of 1,000 in one client stream) into `server`, waits until its graph index holds them all,
 * and returns the import's token with the figures (RSS after a forced GC). Logs to stdout.
 */
export async function loadInto(
  server: MandateProcess,
  data: { readonly schema: string; readonly relationships: readonly Relationship[] },
): Promise<{ token: WireZedToken; figures: LoadFigures }> {
  const client = createMandateClient(server.address);
  try {
    const loadStart = performance.now();
    await client.writeSchema({ schema: data.schema });
    const imported = await client.importBulkRelationships(wireBatches(data.relationships));
    const loadSeconds = (performance.now() - loadStart) / 1000;
    if (imported.writtenAt === null || imported.writtenAt === undefined) throw new Error("the import returned no token");
    log(`Mandate imported ${data.relationships.length} relationships in ${loadSeconds.toFixed(2)} s (${(data.relationships.length / loadSeconds).toFixed(0)}/s)`);
    const catchUpStart = performance.now();
    for (;;) {
      const { stats } = await server.stats();
      if ((stats.index?.relationships ?? 0) >= data.relationships.length) break;
      if (performance.now() - catchUpStart > INDEX_CATCH_UP_TIMEOUT_MS) throw new Error(`the index did not reach ${data.relationships.length} relationships`);
      await new Promise((done) => setTimeout(done, 50));
    }
    const indexCatchUpSeconds = (performance.now() - catchUpStart) / 1000;
    const after = await server.stats(true);
    const figures: LoadFigures = {
      loadSeconds: round(loadSeconds),
      indexCatchUpSeconds: round(indexCatchUpSeconds),
      emptyRssMB: megabytes(server.emptyRssBytes),
      rssAfterLoadMB: megabytes(after.stats.rssBytes),
      indexBuildMs: after.stats.index?.buildMs,
    };
    log(`  index caught up ${indexCatchUpSeconds.toFixed(2)} s after the import; server RSS ${figures.emptyRssMB.toFixed(0)} MB empty, ${figures.rssAfterLoadMB.toFixed(0)} MB loaded`);
    return { token: imported.writtenAt, figures };
  } finally {
    client.close();
  }
}

/** megabytes is `bytes` in MiB, to three decimals. */
export function megabytes(bytes: number): number {
  return round(bytes / 2 ** 20);
}

async function* wireBatches(relationships: readonly Relationship[]): AsyncIterable<WireImportBulkRelationshipsRequest> {
  for (let start = 0; start < relationships.length; start += IMPORT_BATCH) {
    yield { relationships: relationships.slice(start, start + IMPORT_BATCH).map(relationshipToWire) };
  }
}
