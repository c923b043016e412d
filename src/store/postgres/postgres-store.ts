import { InvalidArgumentError, assertNever, relationshipKey } from "../../tuple/index.ts";
import type { Relationship, Revision } from "../../tuple/index.ts";
import { AbortedError, StoreUnavailableError } from "../errors.ts";
import {
  createConflict,
  deleteLimitExceeded,
  importConflict,
  preconditionFailed,
  revisionNewerThanHead,
  revisionOlderThanHistory,
} from "../failures.ts";
import type {
  ApiKeyRecord,
  BudgetCharge,
  BudgetOutcome,
  ChangeSet,
  ImportOptions,
  ImportResult,
  Precondition,
  QueryOptions,
  RelationshipFilter,
  RelationshipReader,
  RelationshipUpdate,
  StoredSchema,
  Store,
  WatchOptions,
  WriteOptions,
} from "../store.ts";
import { validateApiKeyRecord } from "../api-key-records.ts";
import { insertApiKey, selectApiKey, selectApiKeys, updateApiKey } from "./api-key-sql.ts";
import { validateBudgetCharges, validateLimit, validateQueryOptions, validateRelationshipFilter, validateRevision, validateUpdates } from "../validate-filter.ts";
import { ChangeStream } from "./change-stream.ts";
import { applyMigrations } from "./migrations.ts";
import { pgSqlClient } from "./pg-sql-client.ts";
import { pgliteSqlClient } from "./pglite-sql-client.ts";
import { KEY_COLUMNS, Params, SELECT_COLUMNS, keyJoin, toRelationship } from "./relationship-sql.ts";
import type { RelationshipRow } from "./relationship-sql.ts";
import type { PoolUsage, SqlClient, SqlQueryable, SqlRow, SqlTransaction } from "./sql-client.ts";
import { sqlErrorCode, translateSqlError } from "./sql-errors.ts";

/** PostgresStoreOptions tune a PostgresStore; every field is optional. */
export interface PostgresStoreOptions {
  /** Apply pending migrations when opening (default true); false expects `mandate migrate` to have run. */
  readonly migrate?: boolean | undefined;
  /** The clock that decides expiry (default Date.now), as in MemoryStore. */
  readonly now?: (() => number) | undefined;
  /**
   * How often a waiting watch re-reads even without a notification (default 5 s): a safety net
   * for notifications lost while the LISTEN connection reconnected.
   */
  readonly watchPollMs?: number | undefined;
  /**
   * Test hook: runs inside every write transaction, after all its statements and just before
   * COMMIT. Fault tests use it to kill the connection in the middle of a write.
   */
  readonly beforeCommit?: ((tx: SqlQueryable) => Promise<void>) | undefined;
}

/** PostgresConnectOptions add what only a Postgres server connection needs. */
export interface PostgresConnectOptions extends PostgresStoreOptions {
  /** Postgres schema that holds the tables (a lower-case identifier, created if absent); default: the search_path's first, usually `public`. */
  readonly schema?: string | undefined;
  /** Most connections the pool opens (default 10); LISTEN uses one more. */
  readonly poolSize?: number | undefined;
}

/** GarbageCollectionOptions configure PostgresStore.startGarbageCollection. */
export interface GarbageCollectionOptions {
  /** History to keep (default 24 h): revisions older than this become unreadable. */
  readonly windowMs?: number | undefined;
  /** Time between two collections (default 10 min); the first runs after one interval. */
  readonly intervalMs?: number | undefined;
  /** Receives every collection's outcome; errors are otherwise ignored (the next run retries). */
  readonly onResult?: ((result: { removed: number } | { error: unknown }) => void) | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Rows per string of an import's COPY data.
const IMPORT_CHUNK = 10_000;

/**
 * PostgresStore is the durable Store: relationships, schema and history in Postgres (through
 * node-postgres) or in embedded PGlite, with the same SQL on both (see migrations.ts for the
 * tables). Open it with `PostgresStore.connect(url)` or `PostgresStore.embedded(dataDir)`.
 *
 * Revisions: every write runs in one transaction that first locks the single `metadata` row, then
 * takes revision = max(revision) + 1 and records it in `revisions`. Writers therefore commit one
 * at a time, in revision order, and revisions are dense: when a reader sees revision N committed,
 * every revision up to N is committed too, and a reader at N filters out anything created at N+1
 * (which, in any case, it sees entirely or not at all). The price is that writes do not run in
 * parallel; reads never wait for the lock.
 *
 * Reads at a revision filter rows by created/deleted revision and by expiry (against the store's
 * clock as read when the snapshot was taken, passed as a parameter), in
 * one statement that also checks that the revision still exists in `revisions`; when it does not
 * (newer than the head, or garbage-collected), the read throws FailedPreconditionError, at the
 * first query rather than in `snapshot`, as the contract allows.
 *
 * Budgets (chargeBudgets) are counters in their own table, charged in a transaction of their own
 * that locks the grants' rows: callers on any instance charging the same grant wait for each
 * other, so a limit holds exactly; they never take the write lock, make no revision and send no
 * notification. API keys (ApiKeyStore) are rows of `api_keys`, likewise outside revisions.
 *
 * Watch (ChangeStream) replays change sets from the relationships table (and, with checkpoints,
 * schema writes from `schema_history`), then follows new
 * commits: each write NOTIFYs in its transaction (delivered at commit) and this instance also
 * wakes its own watchers directly, so changes from any instance arrive within milliseconds.
 *
 * Errors: a lost or refused connection is StoreUnavailableError; a serialization failure or
 * deadlock is AbortedError. Nothing needs reopening after an outage (a Postgres restart, say):
 * the pool opens new connections for the next statements, and the LISTEN connection reconnects
 * by itself (backing off up to 5 s) and then wakes every watch to catch up. A watch that only
 * waits survives the outage; one whose read fails meanwhile ends with StoreUnavailableError,
 * and its consumer resumes after the last revision it received. A write whose COMMIT fails with a lost connection may or may not have
 * committed (as with any database); `touch` and `delete` can be retried safely.
 */
export class PostgresStore implements Store {
  readonly #sql: SqlClient;
  readonly #channel: string;
  readonly #now: () => number;
  readonly #beforeCommit: ((tx: SqlQueryable) => Promise<void>) | undefined;
  readonly #changes: ChangeStream;
  #datastoreId: string | undefined;
  // The newest head and oldest readable revision seen: both only grow, so they let `snapshot`
  // refuse a collected revision at once, and spare reads a bounds query.
  #knownOldest: Revision = 0;
  #gcTimer: NodeJS.Timeout | undefined;
  #gcWindowMs: number | undefined;
  #closed = false;

  private constructor(sql: SqlClient, channel: string, options: PostgresStoreOptions) {
    this.#sql = sql;
    this.#channel = channel;
    this.#now = options.now ?? Date.now;
    this.#beforeCommit = options.beforeCommit;
    this.#changes = new ChangeStream({
      sql: { query: <R extends SqlRow>(text: string, params?: readonly unknown[]) => this.#guard(() => sql.query<R>(text, params)) },
      listen: (onNotify) => sql.listen(channel, onNotify),
      pollMs: options.watchPollMs ?? 5_000,
      assertReadable: (revision, field) => this.#assertReadable(sql, revision, field),
    });
  }

  /**
   * connect opens a store on the Postgres server at `url` (e.g.
   * `postgres://user@host:5432/mandate`), applying pending migrations unless `options.migrate`
   * is false. Throws StoreUnavailableError if the server cannot be reached.
   */
  static async connect(url: string, options: PostgresConnectOptions = {}): Promise<PostgresStore> {
    if (options.schema !== undefined) assertIdentifier(options.schema, "schema");
    const sql = pgSqlClient({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    });
    return PostgresStore.open(sql, options, options.schema);
  }

  /**
   * embedded opens a store on PGlite: persistent in the folder `dataDir` (created if absent; one
   * process at a time), or in memory when `dataDir` is undefined. Applies pending migrations
   * unless `options.migrate` is false.
   */
  static async embedded(dataDir: string | undefined, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    return PostgresStore.open(await pgliteSqlClient(dataDir), options, undefined);
  }

  /** open wraps any SqlClient (its connections already on the right search_path); `schema` is created by the migration if given. */
  static async open(sql: SqlClient, options: PostgresStoreOptions = {}, schema?: string): Promise<PostgresStore> {
    try {
      if (options.migrate ?? true) await applyMigrations(sql, schema);
      const { rows } = await sql.query<{ schema: string }>("SELECT current_schema() AS schema");
      const channel = `mandate_changes_${(rows[0]?.schema ?? "public").toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
      return new PostgresStore(sql, channel, options);
    } catch (error) {
      await sql.close().catch(() => {});
      throw translateSqlError(error);
    }
  }

  async headRevision(): Promise<Revision> {
    this.#assertOpen();
    return this.#guard(async () => Number((await this.#sql.query<{ head: number }>("SELECT max(revision) AS head FROM revisions")).rows[0]?.head));
  }

  snapshot(revision: Revision): RelationshipReader {
    this.#assertOpen();
    validateRevision(revision, "revision");
    if (revision < this.#knownOldest) throw this.#tooOld(revision, this.#knownOldest, "revision");
    const now = new Date(this.#now());
    return new PostgresReader(revision, now, (filter, options) => this.#read(this.#sql, revision, now, filter, options));
  }

  async write(updates: readonly RelationshipUpdate[], preconditions: readonly Precondition[] = [], options: WriteOptions = {}): Promise<Revision> {
    this.#assertOpen();
    validateUpdates(updates);
    return this.#writeTransaction(async (tx, revision) => {
      await checkSchemaRevision(tx, options.schemaRevision);
      await this.#checkPreconditions(tx, preconditions);
      const now = new Date(this.#now());
      const creates = updates.flatMap(({ operation, relationship }, i) => (operation === "create" ? [{ relationship, position: i }] : []));
      if (creates.length > 0) {
        const conflict = await this.#firstLive(tx, creates, now);
        if (conflict !== undefined) throw createConflict(conflict, relationshipKey((updates[conflict] as RelationshipUpdate).relationship));
      }
      const all = updates.map(({ relationship }, i) => ({ relationship, position: i }));
      if (all.length > 0) await endVersions(tx, all, revision, undefined);
      const puts = updates.flatMap(({ operation, relationship }, i) => {
        switch (operation) {
          case "create":
          case "touch":
            return [{ relationship, position: i }];
          case "delete":
            return [];
          default:
            return assertNever(operation, "update operation");
        }
      });
      if (puts.length > 0) await insertVersions(tx, puts, revision);
      return revision;
    });
  }

  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[] = [],
    options: { readonly limit?: number | undefined } = {},
  ): Promise<{ revision: Revision; deleted: number }> {
    this.#assertOpen();
    validateRelationshipFilter(filter, "filter");
    validateLimit(options.limit, "limit");
    return this.#writeTransaction(async (tx, revision) => {
      await this.#checkPreconditions(tx, preconditions);
      const params = new Params();
      // Position 0 for all: Watch orders a revision's changes by position, then key, which is
      // the order MemoryStore deletes them in.
      const { rowCount } = await tx.query(
        `UPDATE relationships SET deleted_revision = ${params.add(revision)}, deleted_position = 0
         WHERE ${liveAt(params, undefined, new Date(this.#now()))} AND ${filterConditions(params, filter)}`,
        params.values,
      );
      // Throwing rolls the deletion back.
      if (options.limit !== undefined && rowCount > options.limit) throw deleteLimitExceeded(options.limit, rowCount);
      return { revision, deleted: rowCount };
    });
  }

  async readSchema(): Promise<StoredSchema | undefined> {
    this.#assertOpen();
    return this.#guard(async () => {
      const row = (await this.#sql.query<{ text: string; revision: number }>("SELECT text, revision FROM schema_text")).rows[0];
      return row === undefined ? undefined : { text: row.text, revision: Number(row.revision) };
    });
  }

  async writeSchema(text: string, validate: (reader: RelationshipReader) => Promise<void>): Promise<Revision> {
    this.#assertOpen();
    return this.#writeTransaction(async (tx, revision) => {
      // The reader runs on the transaction's connection: writers wait for the lock we hold, and
      // PGlite, with its single connection, would otherwise wait for this very transaction.
      const head = revision - 1;
      const now = new Date(this.#now());
      await validate(new PostgresReader(head, now, (filter, options) => this.#read(tx, head, now, filter, options)));
      this.#assertOpen();
      await tx.query(
        `INSERT INTO schema_text (singleton, text, revision) VALUES (true, $1, $2)
         ON CONFLICT (singleton) DO UPDATE SET text = EXCLUDED.text, revision = EXCLUDED.revision`,
        [text, revision],
      );
      // What a watch reports for this revision, whatever is written later (ChangeStream).
      await tx.query("INSERT INTO schema_history (revision, text) VALUES ($1, $2)", [revision, text]);
      return revision;
    });
  }

  async *watch(afterRevision: Revision, signal: AbortSignal, options: WatchOptions = {}): AsyncIterable<ChangeSet> {
    this.#assertOpen();
    validateRevision(afterRevision, "afterRevision");
    const { oldest, head } = await this.#bounds(this.#sql);
    if (afterRevision > head) throw revisionNewerThanHead(afterRevision, head, "afterRevision");
    if (afterRevision < oldest) throw this.#tooOld(afterRevision, oldest, "afterRevision");
    yield* this.#changes.follow(afterRevision, signal, options);
  }

  async datastoreId(): Promise<string> {
    this.#assertOpen();
    this.#datastoreId ??= await this.#guard(async () => {
      const row = (await this.#sql.query<{ id: string }>("SELECT datastore_id AS id FROM metadata")).rows[0];
      return row?.id ?? "";
    });
    return this.#datastoreId;
  }

  async importRelationships(batches: AsyncIterable<readonly Relationship[]>, options: ImportOptions = {}): Promise<ImportResult> {
    this.#assertOpen();
    const result = await this.#writeTransaction(async (tx, revision) => {
      await checkSchemaRevision(tx, options.schemaRevision);
      const now = new Date(this.#now());
      // An expired version still holds its key's "live" slot; only if some exist anywhere does
      // each batch pay for ending them first, as create does.
      const expired = await tx.query("SELECT 1 FROM relationships WHERE deleted_revision IS NULL AND expires_at <= $1 LIMIT 1", [now]);
      let imported = 0;
      for await (const batch of batches) {
        if (expired.rowCount > 0) {
          for (let start = 0; start < batch.length; start += IMPORT_CHUNK) {
            const chunk = batch.slice(start, start + IMPORT_CHUNK).map((relationship, i) => ({ relationship, position: imported + start + i }));
            await endVersions(tx, chunk, revision, now);
          }
        }
        // COPY each batch, as it arrives, straight into relationships. Measured on a million
        // rows here: 12.9 s, against 15.2 s for INSERT from parameter arrays and 16.3 s for COPY
        // into a staging table then INSERT ... SELECT (COPY inserts rows in bulk, INSERT one at
        // a time; most of the time is index upkeep either way). The relationships_live index
        // refuses a relationship already live or given twice; COPY goes in input order, so the
        // one named is the first conflicting one.
        try {
          await tx.copyFrom(`relationships (${SELECT_COLUMNS}, created_position, created_revision)`, csvRows(batch, imported, revision));
        } catch (error) {
          // 23505 unique_violation: already live (relationships_live), or twice in the input.
          if (sqlErrorCode(error) === "23505") throw importConflict(conflictingKey(error) ?? "a relationship");
          throw error;
        }
        imported += batch.length;
        options.onProgress?.(imported);
      }
      // The client may have gone away after its last batch: then nothing it sent is committed.
      if (options.signal?.aborted) {
        throw new AbortedError("import: the client went away before the import finished; nothing was written");
      }
      return { revision, imported };
    });
    // A bulk import leaves the planner's statistics stale until autovacuum runs (up to a minute
    // or more): meanwhile it takes the imported rows for a few hundred and answers a paged read
    // by sorting every row after the cursor instead of walking the primary key (measured: export
    // of 200k rows in 1k-row pages 9.5 s instead of 0.5 s). Refreshing them at once is cheap (a
    // sample), and best effort: the import has committed, and a role that may not ANALYZE only
    // waits for autovacuum.
    if (result.imported >= IMPORT_CHUNK) await this.#sql.query("ANALYZE relationships").catch(() => {});
    return result;
  }

  async garbageCollect(olderThan: Date): Promise<{ removed: number }> {
    this.#assertOpen();
    const { removed, cutoff } = await this.#guard(() =>
      this.#sql.transaction(async (tx) => {
        const cutoffRow = (
          await tx.query<{ revision: number }>("SELECT revision FROM revisions WHERE committed_at < $1 ORDER BY committed_at DESC, revision DESC LIMIT 1", [olderThan])
        ).rows[0];
        const { oldest } = await this.#bounds(tx);
        // At the oldest revision itself there is no history left to forget, but relationships may
        // have expired since the last collection.
        if (cutoffRow === undefined || Number(cutoffRow.revision) < oldest) return { removed: 0, cutoff: oldest };
        const cutoff = Number(cutoffRow.revision);
        // No reader at `cutoff` or later can see a version deleted at `cutoff` or earlier.
        const deleted = await tx.query("DELETE FROM relationships WHERE deleted_revision <= $1", [cutoff]);
        // Nor one that expired by `olderThan` (but for a reader whose clock is older still); a
        // version created after `cutoff` stays, since a watch from `cutoff` replays its creation.
        const expired = await tx.query("DELETE FROM relationships WHERE deleted_revision IS NULL AND expires_at <= $1 AND created_revision <= $2", [
          olderThan,
          cutoff,
        ]);
        const rowCount = deleted.rowCount + expired.rowCount;
        await tx.query("DELETE FROM revisions WHERE revision < $1", [cutoff]);
        // A watch from `cutoff` (the oldest it accepts) replays the schema writes after it; the
        // statement that reads them also checks its start revision is kept, so it sees these
        // deletions only together with those of `revisions` (and then fails instead).
        await tx.query("DELETE FROM schema_history WHERE revision < $1", [cutoff]);
        return { removed: rowCount, cutoff };
      }),
    );
    this.#knownOldest = Math.max(this.#knownOldest, cutoff);
    return { removed };
  }

  async chargeBudgets(charges: readonly BudgetCharge[]): Promise<BudgetOutcome> {
    this.#assertOpen();
    validateBudgetCharges(charges);
    if (charges.length === 0) return { used: [] };
    const grantIds = charges.map(({ grantId }) => grantId);
    return this.#guard(() =>
      this.#sql.transaction(async (tx): Promise<BudgetOutcome> => {
        // Rows are created, then locked, in grant id order: callers charging overlapping grants
        // (on this instance or another) queue behind each other instead of deadlocking, and each
        // reads the counters as the one before it left them.
        await tx.query(
          `INSERT INTO budgets (grant_id, used) SELECT id, 0 FROM unnest($1::text[]) AS u(id) ORDER BY id COLLATE "C" ON CONFLICT (grant_id) DO NOTHING`,
          [grantIds],
        );
        const { rows } = await tx.query<{ grant_id: string; used: number }>(
          "SELECT grant_id, used FROM budgets WHERE grant_id = ANY($1::text[]) ORDER BY grant_id FOR UPDATE",
          [grantIds],
        );
        const used = new Map(rows.map((row) => [row.grant_id, Number(row.used)]));
        const exhausted = charges.find(({ grantId, limit }) => (used.get(grantId) ?? 0) >= limit);
        if (exhausted !== undefined) return { exhausted: exhausted.grantId };
        await tx.query("UPDATE budgets SET used = used + 1 WHERE grant_id = ANY($1::text[])", [grantIds]);
        return { used: charges.map(({ grantId }) => (used.get(grantId) ?? 0) + 1) };
      }),
    );
  }

  async budgetUsage(grantIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.#assertOpen();
    const { rows } = await this.#guard(() =>
      this.#sql.query<{ grant_id: string; used: number }>("SELECT grant_id, used FROM budgets WHERE grant_id = ANY($1::text[])", [grantIds]),
    );
    const used = new Map(rows.map((row) => [row.grant_id, Number(row.used)]));
    return new Map(grantIds.map((grantId) => [grantId, used.get(grantId) ?? 0]));
  }

  async createApiKey(record: ApiKeyRecord): Promise<void> {
    this.#assertOpen();
    validateApiKeyRecord(record);
    await this.#guard(() => insertApiKey(this.#sql, record));
  }

  async replaceApiKey(record: ApiKeyRecord, expectedSecretHash: string): Promise<ApiKeyRecord> {
    this.#assertOpen();
    validateApiKeyRecord(record);
    return this.#guard(() => updateApiKey(this.#sql, record, expectedSecretHash));
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    this.#assertOpen();
    return this.#guard(() => selectApiKey(this.#sql, id));
  }

  async apiKeys(): Promise<ApiKeyRecord[]> {
    this.#assertOpen();
    return this.#guard(() => selectApiKeys(this.#sql));
  }

  async oldestReadableRevision(): Promise<Revision> {
    this.#assertOpen();
    return (await this.#bounds(this.#sql)).oldest;
  }

  /**
   * startGarbageCollection collects history older than `windowMs` every `intervalMs` in the
   * background (an unref'd timer: it does not keep the process alive), until the returned function
   * is called or the store closes. Replaces any earlier schedule. Several instances may collect
   * the same database: collections are idempotent.
   */
  startGarbageCollection(options: GarbageCollectionOptions = {}): () => void {
    this.#assertOpen();
    const windowMs = options.windowMs ?? DAY_MS;
    this.#stopGarbageCollection();
    this.#gcWindowMs = windowMs;
    const timer = setInterval(() => {
      this.garbageCollect(new Date(Date.now() - windowMs)).then(
        (result) => options.onResult?.(result),
        (error: unknown) => options.onResult?.({ error }),
      );
    }, options.intervalMs ?? 10 * 60 * 1000);
    timer.unref();
    this.#gcTimer = timer;
    return () => {
      if (this.#gcTimer === timer) this.#stopGarbageCollection();
    };
  }

  /** poolUsage is the connection pool's state for metrics, or undefined where there is no pool (PGlite: one connection in this process). */
  poolUsage(): PoolUsage | undefined {
    return this.#sql.poolUsage?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopGarbageCollection();
    await this.#changes.close();
    await this.#sql.close().catch(() => {});
  }

  #stopGarbageCollection(): void {
    clearInterval(this.#gcTimer);
    this.#gcTimer = undefined;
  }

  // Runs `work` in a transaction holding the write lock, at revision head + 1, and commits it
  // with a notification; any failure rolls everything back.
  async #writeTransaction<T>(work: (tx: SqlTransaction, revision: Revision) => Promise<T>): Promise<T> {
    this.#assertOpen();
    const result = await this.#guard(() =>
      this.#sql.transaction(async (tx) => {
        await tx.query("SELECT datastore_id FROM metadata FOR UPDATE");
        const head = Number((await tx.query<{ head: number }>("SELECT max(revision) AS head FROM revisions")).rows[0]?.head);
        const revision = head + 1;
        const done = await work(tx, revision);
        // clock_timestamp, not now(): the time of the commit, after waiting for the lock.
        await tx.query("INSERT INTO revisions (revision, committed_at) VALUES ($1, clock_timestamp())", [revision]);
        await tx.query("SELECT pg_notify($1, $2)", [this.#channel, String(revision)]);
        await this.#beforeCommit?.(tx);
        return done;
      }),
    );
    this.#changes.wake();
    return result;
  }

  // `now` is the reader's clock, read once at snapshot time, so that every read of one reader
  // agrees on which relationships have expired.
  async #read(on: SqlQueryable, revision: Revision, now: Date, filter: RelationshipFilter, options: QueryOptions): Promise<Relationship[]> {
    this.#assertOpen();
    validateRelationshipFilter(filter, "filter");
    validateQueryOptions(options);
    return this.#guard(async () => {
      const params = new Params();
      const revisionParam = params.add(revision);
      const conditions = [liveAt(params, revisionParam, now), filterConditions(params, filter)];
      if (options.after !== undefined) conditions.push(`(${KEY_COLUMNS}) > (${keyParams(params, options.after)})`);
      const limit = options.limit === undefined ? "" : `LIMIT ${params.add(options.limit)}`;
      // The EXISTS makes the read and the check that `revision` is readable one snapshot.
      const { rows } = await on.query<RelationshipRow>(
        `SELECT ${SELECT_COLUMNS} FROM relationships
         WHERE ${conditions.join(" AND ")} AND EXISTS (SELECT 1 FROM revisions WHERE revision = ${revisionParam})
         ORDER BY ${KEY_COLUMNS} ${limit}`,
        params.values,
      );
      if (rows.length === 0) await this.#assertReadable(on, revision, "revision");
      return rows.map(toRelationship);
    });
  }

  async #assertReadable(on: SqlQueryable, revision: Revision, field: string): Promise<void> {
    const { oldest, head } = await this.#bounds(on);
    if (revision > head) throw revisionNewerThanHead(revision, head, field);
    if (revision < oldest) throw this.#tooOld(revision, oldest, field);
  }

  async #bounds(on: SqlQueryable): Promise<{ oldest: Revision; head: Revision }> {
    const row = (await this.#guard(() => on.query<{ oldest: number; head: number }>("SELECT min(revision) AS oldest, max(revision) AS head FROM revisions"))).rows[0];
    const oldest = Number(row?.oldest);
    this.#knownOldest = Math.max(this.#knownOldest, oldest);
    return { oldest, head: Number(row?.head) };
  }

  #tooOld(revision: Revision, oldest: Revision, field: string): Error {
    const window = this.#gcWindowMs === undefined ? undefined : formatWindow(this.#gcWindowMs);
    return revisionOlderThanHistory(revision, oldest, field, window);
  }

  async #checkPreconditions(tx: SqlQueryable, preconditions: readonly Precondition[]): Promise<void> {
    const now = new Date(this.#now());
    for (const [i, { operation, filter }] of preconditions.entries()) {
      validateRelationshipFilter(filter, `preconditions[${i}].filter`);
      const params = new Params();
      const { rows } = await tx.query<RelationshipRow>(
        `SELECT ${SELECT_COLUMNS} FROM relationships WHERE ${liveAt(params, undefined, now)} AND ${filterConditions(params, filter)}
         ORDER BY ${KEY_COLUMNS} LIMIT 1`,
        params.values,
      );
      const found = rows[0] === undefined ? undefined : toRelationship(rows[0]);
      switch (operation) {
        case "must_match":
          if (found === undefined) throw preconditionFailed(i, operation, found);
          break;
        case "must_not_match":
          if (found !== undefined) throw preconditionFailed(i, operation, found);
          break;
        default:
          assertNever(operation, "precondition operation");
      }
    }
  }

  // The lowest position among `items` whose relationship is live and unexpired at the head.
  async #firstLive(tx: SqlQueryable, items: readonly Positioned[], now: Date): Promise<number | undefined> {
    const params = new Params();
    const keys = keysTable(params, items);
    const { rows } = await tx.query<{ position: number }>(
      `SELECT k.position FROM ${keys} JOIN relationships r ON ${keyJoin("r", "k")}
       WHERE r.deleted_revision IS NULL AND (r.expires_at IS NULL OR r.expires_at > ${params.add(now)})
       ORDER BY k.position LIMIT 1`,
      params.values,
    );
    return rows[0] === undefined ? undefined : Number(rows[0].position);
  }

  async #guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (this.#closed && !(error instanceof StoreUnavailableError || error instanceof AbortedError)) throw new StoreUnavailableError("store is closed", { cause: error });
      throw translateSqlError(error);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError("store is closed");
  }
}

/** PostgresReader is a PostgresStore snapshot: a fixed revision, the clock reading that decides expiry, and the store's read function. */
class PostgresReader implements RelationshipReader {
  readonly #read: (filter: RelationshipFilter, options: QueryOptions) => Promise<Relationship[]>;

  constructor(
    readonly revision: Revision,
    readonly now: Date,
    read: (filter: RelationshipFilter, options: QueryOptions) => Promise<Relationship[]>,
  ) {
    this.#read = read;
  }

  queryRelationships(filter: RelationshipFilter, options: QueryOptions = {}): Promise<Relationship[]> {
    return this.#read(filter, options);
  }
}

/** Positioned is a relationship with its index in the write (or import) that changes it. */
interface Positioned {
  readonly relationship: Relationship;
  readonly position: number;
}

async function checkSchemaRevision(tx: SqlQueryable, expected: Revision | undefined): Promise<void> {
  if (expected === undefined) return;
  const row = (await tx.query<{ revision: number }>("SELECT revision FROM schema_text")).rows[0];
  // With no schema stored, only 0 ("the schema as of the empty store") matches, as in MemoryStore.
  const actual = row === undefined ? 0 : Number(row.revision);
  if (expected !== actual) {
    throw new AbortedError(
      `schemaRevision: the write was checked against the schema of revision ${expected}, but the schema changed at revision ${actual}; revalidate and retry`,
      { field: "schemaRevision" },
    );
  }
}

// Ends the live version (if any) of each item's relationship at `revision`; with `expiredAt`,
// only versions expired by then.
async function endVersions(tx: SqlQueryable, items: readonly Positioned[], revision: Revision, expiredAt: Date | undefined): Promise<void> {
  const params = new Params();
  const keys = keysTable(params, items);
  const expired = expiredAt === undefined ? "" : `AND r.expires_at <= ${params.add(expiredAt)}`;
  await tx.query(
    `UPDATE relationships r SET deleted_revision = ${params.add(revision)}, deleted_position = k.position
     FROM ${keys} WHERE r.deleted_revision IS NULL AND ${keyJoin("r", "k")} ${expired}`,
    params.values,
  );
}

async function insertVersions(tx: SqlQueryable, items: readonly Positioned[], revision: Revision): Promise<void> {
  const params = new Params();
  const column = (read: (relationship: Relationship) => unknown): unknown[] => items.map(({ relationship }) => read(relationship));
  const arrays = [
    `${params.add(column((r) => r.resource.type))}::text[]`,
    `${params.add(column((r) => r.resource.id))}::text[]`,
    `${params.add(column((r) => r.relation))}::text[]`,
    `${params.add(column((r) => r.subject.type))}::text[]`,
    `${params.add(column((r) => r.subject.id))}::text[]`,
    `${params.add(column((r) => r.subject.relation ?? ""))}::text[]`,
    `${params.add(column((r) => r.caveat?.name ?? null))}::text[]`,
    `${params.add(column((r) => (r.caveat === undefined ? null : JSON.stringify(r.caveat.context))))}::jsonb[]`,
    `${params.add(column((r) => r.expiresAt?.toISOString() ?? null))}::timestamptz[]`,
    `${params.add(items.map(({ position }) => position))}::integer[]`,
  ];
  await tx.query(
    `INSERT INTO relationships (${SELECT_COLUMNS}, created_position, created_revision)
     SELECT *, ${params.add(revision)}::bigint FROM unnest(${arrays.join(", ")})`,
    params.values,
  );
}

// The CSV lines (COPY's csv format) of `batch` as rows of relationships created at `revision`,
// its first item at input position `first`, a string per IMPORT_CHUNK rows. Text is always
// quoted, so that an empty string is not read as NULL (the unquoted empty field); inside quotes
// only `"` needs escaping, by doubling, and commas, backslashes and line breaks are data. No
// line is ever `\.` alone (COPY's end-of-data mark): every line starts with a quote.
async function* csvRows(batch: readonly Relationship[], first: number, revision: Revision): AsyncIterable<string> {
  for (let start = 0; start < batch.length; start += IMPORT_CHUNK) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(start + IMPORT_CHUNK, batch.length); i++) {
      lines.push(csvRow(batch[i] as Relationship, first + i, revision));
    }
    yield lines.join("");
  }
}

// One line: SELECT_COLUMNS, then created_position and created_revision.
function csvRow(relationship: Relationship, position: number, revision: Revision): string {
  const { resource, subject, caveat, expiresAt } = relationship;
  const fields = [
    csvText(resource.type),
    csvText(resource.id),
    csvText(relationship.relation),
    csvText(subject.type),
    csvText(subject.id),
    csvText(subject.relation ?? ""),
    caveat === undefined ? "" : csvText(caveat.name),
    caveat === undefined ? "" : csvText(JSON.stringify(caveat.context)),
    expiresAt === undefined ? "" : expiresAt.toISOString(),
    String(position),
    String(revision),
  ];
  return `${fields.join(",")}\n`;
}

function csvText(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

// A derived table `k` of the items' keys (in the "C" collation of the table) and positions.
function keysTable(params: Params, items: readonly Positioned[]): string {
  const column = (read: (relationship: Relationship) => string): string => params.add(items.map(({ relationship }) => read(relationship)));
  const arrays = [
    column((r) => r.resource.type),
    column((r) => r.resource.id),
    column((r) => r.relation),
    column((r) => r.subject.type),
    column((r) => r.subject.id),
    column((r) => r.subject.relation ?? ""),
  ].map((placeholder) => `${placeholder}::text[]`);
  const positions = `${params.add(items.map(({ position }) => position))}::integer[]`;
  const names = KEY_COLUMNS.split(", ");
  return `(SELECT ${names.map((name) => `u.${name} COLLATE "C" AS ${name}`).join(", ")}, u.position
    FROM unnest(${arrays.join(", ")}, ${positions}) AS u(${KEY_COLUMNS}, position)) k`;
}

function keyParams(params: Params, relationship: Relationship): string {
  const { resource, subject } = relationship;
  return [resource.type, resource.id, relationship.relation, subject.type, subject.id, subject.relation ?? ""].map((value) => params.add(value)).join(", ");
}

// Live at `revision` (undefined: at the head, i.e. not deleted) and unexpired at `now`.
function liveAt(params: Params, revision: string | undefined, now: Date): string {
  const alive =
    revision === undefined ? "deleted_revision IS NULL" : `created_revision <= ${revision} AND (deleted_revision IS NULL OR deleted_revision > ${revision})`;
  return `${alive} AND (expires_at IS NULL OR expires_at > ${params.add(now)})`;
}

function filterConditions(params: Params, filter: RelationshipFilter): string {
  const conditions = ["true"];
  if (filter.resourceType !== undefined) conditions.push(`resource_type = ${params.add(filter.resourceType)}`);
  if (filter.resourceId !== undefined) conditions.push(`resource_id = ${params.add(filter.resourceId)}`);
  if (filter.resourceIdPrefix !== undefined) conditions.push(`resource_id LIKE ${params.add(`${filter.resourceIdPrefix.replace(/[\\%_]/g, "\\$&")}%`)}`);
  if (filter.relation !== undefined) conditions.push(`relation = ${params.add(filter.relation)}`);
  const subject = filter.subject;
  if (subject !== undefined) {
    conditions.push(`subject_type = ${params.add(subject.type)}`);
    if (subject.id !== undefined) conditions.push(`subject_id = ${params.add(subject.id)}`);
    if (subject.relation !== undefined) conditions.push(`subject_relation = ${params.add(subject.relation ?? "")}`);
  }
  return conditions.join(" AND ");
}

// The relationship named by a unique violation's detail, "Key (resource_type, ...)=(document,
// readme, viewer, user, ann, ) already exists.": ids never contain ", " (see tuple/names.ts).
function conflictingKey(error: unknown): string | undefined {
  const detail = typeof error === "object" && error !== null ? (error as { detail?: unknown }).detail : undefined;
  const values = typeof detail === "string" ? /\)=\((.*)\) already exists/.exec(detail)?.[1]?.split(", ") : undefined;
  if (values === undefined || values.length < 6) return undefined;
  const [resourceType, resourceId, relation, subjectType, subjectId, subjectRelation] = values as [string, string, string, string, string, string];
  return relationshipKey({
    resource: { type: resourceType, id: resourceId },
    relation,
    subject: { type: subjectType, id: subjectId, relation: subjectRelation === "" ? undefined : subjectRelation },
  });
}

function formatWindow(ms: number): string {
  if (ms % (60 * 60 * 1000) === 0) return `${ms / (60 * 60 * 1000)}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function assertIdentifier(name: string, field: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new InvalidArgumentError(`${field}: "${name}" is not a lower-case SQL identifier of at most 63 letters, digits and _`, { field });
  }
}
