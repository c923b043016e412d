import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFromStdin } from "pg-copy-streams";
import { BugError } from "../../tuple/index.ts";
import type { SqlClient, SqlResult, SqlRow, SqlTransaction } from "./sql-client.ts";

// How long a LISTEN connection waits before reconnecting after it was lost, doubling up to the max.
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * pgSqlClient is a SqlClient over a node-postgres Pool. Connections that die (server restart,
 * pg_terminate_backend) are discarded by the pool; the next statement opens a new one.
 */
export function pgSqlClient(config: pg.PoolConfig): SqlClient {
  const pool = new pg.Pool(config);
  // An idle connection that dies emits "error" on the pool; without a listener Node would crash.
  // The pool has already dropped it, and the next statement reports any lasting outage.
  pool.on("error", () => {});

  return {
    async query<R extends SqlRow>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
      const result = await pool.query<R>(text, params as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
    },

    async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out connection that dies emits "error" on the client; remember it, so that the
      // connection is destroyed on release rather than handed to the next caller.
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await fn({
          async query<R extends SqlRow>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
            const queried = await client.query<R>(text, params as unknown[]);
            return { rows: queried.rows, rowCount: queried.rowCount ?? queried.rows.length };
          },
          async copyFrom(target: string, csv: AsyncIterable<string>): Promise<number> {
            // The stream takes each string as `csv` yields it, waiting while the socket is full;
            // a failing source aborts the COPY (CopyFail), and the transaction then rolls back.
            const copy = client.query(copyFromStdin(`COPY ${target} FROM STDIN WITH (FORMAT csv)`));
            await pipeline(Readable.from(csv), copy);
            return copy.rowCount;
          },
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          broken ??= rollbackError instanceof Error ? rollbackError : new Error("rollback failed");
        }
        throw error;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },

    async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
      assertChannel(channel);
      let current: pg.Client | undefined;
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;

      const connect = async (): Promise<void> => {
        const client = new pg.Client(config);
        client.on("notification", (message) => {
          if (message.channel === channel) onNotify();
        });
        // "end" follows every fatal error; reconnecting is decided there.
        client.on("error", () => {});
        client.on("end", () => {
          if (current !== client) return;
          current = undefined;
          reconnect(RECONNECT_MIN_MS);
        });
        try {
          await client.connect();
          await client.query(`LISTEN ${channel}`);
        } catch (error) {
          client.end().catch(() => {});
          throw error;
        }
        if (stopped) {
          await client.end();
          return;
        }
        current = client;
      };

      const reconnect = (delayMs: number): void => {
        if (stopped) return;
        retry = setTimeout(() => {
          connect().then(
            // Commits may have happened while no one listened: let the listener catch up.
            () => onNotify(),
            () => reconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS)),
          );
        }, delayMs);
        retry.unref();
      };

      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        const client = current;
        current = undefined;
        await client?.end();
      };
    },

    poolUsage() {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: config.max ?? 10 };
    },

    async close(): Promise<void> {
      await pool.end();
    },
  };
}

/** assertChannel refuses a channel name that LISTEN would need to quote (it is spliced into SQL). */
export function assertChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new BugError(`channel: "${channel}" is not a lower-case identifier of at most 63 characters`);
}
