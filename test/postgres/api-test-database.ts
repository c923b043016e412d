import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * ApiTestDatabase is a database of its own for one test file, on the Postgres of DATABASE_URL:
 * `url` points at it; `drop` removes it (after the file's stores are closed).
 */
export interface ApiTestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * postgresAvailability says whether the Postgres suites run: they need DATABASE_URL. When
 * MANDATE_REQUIRE_POSTGRES=1 (as .ci/run sets), a missing URL is a failure, not a skip: the
 * suites then run and fail on connecting.
 */
export function postgresAvailability(): { readonly run: boolean; readonly adminUrl: string } {
  const adminUrl = process.env["DATABASE_URL"] ?? "";
  const required = process.env["MANDATE_REQUIRE_POSTGRES"] === "1";
  return { run: adminUrl !== "" || required, adminUrl: adminUrl || "postgres://postgres@127.0.0.1:5432/postgres" };
}

/** createApiTestDatabase creates `mandate_test_api_<random>` on the server of `adminUrl` and returns its URL. */
export async function createApiTestDatabase(adminUrl: string): Promise<ApiTestDatabase> {
  const name = `mandate_test_api_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(adminUrl: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}
