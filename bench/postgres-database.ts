// A fresh Postgres database per benchmark run, dropped afterwards.
import pg from "pg";

/** FreshDatabase is a database created for one run: its URL, and `drop` to remove it. */
export interface FreshDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * createFreshDatabase creates database `name` through the server at `adminUrl` (any database
 * there the user may connect to) and returns its URL; `drop` removes it, closing its connections.
 */
export async function createFreshDatabase(adminUrl: string, name: string): Promise<FreshDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}" is not a plain lower-case identifier`);
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function withAdmin(adminUrl: string, use: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}
