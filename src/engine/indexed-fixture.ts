// Test-only helpers for the fast path's tests: a MemoryStore with a schema and relationships (in
// SpiceDB's text form), and a graph index following it.
import { compileSchema } from "../schema/index.ts";
import type { Schema } from "../schema/index.ts";
import { MemoryStore } from "../store/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { startGraphIndexFollower } from "../graph/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import { parseRelationship } from "../tuple/index.ts";
import type { Revision } from "../tuple/index.ts";

/** IndexedFixture is a store, the compiled schema it holds, and a follower whose index mirrors it. */
export interface IndexedFixture {
  readonly store: MemoryStore;
  readonly schema: Schema;
  readonly follower: GraphIndexFollower;
  /** revision is the store's revision after the last write (and the index's, once caught up). */
  readonly revision: Revision;
  /** reader reads the store at `revision` (default: the last write's). */
  reader(revision?: Revision): RelationshipReader;
  /** touch writes relationships and waits until the index reflects them; returns the new revision. */
  touch(...relationships: string[]): Promise<Revision>;
  /** remove deletes relationships and waits until the index reflects them; returns the new revision. */
  remove(...relationships: string[]): Promise<Revision>;
  close(): Promise<void>;
}

/** indexedFixture writes `schemaText` and `relationships` to a fresh MemoryStore and follows it. */
export async function indexedFixture(schemaText: string, relationships: readonly string[]): Promise<IndexedFixture> {
  const schema = compileSchema(schemaText);
  const store = new MemoryStore();
  await store.writeSchema(schemaText, async () => {});
  let revision =
    relationships.length === 0
      ? await store.headRevision()
      : await store.write(relationships.map((text) => ({ operation: "touch" as const, relationship: parseRelationship(text) })));
  const follower = await startGraphIndexFollower(store);
  const caughtUp = async (written: Revision): Promise<Revision> => {
    if (!(await follower.waitFor(written, 5_000))) throw new Error(`the index did not reach revision ${written}`);
    revision = written;
    return written;
  };
  await caughtUp(revision);
  const write = (operation: "touch" | "delete", texts: readonly string[]): Promise<Revision> =>
    store.write(texts.map((text) => ({ operation, relationship: parseRelationship(text) }))).then(caughtUp);
  return {
    store,
    schema,
    follower,
    get revision() {
      return revision;
    },
    reader: (at = revision) => store.snapshot(at),
    touch: (...texts) => write("touch", texts),
    remove: (...texts) => write("delete", texts),
    close: async () => {
      await follower.stop();
      await store.close();
    },
  };
}
