import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import pg from "pg";

// Where the Postgres tests get a database: DATABASE_URL (a server the tests may create databases
// on), else a throwaway container when Docker is available, else none: the suites skip, unless
// MANDATE_REQUIRE_POSTGRES=1 (CI), where a missing Postgres fails them.

/** PostgresTestDatabase is a database of its own for one test file, dropped by `drop`. */
export interface PostgresTestDatabase {
  /** url connects to the test database. */
  readonly url: string;
  /** newSchema returns a fresh schema name, so that each store of a suite starts empty. */
  newSchema(): string;
  /** runAdmin runs one statement on the test database over a separate connection (e.g. pg_terminate_backend). */
  runAdmin(text: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** drop removes the database (forcibly closing its connections) and any container started for it. */
  drop(): Promise<void>;
}

const REQUIRED = process.env.MANDATE_REQUIRE_POSTGRES === "1";

/**
 * postgresTestDatabase creates `mandate_test_<pid>_<random>` on the server found as described
 * above, or returns undefined (skip) when there is none and Postgres is not required.
 */
export async function postgresTestDatabase(): Promise<PostgresTestDatabase | undefined> {
  const server = await findServer();
  if (server === undefined) return undefined;
  const name = `mandate_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withClient(server.url, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(server.url, name);
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on("error", () => {});
  let schemas = 0;
  return {
    url,
    newSchema: () => `t${++schemas}_${randomBytes(3).toString("hex")}`,
    runAdmin: (text, params = []) => admin.query(text, params),
    async drop() {
      await admin.end();
      await withClient(server.url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await server.stop();
    },
  };
}

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

async function findServer(): Promise<Server | undefined> {
  const configured = process.env.DATABASE_URL;
  if (configured !== undefined && configured !== "") {
    // A configured server that is unreachable is an error whether or not Postgres is required.
    await withClient(configured, (client) => client.query("SELECT 1"));
    return { url: configured, stop: async () => {} };
  }
  const container = await startContainer();
  if (container === undefined && REQUIRED) {
    throw new Error("MANDATE_REQUIRE_POSTGRES=1, but DATABASE_URL is not set and no Postgres container could be started (is Docker running?)");
  }
  return container;
}

async function startContainer(): Promise<Server | undefined> {
  if (process.env.DOCKER_HOST === undefined && !existsSync("/var/run/docker.sock")) return undefined;
  try {
    const { GenericContainer, Wait } = await import("testcontainers");
    const container = await new GenericContainer("postgres:16-alpine")
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    return {
      url: `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    if (REQUIRED) throw error;
    return undefined;
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
