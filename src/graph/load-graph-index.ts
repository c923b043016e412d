import { compileSchema } from "../schema/index.ts";
import type { Store, StoredSchema } from "../store/index.ts";
import type { Relationship, Revision } from "../tuple/index.ts";
import type { GraphLogger } from "./graph-follower-types.ts";
import { GraphIndex } from "./graph-index.ts";
import type { GraphIndexView } from "./graph-types.ts";

/**
 * LoadGraphIndexOptions tune a load (see GraphIndexFollowerOptions for the meaning); an aborted
 * `signal` ends the load before its next page with the signal's reason.
 */
export interface LoadGraphIndexOptions {
  readonly pageSize?: number | undefined;
  readonly logger?: GraphLogger | undefined;
  readonly signal?: AbortSignal | undefined;
}

const DEFAULT_PAGE_SIZE = 10_000;
const PROGRESS_EVERY = 100_000;

/**
 * loadGraphIndex builds a GraphIndex of every relationship live at the store's head (read once, at
 * the start) and of the schema as of that head, reading the relationships in pages. It logs its
 * progress every ~100k relationships, and the count and time taken at the end.
 */
export async function loadGraphIndex(store: Store, options: LoadGraphIndexOptions = {}): Promise<GraphIndex> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const started = performance.now();
  const { head, stored } = await headAndSchema(store);
  const index = new GraphIndex(head, stored === undefined ? undefined : compileSchema(stored.text));
  const reader = store.snapshot(head);
  let loaded = 0;
  let after: Relationship | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await reader.queryRelationships({}, { after, limit: pageSize });
    for (const relationship of page) index.addLoaded(relationship);
    const before = loaded;
    loaded += page.length;
    if (Math.floor(loaded / PROGRESS_EVERY) > Math.floor(before / PROGRESS_EVERY)) {
      options.logger?.info({ revision: head, relationships: loaded, ms: Math.round(performance.now() - started) }, "graph index: loading");
    }
    after = page[page.length - 1];
    if (page.length < pageSize || after === undefined) break;
  }
  const buildMs = Math.round(performance.now() - started);
  index.finishLoad(buildMs);
  options.logger?.info({ revision: head, relationships: loaded, objects: index.stats().objects, ms: buildMs }, "graph index: loaded");
  return index;
}

/**
 * buildGraphIndex is loadGraphIndex for callers outside src/graph (tests, tools): a read-only index
 * of the store at its head, which does not follow later writes (startGraphIndexFollower does).
 */
export function buildGraphIndex(store: Store, options: LoadGraphIndexOptions = {}): Promise<GraphIndexView> {
  return loadGraphIndex(store, options);
}

// The schema as of the head: a schema written after the head was read is newer than the
// relationships the load is about to read, so the pair is read again until they agree.
async function headAndSchema(store: Store): Promise<{ head: Revision; stored: StoredSchema | undefined }> {
  for (;;) {
    const head = await store.headRevision();
    const stored = await store.readSchema();
    if (stored === undefined || stored.revision <= head) return { head, stored };
  }
}
