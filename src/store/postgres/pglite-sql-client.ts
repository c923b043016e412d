import { PGlite } from "@electric-sql/pglite";
import type { PGliteInterface } from "@electric-sql/pglite";
import { assertChannel } from "./pg-sql-client.ts";
import type { SqlClient, SqlResult, SqlRow, SqlTransaction } from "./sql-client.ts";

/**
 * pgliteSqlClient is a SqlClient over embedded PGlite: Postgres compiled to WebAssembly, in this
 * process. With `dataDir` the database persists in that folder (one process at a time may open
 * it); without, it lives in memory. PGlite has a single connection: a transaction holds it, and
 * other statements wait until it ends.
 */
export async function pgliteSqlClient(dataDir: string | undefined): Promise<SqlClient> {
  const db = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  return pgliteSqlClientOf(db);
}

/** pgliteSqlClientOf wraps an open PGlite instance (e.g. a `clone()` of a migrated one, in tests); closing the client closes it. */
export function pgliteSqlClientOf(db: PGliteInterface): SqlClient {
  const run = async <R extends SqlRow>(on: Pick<PGliteInterface, "query">, text: string, params: readonly unknown[]): Promise<SqlResult<R>> => {
    const result = await on.query<R>(text, params as unknown[]);
    return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
  };

  return {
    query: <R extends SqlRow>(text: string, params: readonly unknown[] = []) => run<R>(db, text, params),

    transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
      return db.transaction((tx) =>
        fn({
          query: <R extends SqlRow>(text: string, params: readonly unknown[] = []) => run<R>(tx, text, params),
          async copyFrom(target: string, csv: AsyncIterable<string>): Promise<number> {
            // PGlite reads COPY data from a Blob, not a stream: gather this call's strings into one.
            const parts: string[] = [];
            for await (const part of csv) parts.push(part);
            const result = await tx.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob(parts) });
            return result.affectedRows ?? 0;
          },
        }),
      );
    },

    async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
      assertChannel(channel);
      return db.listen(channel, () => onNotify());
    },

    async close(): Promise<void> {
      await db.close();
    },
  };
}
