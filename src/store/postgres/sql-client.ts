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

/** SqlTransaction is the handle of one open transaction: its statements, and bulk loads by COPY. */
export interface SqlTransaction extends SqlQueryable {
  /**
   * copyFrom loads CSV rows into `target` (a table name and its column list, e.g. `t (a, b)`)
   * with `COPY ... FROM ... WITH (FORMAT csv)`, and resolves to the number of rows loaded. `csv`
   * is the data, cut anywhere into strings; drivers that can stream send each string as it
   * arrives (node-postgres), others gather one call's strings first (PGlite), so a caller that
   * must bound memory makes one call per batch. `target` is spliced into SQL: never user input.
   */
  copyFrom(target: string, csv: AsyncIterable<string>): Promise<number>;
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
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;

  /**
   * listen calls `onNotify` for every NOTIFY on `channel` (a lower-case identifier) from any
   * connection, and also after it had to reconnect (notifications may have been missed meanwhile).
   * Resolves once listening; the returned function stops it.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;

  /** poolUsage, for drivers with a connection pool, tells how it is used right now. */
  poolUsage?(): PoolUsage;

  /** close releases every connection; in-flight statements may fail. */
  close(): Promise<void>;
}

/**
 * PoolUsage is a connection pool's state at one moment: `total` connections open (busy or
 * idle), `idle` ones among them, `waiting` requests queued for a connection, and `max`, the most
 * it opens.
 */
export interface PoolUsage {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
}
