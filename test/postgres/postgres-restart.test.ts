import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { chown } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { status } from "@grpc/grpc-js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callErrorOf } from "../../src/api/index.ts";
import type { MandateClient } from "../../src/api/index.ts";
import { PostgresStore, StoreUnavailableError } from "../../src/store/index.ts";
import type { Revision } from "../../src/tuple/index.ts";
import { DRIVE_SCHEMA, startHarness, update } from "../e2e/harness.ts";
import type { Harness } from "../e2e/harness.ts";

// Postgres itself is stopped and started again while clients keep calling (issue 3). The
// machine's shared Postgres is left alone: the test runs a throwaway cluster of its own (initdb
// and pg_ctl of the installed Postgres), skipped when those are absent unless
// MANDATE_REQUIRE_POSTGRES=1. Meanwhile calls fail with UNAVAILABLE (StoreUnavailableError in the
// store), never INTERNAL, nothing crashes, and the same server and stores recover by themselves:
// writes and checks succeed again, and a watch waiting on LISTEN (its poll far away) is notified
// of new commits once its connection has come back.

const REQUIRED = process.env.MANDATE_REQUIRE_POSTGRES === "1";
const run = promisify(execFile);

/** PrivateCluster is a Postgres cluster in a temporary folder, owned by this test file. */
interface PrivateCluster {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

// The newest installed Postgres whose initdb and pg_ctl exist, e.g. /usr/lib/postgresql/15/bin.
function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => join(root, version, "bin")).find((bin) => existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl")));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP port could be reserved");
  return address.port;
}

async function startPrivateCluster(): Promise<PrivateCluster | undefined> {
  const bin = postgresBinDir();
  // initdb refuses to run as root: then it runs as the `postgres` OS user.
  const asRoot = process.getuid?.() === 0;
  if (bin === undefined || (asRoot && !existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser"))) {
    if (REQUIRED) throw new Error("MANDATE_REQUIRE_POSTGRES=1, but no initdb/pg_ctl (or runuser, running as root) was found under /usr/lib/postgresql");
    return undefined;
  }
  const tool = (name: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, name), ...args]) : run(join(bin, name), args));
  const folder = mkdtempSync(join(tmpdir(), "mandate-pg-restart-"));
  try {
    return await initAndStart(tool, folder, asRoot);
  } catch (error) {
    await tool("pg_ctl", ["-D", join(folder, "data"), "-m", "immediate", "-w", "stop"]).catch(() => {});
    rmSync(folder, { recursive: true, force: true });
    // Tools that exist but cannot make a cluster here (no `postgres` user, say) skip the suite too.
    if (REQUIRED) throw error;
    return undefined;
  }
}

async function initAndStart(tool: (name: string, args: string[]) => Promise<unknown>, folder: string, asRoot: boolean): Promise<PrivateCluster> {
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(folder, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(folder, "data");
  const port = await freePort();
  await tool("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  // The socket goes into the folder, so no lock file clashes with the machine's Postgres in /tmp;
  // the log file keeps the server off our pipes (execFile would otherwise wait for it to exit).
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    await tool("pg_ctl", ["-D", data, "-o", options, "-l", join(folder, "log"), "-w", "start"]);
  };
  const stop = async () => {
    await tool("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async destroy() {
      await tool("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

const cluster = await startPrivateCluster();

afterAll(async () => {
  await cluster?.destroy();
});

describe.skipIf(cluster === undefined)("the API and stores while Postgres is stopped and started again", () => {
  const db = cluster as PrivateCluster;
  let h: Harness;
  let store: PostgresStore;
  let watcher: PostgresStore;
  let client: MandateClient;
  const crashes: unknown[] = [];
  const onCrash = (error: unknown): void => {
    crashes.push(error);
  };

  beforeAll(async () => {
    process.on("unhandledRejection", onCrash);
    process.on("uncaughtException", onCrash);
    store = await PostgresStore.connect(db.url, { poolSize: 4 });
    // A poll interval far beyond the test: only a reconnected LISTEN delivers in time.
    watcher = await PostgresStore.connect(db.url, { poolSize: 2, migrate: false, watchPollMs: 120_000 });
    h = await startHarness({ store: async () => store });
    client = h.client;
    await client.writeSchema({ schema: DRIVE_SCHEMA });
  }, 60_000);

  afterAll(async () => {
    // The harness closes the store it serves; without one (a failed start) close the store here.
    await (h ? h.close() : store?.close());
    await watcher?.close();
    process.off("unhandledRejection", onCrash);
    process.off("uncaughtException", onCrash);
  });

  it("answers UNAVAILABLE while it is down, never INTERNAL, and serves writes, checks and watches again by itself", async () => {
    // The outcome of every API call and store call, by phase, e.g. "down api UNAVAILABLE".
    const outcomes = new Map<string, number>();
    const count = (key: string): void => {
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    };
    let phase: "up" | "down" | "restarting" = "up";
    let n = 0;

    // One API round (a write, then a check at its token) and one store round (head, then a read at it).
    const apiRound = async (): Promise<boolean> => {
      const id = `r${n++}`;
      try {
        const written = await client.writeRelationships({ updates: [update("touch", `document:${id}#viewer@user:ann`)] });
        const check = await client.check({
          resource: { objectType: "document", objectId: id },
          permission: "view",
          subject: { object: { objectType: "user", objectId: "ann" } },
          consistency: { atLeastAsFresh: { token: written.writtenAt?.token ?? "" } },
        });
        expect(check.permissionship).toBe("PERMISSIONSHIP_HAS_PERMISSION");
        count(`${phase} api OK`);
        return true;
      } catch (error) {
        const code = callErrorOf(error)?.code;
        count(`${phase} api ${code === undefined ? String(error) : (status[code] ?? code)}`);
        return false;
      }
    };
    const storeRound = async (): Promise<void> => {
      try {
        const head = await store.headRevision();
        await store.snapshot(head).queryRelationships({ resourceType: "document" }, { limit: 10 });
        count(`${phase} store OK`);
      } catch (error) {
        count(`${phase} store ${error instanceof StoreUnavailableError ? "StoreUnavailableError" : String(error)}`);
      }
    };

    // A watch consumer as a client would write it: on StoreUnavailableError it waits a little and
    // resumes after the last revision it received.
    const controller = new AbortController();
    const watched: Array<{ revision: Revision; at: number }> = [];
    const watchErrors: string[] = [];
    const watching = (async () => {
      let last = await watcher.headRevision();
      while (!controller.signal.aborted) {
        try {
          for await (const changeSet of watcher.watch(last, controller.signal)) {
            last = changeSet.revision;
            watched.push({ revision: changeSet.revision, at: performance.now() });
          }
        } catch (error) {
          watchErrors.push(error instanceof StoreUnavailableError ? "StoreUnavailableError" : String(error));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    })();

    // Load: three API rounds and a store round at a time, bounded in count and in time.
    let loading = true;
    const started = Date.now();
    const load = (async () => {
      for (let round = 0; loading && round < 5_000 && Date.now() - started < 60_000; round++) {
        await Promise.all([apiRound(), apiRound(), apiRound(), storeRound()]);
        // While Postgres is down every call fails at once: no need to spin.
        if (phase !== "up") await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 700));
    phase = "down";
    await db.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    phase = "restarting";
    await db.start();
    // Recovered by itself: an API round succeeds within seconds of the restart.
    const restartedAt = Date.now();
    while (!(await apiRound())) {
      if (Date.now() - restartedAt > 20_000) throw new Error(`no successful write and check within 20 s of the restart: ${JSON.stringify([...outcomes])}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    loading = false;
    await load;

    const outcomeList = [...outcomes].map(([key, times]) => `${key} x${times}`);
    expect(outcomes.get("up api OK") ?? 0, outcomeList.join("; ")).toBeGreaterThan(0);
    expect(outcomes.get("down api UNAVAILABLE") ?? 0, outcomeList.join("; ")).toBeGreaterThan(0);
    expect(outcomes.get("down store StoreUnavailableError") ?? 0, outcomeList.join("; ")).toBeGreaterThan(0);
    // A call in flight at the stop may have failed with UNAVAILABLE while still counted as "up".
    const allowed = /^(up|down|restarting) (api (OK|UNAVAILABLE)|store (OK|StoreUnavailableError))$/;
    expect([...outcomes.keys()].filter((key) => !allowed.test(key))).toEqual([]);

    // The watcher's LISTEN connection comes back by itself (backoff of at most 5 s), and then a
    // commit by the other store reaches the watch at once, not after its 120 s poll.
    const listening = new pg.Client({ connectionString: db.url });
    await listening.connect();
    try {
      const deadline = Date.now() + 15_000;
      while ((await listening.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LISTEN mandate_changes_%'")).rowCount === 0) {
        if (Date.now() > deadline) throw new Error("the watcher did not LISTEN again within 15 s of the restart");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await listening.end();
    }
    const written = await client.writeRelationships({ updates: [update("touch", "document:after#viewer@user:bob")] });
    const committedAt = performance.now();
    const writtenRevision = await store.headRevision();
    const deadline = Date.now() + 5_000;
    while (!watched.some((w) => w.revision === writtenRevision) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await watching;
    expect(written.writtenAt?.token).toBeTruthy();
    const delivered = watched.find((w) => w.revision === writtenRevision);
    expect(delivered, `watch errors: ${watchErrors.join(", ")}`).toBeDefined();
    expect((delivered?.at ?? Number.POSITIVE_INFINITY) - committedAt).toBeLessThan(2_000);
    expect(watchErrors.filter((error) => error !== "StoreUnavailableError")).toEqual([]);
    expect(crashes).toEqual([]);
  }, 90_000);
});
