import { apiKeyChanged, apiKeyMissing, apiKeyTaken } from "../api-key-records.ts";
import type { ApiKeyRecord, ApiKeyRole } from "../store.ts";
import type { SqlQueryable, SqlRow } from "./sql-client.ts";

// The SQL of the `api_keys` table (migration 0004) behind PostgresStore's ApiKeyStore methods.
// Records arrive validated (validateApiKeyRecord); each function is one statement, so no
// transaction is needed.

const COLUMNS = "id, owner, role, created_at, expires_at, revoked_at, secret_hash, previous_secrets";

interface ApiKeyRow extends SqlRow {
  id: string;
  owner: string;
  role: string;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  secret_hash: string;
  // jsonb: parsed by both drivers; a string is tolerated in case a driver does not.
  previous_secrets: Array<{ hash: string; validUntil: string }> | string;
}

/** insertApiKey stores `record`; throws AlreadyExistsError if its id is taken. */
export async function insertApiKey(sql: SqlQueryable, record: ApiKeyRecord): Promise<void> {
  const { rowCount } = await sql.query(
    `INSERT INTO api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (id) DO NOTHING`,
    parametersOf(record),
  );
  if (rowCount === 0) throw apiKeyTaken(record.id);
}

/**
 * updateApiKey overwrites the row of `record.id` if its secret hash is still `expectedSecretHash`,
 * keeping a stored revoked_at (one statement: no other writer can come in between), and returns
 * the row as stored; throws NotFoundError if there is none, AbortedError if the hash changed.
 */
export async function updateApiKey(sql: SqlQueryable, record: ApiKeyRecord, expectedSecretHash: string): Promise<ApiKeyRecord> {
  const { rows } = await sql.query<ApiKeyRow>(
    `UPDATE api_keys SET owner = $2, role = $3, created_at = $4, expires_at = $5, revoked_at = COALESCE(api_keys.revoked_at, $6),
            secret_hash = $7, previous_secrets = $8::jsonb
      WHERE id = $1 AND secret_hash = $9
      RETURNING ${COLUMNS}`,
    [...parametersOf(record), expectedSecretHash],
  );
  if (rows[0] !== undefined) return recordOf(rows[0]);
  if ((await selectApiKey(sql, record.id)) === undefined) throw apiKeyMissing(record.id);
  throw apiKeyChanged(record.id);
}

/** selectApiKey reads the record of `id`, or undefined. */
export async function selectApiKey(sql: SqlQueryable, id: string): Promise<ApiKeyRecord | undefined> {
  const { rows } = await sql.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : recordOf(rows[0]);
}

/** selectApiKeys reads every record, oldest first (ties by id). */
export async function selectApiKeys(sql: SqlQueryable): Promise<ApiKeyRecord[]> {
  const { rows } = await sql.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
  return rows.map(recordOf);
}

function parametersOf(record: ApiKeyRecord): unknown[] {
  return [
    record.id,
    record.owner,
    record.role,
    record.createdAt.toISOString(),
    record.expiresAt?.toISOString() ?? null,
    record.revokedAt?.toISOString() ?? null,
    record.secretHash,
    JSON.stringify(record.previousSecrets.map((secret) => ({ hash: secret.hash, validUntil: secret.validUntil.toISOString() }))),
  ];
}

function recordOf(row: ApiKeyRow): ApiKeyRecord {
  const previous = typeof row.previous_secrets === "string" ? (JSON.parse(row.previous_secrets) as Array<{ hash: string; validUntil: string }>) : row.previous_secrets;
  return {
    id: row.id,
    owner: row.owner,
    // The table's CHECK admits only the three roles.
    role: row.role as ApiKeyRole,
    createdAt: new Date(row.created_at),
    ...(row.expires_at === null ? {} : { expiresAt: new Date(row.expires_at) }),
    ...(row.revoked_at === null ? {} : { revokedAt: new Date(row.revoked_at) }),
    secretHash: row.secret_hash,
    previousSecrets: previous.map((secret) => ({ hash: secret.hash, validUntil: new Date(secret.validUntil) })),
  };
}
