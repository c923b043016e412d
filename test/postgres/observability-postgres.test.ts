import { afterAll, describe, expect, it } from "vitest";
import { startServe } from "../cli/serve-process.ts";
import { postgresTestDatabase } from "./postgres-test-database.ts";

// `mandate serve` on Postgres with --metrics-port: the pool's gauges are scraped, and the
// database password (the URL's own, or one added: a trust-authenticated server ignores it) never
// appears in what the process prints.

const database = await postgresTestDatabase();

afterAll(async () => {
  await database?.drop();
});

describe.skipIf(database === undefined)("observability on Postgres", () => {
  const db = database as NonNullable<typeof database>;

  it("reports the connection pool and keeps the password out of the logs", async () => {
    const url = new URL(db.url);
    if (url.password === "") url.password = "pg-password-secret-8d27";
    const password = decodeURIComponent(url.password);
    const serve = await startServe(["--datastore", "postgres", "--log-level", "debug", "--metrics-port", "0", "--schema", "schema/drive.zed"], {
      DATABASE_URL: url.toString(),
      MANDATE_AUTH: "none",
    });
    try {
      const line = serve.logLines.find((candidate) => candidate.includes('"metricsAddress"'));
      const { metricsAddress } = JSON.parse(line ?? "{}") as { metricsAddress?: string };
      const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
      expect(text).toMatch(/^mandate_store_pool_connections \d+$/m);
      expect(text).toMatch(/^mandate_store_pool_idle_connections \d+$/m);
      expect(text).toMatch(/^mandate_store_pool_waiting_requests \d+$/m);
      expect(text).toMatch(/^mandate_store_pool_max_connections 10$/m);
      expect(text).toMatch(/^mandate_index_revision_lag \d+$/m);
    } finally {
      await serve.stop();
    }
    expect(serve.logLines.join("\n")).not.toContain(password);
  });
});
