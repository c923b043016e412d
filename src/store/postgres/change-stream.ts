import type { Revision } from "../../tuple/index.ts";
import { StoreUnavailableError } from "../errors.ts";
import type { Change, ChangeSet, WatchOptions } from "../store.ts";
import { validateWatchOptions } from "../validate-filter.ts";
import { KEY_COLUMNS, Params, SELECT_COLUMNS, keyJoin, prefixed, toRelationship } from "./relationship-sql.ts";
import type { RelationshipRow } from "./relationship-sql.ts";
import type { SqlQueryable } from "./sql-client.ts";
import { translateSqlError } from "./sql-errors.ts";

// Rows per page of a watch replay.
const WATCH_PAGE = 1_000;

// One row of a replay: a relationship change, or (operation "schema", relationship columns NULL)
// a schema write with its text.
interface ChangeRow extends RelationshipRow {
  revision: number | string;
  operation: "touch" | "delete" | "schema";
  schema: string | null;
}

/** ChangeStreamOptions are what a ChangeStream needs from its PostgresStore. */
export interface ChangeStreamOptions {
  /** Runs the stream's statements; its errors are already translated as the store's are. */
  readonly sql: SqlQueryable;
  /** Starts listening to the commit notifications of every instance (SqlClient.listen on the store's channel). */
  readonly listen: (onNotify: () => void) => Promise<() => Promise<void>>;
  /** How often a waiting watch re-reads without a notification (see PostgresStoreOptions.watchPollMs). */
  readonly pollMs: number;
  /** Throws FailedPreconditionError when `revision` is newer than the head or no longer kept. */
  readonly assertReadable: (revision: Revision, field: string) => Promise<void>;
}

/**
 * ChangeStream is PostgresStore's watch. It replays change sets from the relationships table
 * (with checkpoints, merged in revision order with the schema writes of `schema_history`), then
 * follows new commits: it wakes on each commit's NOTIFY (from any instance), on `wake` (a
 * commit of this instance), and every `pollMs` as a safety net for notifications lost while the
 * LISTEN connection reconnected. `close` ends every running watch with StoreUnavailableError.
 */
export class ChangeStream {
  readonly #options: ChangeStreamOptions;
  readonly #commitWaiters = new Set<() => void>();
  #listening: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(options: ChangeStreamOptions) {
    this.#options = options;
  }

  /**
   * follow yields the change sets after `afterRevision` (which the caller has checked is
   * readable), in revision order, until `signal` aborts; with `checkpoints`, also the schema
   * writes, checkpoints and (with `maxChanges`) oversized markers of WatchOptions.
   */
  async *follow(afterRevision: Revision, signal: AbortSignal, options: WatchOptions): AsyncIterable<ChangeSet> {
    validateWatchOptions(options);
    const checkpoints = options.checkpoints === true;
    await this.#listen();
    let last = afterRevision;
    while (!signal.aborted) {
      this.#assertOpen();
      // Armed before reading, so that a commit between the read and the wait is not missed.
      const commit = this.#nextCommit(signal);
      const changeSets = checkpoints ? await this.#changeSetsWithCheckpoint(last, options.maxChanges) : (await this.#changesAfter(last, undefined, false, undefined)).changeSets;
      if (changeSets.length === 0) {
        await commit.wait;
        continue;
      }
      commit.cancel();
      for (const changeSet of changeSets) {
        last = changeSet.revision;
        yield changeSet;
      }
    }
  }

  /** wake makes every waiting watch read again at once: this instance has just committed. */
  wake(): void {
    for (const wake of [...this.#commitWaiters]) wake();
  }

  /** close stops listening and ends every watch (the next read throws StoreUnavailableError). */
  async close(): Promise<void> {
    this.#closed = true;
    this.wake();
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => {});
  }

  // The change sets after `last` as a watch with checkpoints yields them. The head H is read
  // first, then the changes up to it: H committed, so every revision up to H committed with its
  // rows (writers commit one at a time, in revision order, each revision's rows, its schema
  // history row included, in the same transaction as its `revisions` row), and the later read of
  // changes sees them all. So once the changes up to H are delivered, a checkpoint at H cannot be
  // followed by a change at or below H (pinned by the conformance test "yields strictly increasing
  // revisions up to the head with writes racing the watch"), and every schema write up to H has
  // been reported (conformance test "reports every schema write with its text ..."). An oversized
  // marker stands in for its revision's change set in the same place, so the argument holds.
  async #changeSetsWithCheckpoint(last: Revision, maxChanges: number | undefined): Promise<ChangeSet[]> {
    const head = await this.#head();
    const { changeSets, complete } = await this.#changesAfter(last, head, true, maxChanges);
    const newest = changeSets[changeSets.length - 1]?.revision ?? last;
    // A page that ends early delivers only up to its last change set: no checkpoint yet.
    if (complete && head > newest) changeSets.push({ revision: head, changes: [], checkpoint: true });
    return changeSets;
  }

  async #head(): Promise<Revision> {
    const { rows } = await this.#options.sql.query<{ head: number | string }>("SELECT max(revision) AS head FROM revisions");
    return Number(rows[0]?.head);
  }

  // Change sets after `last` (and up to `upTo`, if given), whole, oldest first; a page ends at a
  // revision boundary. With `withSchema`, schema writes come as change sets of their own (a
  // schema write changes no relationship, so no relationship change shares its revision).
  // `complete`: every change up to `upTo` (or up to now) is in `changeSets`. With `maxChanges`, a
  // revision with more changes comes as an oversized marker: a page (WATCH_PAGE rows) bounds what
  // is read of it, and a revision that fills a page alone is counted (up to maxChanges + 1 rows)
  // before it is read whole, so a bulk import is never materialised.
  async #changesAfter(
    last: Revision,
    upTo: Revision | undefined,
    withSchema: boolean,
    maxChanges: number | undefined,
  ): Promise<{ changeSets: ChangeSet[]; complete: boolean }> {
    let rows = await this.#changeRows(last, upTo, undefined, withSchema);
    if (rows.length === 0) {
      // Nothing new, or `last` was collected meanwhile (then changes after it may be lost).
      await this.#options.assertReadable(last, "afterRevision");
      return { changeSets: [], complete: true };
    }
    const complete = rows.length < WATCH_PAGE;
    if (!complete) {
      const lastRevision = Number((rows[rows.length - 1] as ChangeRow).revision);
      const firstRevision = Number((rows[0] as ChangeRow).revision);
      if (firstRevision !== lastRevision) {
        rows = rows.filter((row) => Number(row.revision) !== lastRevision);
      } else if (maxChanges !== undefined && (rows.length > maxChanges || (await this.#countChanges(last, firstRevision, maxChanges + 1)) > maxChanges)) {
        // One revision fills the page: too big to read whole. No checkpoint follows (incomplete).
        return { changeSets: [oversized(firstRevision)], complete: false };
      } else {
        rows = await this.#changeRows(last, undefined, firstRevision, withSchema);
      }
    }
    const changeSets: ChangeSet[] = [];
    for (const row of rows) {
      const revision = Number(row.revision);
      if (row.operation === "schema") {
        // schema_history.text is NOT NULL.
        changeSets.push({ revision, changes: [], schemaChanged: true, schema: row.schema as string });
        continue;
      }
      const change: Change = { operation: row.operation, relationship: toRelationship(row) };
      const current = changeSets[changeSets.length - 1];
      if (current?.revision === revision) (current.changes as Change[]).push(change);
      else changeSets.push({ revision, changes: [change] });
    }
    if (maxChanges === undefined) return { changeSets, complete };
    return { changeSets: changeSets.map((changeSet) => (changeSet.changes.length > maxChanges ? oversized(changeSet.revision) : changeSet)), complete };
  }

  // The changes after `last` and up to `upTo` (a page), or all of revision `only`, with the schema
  // writes among them when `withSchema`, in the order a watch yields them (see changesSql).
  async #changeRows(last: Revision, upTo: Revision | undefined, only: Revision | undefined, withSchema: boolean): Promise<ChangeRow[]> {
    const params = new Params();
    const changes = changesSql(params, last, upTo, only, withSchema);
    const limit = only === undefined ? `LIMIT ${params.add(WATCH_PAGE)}` : "";
    const { rows } = await this.#options.sql.query<ChangeRow>(`${changes} ORDER BY revision, position, ${KEY_COLUMNS} ${limit}`, params.values);
    return rows;
  }

  // How many relationships revision `only` changed, counting no further than `limit` (so that a
  // bulk import costs `limit` index entries, not a read of all its rows); 0 if `last` was collected.
  async #countChanges(last: Revision, only: Revision, limit: number): Promise<number> {
    const params = new Params();
    const changes = changesSql(params, last, undefined, only, false);
    const { rows } = await this.#options.sql.query<{ count: number | string }>(`SELECT count(*) AS count FROM (${changes} LIMIT ${params.add(limit)}) counted`, params.values);
    return Number(rows[0]?.count ?? 0);
  }

  async #listen(): Promise<void> {
    this.#listening ??= this.#options.listen(() => this.wake()).then(
      (unlisten) => {
        if (this.#closed) {
          unlisten().catch(() => {});
          return;
        }
        this.#unlisten = unlisten;
      },
      (error: unknown) => {
        this.#listening = undefined;
        throw translateSqlError(error);
      },
    );
    await this.#listening;
  }

  // Resolves on the next commit seen (here or notified), on close, on abort, or after the poll
  // interval, whichever comes first.
  #nextCommit(signal: AbortSignal): { wait: Promise<void>; cancel: () => void } {
    let cancel = (): void => {};
    const wait = new Promise<void>((resolve) => {
      const timer = setTimeout(() => cancel(), this.#options.pollMs);
      cancel = (): void => {
        clearTimeout(timer);
        this.#commitWaiters.delete(cancel);
        signal.removeEventListener("abort", cancel);
        resolve();
      };
      this.#commitWaiters.add(cancel);
      signal.addEventListener("abort", cancel, { once: true });
    });
    return { wait, cancel };
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError("store is closed");
  }
}

// The oversized marker of WatchOptions.maxChanges for `revision`.
function oversized(revision: Revision): ChangeSet {
  return { revision, changes: [], oversized: true };
}

// The changes after `last` and up to `upTo`, or all of revision `only`, with the schema writes among
// them when `withSchema`, unordered (the caller orders or counts). A touch that replaced a version
// ends the old one at the same revision: that is one change (touch), not a delete and a touch. One
// statement, so that the check that `last` is still kept (garbage collection deletes old
// `revisions` and old `schema_history` rows in one transaction) holds for every row it returns.
function changesSql(params: Params, last: Revision, upTo: Revision | undefined, only: Revision | undefined, withSchema: boolean): string {
  const lastParam = params.add(last);
  const bounds = only !== undefined ? [`= ${params.add(only)}`] : [`> ${lastParam}`, ...(upTo === undefined ? [] : [`<= ${params.add(upTo)}`])];
  const inRange = (column: string): string => bounds.map((bound) => `${column} ${bound}`).join(" AND ");
  const noRelationship = SELECT_COLUMNS.split(", ")
    .map((name) => `NULL AS ${name}`)
    .join(", ");
  const schemaWrites = withSchema
    ? `UNION ALL
       SELECT h.revision, 0, 'schema', ${noRelationship}, h.text
       FROM schema_history h WHERE ${inRange("h.revision")}`
    : "";
  return `SELECT * FROM (
       SELECT created_revision AS revision, created_position AS position, 'touch' AS operation, ${SELECT_COLUMNS}, NULL::text AS schema
       FROM relationships WHERE ${inRange("created_revision")}
       UNION ALL
       SELECT d.deleted_revision, d.deleted_position, 'delete', ${prefixed("d", SELECT_COLUMNS)}, NULL
       FROM relationships d WHERE ${inRange("d.deleted_revision")}
         AND NOT EXISTS (SELECT 1 FROM relationships n WHERE n.created_revision = d.deleted_revision AND ${keyJoin("n", "d")})
       ${schemaWrites}
     ) changes
     WHERE EXISTS (SELECT 1 FROM revisions WHERE revision = ${lastParam})`;
}
