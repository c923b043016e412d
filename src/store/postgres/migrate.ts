import { applyMigrations } from "./migrations.ts";
import { pgSqlClient } from "./pg-sql-client.ts";
import { pgliteSqlClient } from "./pglite-sql-client.ts";
import { translateSqlError } from "./sql-errors.ts";

/** DatastoreLocation names a database: a Postgres server (`url`, optional `schema`) or a PGlite data folder. */
export type DatastoreLocation = { readonly url: string; readonly schema?: string | undefined } | { readonly dataDir: string };

/**
 * migrate applies the pending migrations to the database at `location` (for `mandate migrate`)
 * and returns the names of those it applied, empty when it was already current. Safe to run while
 * servers start: migrations take an advisory lock and run once. Throws StoreUnavailableError if the
 * database cannot be reached.
 */
export async function migrate(location: DatastoreLocation): Promise<string[]> {
  const schema = "url" in location ? location.schema : undefined;
  const sql =
    "url" in location
      ? pgSqlClient({ connectionString: location.url, max: 1, ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }) })
      : await pgliteSqlClient(location.dataDir);
  try {
    return await applyMigrations(sql, schema);
  } catch (error) {
    throw translateSqlError(error);
  } finally {
    await sql.close().catch(() => {});
  }
}
