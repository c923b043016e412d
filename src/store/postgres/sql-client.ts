/** SqlRow is one result row, column name to value, as the driver parsed it. */
export type SqlRow = Record<string, unknown>;

/** SqlResult is a statement's rows and the number of rows it returned or changed. */
export interface SqlResult<R extends SqlRow = SqlRow> {
  readonly rows: R[];
  readonly rowCount: number;
}

/** SqlQueryable runs one parameterised statement (`$1`, `$2`, ...) and returns its rows. */
export interface SqlQueryable {
  query<R extends SqlRow = SqlRow>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
}

/**
 * SqlClient is the little that PostgresStore needs from a Postgres driver, so that the same SQL
 * runs on node-postgres and on PGlite. Drivers differ in how they return bigint (string or
 * number): callers convert with Number().
 */
export interface SqlClient extends SqlQueryable {
  /**
   * transaction runs `fn` inside BEGIN ... COMMIT on one connection and commits if it resolves;
   * if it throws, rolls back and rethrows. Statements of the transaction go through `tx` only.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;

  /**
   * listen calls `onNotify` for every NOTIFY on `channel` (a lower-case identifier) from any
   * connection, and also after it had to reconnect (notifications may have been missed meanwhile).
   * Resolves once listening; the returned function stops it.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;

  /** close releases every connection; in-flight statements may fail. */
  close(): Promise<void>;
}
