import type { SqlClient } from "./sql-client.ts";

/**
 * Migration is one step of the database schema; `version` orders them and is never reused. Its
 * statements end with ";" at the end of a line (and contain no such sequence otherwise).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * MIGRATIONS, in order. A released migration is never edited: a change is a new migration.
 *
 * Tables (DESIGN.md "Storage"):
 * - `relationships`: one row per version of a relationship, live for revisions in
 *   [created_revision, deleted_revision), NULL deleted_revision = live now. Text columns use
 *   COLLATE "C" so that ORDER BY is byte order, the order MemoryStore and QueryOptions define. A
 *   subject without relation stores '' (which sorts first). `*_position` is the index of the
 *   change within its write, so that Watch replays a write's changes in the order applied.
 * - `revisions`: every committed revision with its commit time (to decide garbage collection);
 *   the head is max(revision), the oldest readable one min(revision).
 * - `schema_text`: the schema and the revision that wrote it; `metadata`: the datastore id, and
 *   the row writers lock to commit one at a time.
 * - `schema_history` (0002): the text of every schema write by revision, so that a watch reports
 *   each one with the text written at it; garbage collection keeps the rows after the oldest
 *   readable revision. A database migrated from 0001 starts it with its stored schema only (the
 *   writes before that are not recorded anywhere).
 * - `budgets` (0003): the uses counted per delegation grant id (Store.chargeBudgets), kept
 *   outside revisions: a use is no relationship change. Also an index on the expiry of live
 *   versions, for garbage collection of expired relationships.
 * - `api_keys` (0004): API keys (Store.createApiKey), outside revisions as budgets are: the
 *   secrets only as hashes, `previous_secrets` a JSON array of `{ hash, validUntil }` (the
 *   secrets a rotation replaced, still in their grace period).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "0001_initial",
    sql: `
CREATE TABLE metadata (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  datastore_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO metadata (datastore_id) VALUES (gen_random_uuid()::text);

CREATE TABLE revisions (
  revision bigint PRIMARY KEY,
  committed_at timestamptz NOT NULL
);
CREATE INDEX revisions_committed_at ON revisions (committed_at);
INSERT INTO revisions (revision, committed_at) VALUES (0, clock_timestamp());

CREATE TABLE schema_text (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  text text NOT NULL,
  revision bigint NOT NULL
);

CREATE TABLE relationships (
  resource_type text COLLATE "C" NOT NULL,
  resource_id text COLLATE "C" NOT NULL,
  relation text COLLATE "C" NOT NULL,
  subject_type text COLLATE "C" NOT NULL,
  subject_id text COLLATE "C" NOT NULL,
  subject_relation text COLLATE "C" NOT NULL,
  caveat_name text,
  caveat_context jsonb,
  expires_at timestamptz,
  created_revision bigint NOT NULL,
  created_position integer NOT NULL,
  deleted_revision bigint,
  deleted_position integer,
  PRIMARY KEY (resource_type, resource_id, relation, subject_type, subject_id, subject_relation, created_revision)
);
-- At most one live version per relationship; also serves reads and writes at the head.
CREATE UNIQUE INDEX relationships_live ON relationships (resource_type, resource_id, relation, subject_type, subject_id, subject_relation)
  WHERE deleted_revision IS NULL;
-- Reverse lookups: which resources does this subject reach?
CREATE INDEX relationships_by_subject ON relationships (subject_type, subject_id, subject_relation, resource_type, relation);
-- Watch replays by revision; garbage collection deletes by deleted_revision.
CREATE INDEX relationships_created ON relationships (created_revision);
CREATE INDEX relationships_deleted ON relationships (deleted_revision) WHERE deleted_revision IS NOT NULL;
`,
  },
  {
    version: 2,
    name: "0002_schema_history",
    sql: `
CREATE TABLE schema_history (
  revision bigint PRIMARY KEY,
  text text NOT NULL
);
INSERT INTO schema_history (revision, text) SELECT revision, text FROM schema_text;
`,
  },
  {
    version: 3,
    name: "0003_budgets",
    sql: `
CREATE TABLE budgets (
  grant_id text COLLATE "C" PRIMARY KEY,
  used bigint NOT NULL CHECK (used >= 0)
);
-- Garbage collection removes live versions that expired before its cutoff.
CREATE INDEX relationships_expiring ON relationships (expires_at) WHERE deleted_revision IS NULL AND expires_at IS NOT NULL;
`,
  },
  {
    version: 4,
    name: "0004_api_keys",
    sql: `
CREATE TABLE api_keys (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  role text NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  secret_hash text NOT NULL,
  previous_secrets jsonb NOT NULL DEFAULT '[]'
);
`,
  },
];

// Arbitrary constant: the advisory lock that serialises migrations of processes starting at once.
const MIGRATION_LOCK = 7_202_611_301;

/**
 * applyMigrations brings the database (the tables of the connection's search_path, created in
 * `schema` when given) up to the newest migration and returns the names it applied (none when
 * already current). It runs in one transaction under an advisory lock, so processes starting
 * at once apply each migration exactly once, and a failed migration leaves nothing behind.
 * `migrations` (default MIGRATIONS) lets a test stop at an older version.
 */
export async function applyMigrations(sql: SqlClient, schema?: string, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  return sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    if (schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    const { rows } = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const done = new Set(rows.map((row) => Number(row.version)));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      // One statement per query: PGlite's query, like the extended protocol, takes only one.
      for (const statement of migration.sql.split(/;\s*\n/)) {
        if (statement.trim() !== "") await tx.query(statement);
      }
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(migration.name);
    }
    return applied;
  });
}
