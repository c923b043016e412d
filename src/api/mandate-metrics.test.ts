import { Metadata, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../engine/index.ts";
import { startGraphIndexFollower } from "../graph/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import { MemoryStore } from "../store/index.ts";
import { parseRelationship } from "../tuple/index.ts";
import { MandateMetrics } from "./mandate-metrics.ts";

// One sample line of the text format, e.g. `mandate_index_revision_lag 2`, by metric and labels.
function sample(text: string, name: string, labels = ""): string | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(labels === "" ? `${name} ` : `${name}{${labels}} `));
  return line?.slice(line.lastIndexOf(" ") + 1);
}

const stores: MemoryStore[] = [];
const followers: GraphIndexFollower[] = [];
afterEach(async () => {
  await Promise.all(followers.splice(0).map((follower) => follower.stop()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function metricsOnFollowedStore(): Promise<{ metrics: MandateMetrics; store: MemoryStore; follower: GraphIndexFollower }> {
  const store = new MemoryStore();
  stores.push(store);
  const follower = await startGraphIndexFollower(store);
  followers.push(follower);
  const engine = new Engine({}, { follower, budgets: store });
  return { metrics: new MandateMetrics({ engine, store, follower }), store, follower };
}

function call(metrics: MandateMetrics, method: string, code: status, durationSeconds: number): void {
  metrics.start({ service: "PermissionsService", method, requestId: "r1", metadata: new Metadata() }).finish({ code, durationSeconds });
}

describe("MandateMetrics", () => {
  it("counts finished calls by service, method and status name, and observes their duration", async () => {
    const { metrics } = await metricsOnFollowedStore();
    call(metrics, "CheckPermission", status.OK, 0.002);
    call(metrics, "CheckPermission", status.OK, 0.003);
    call(metrics, "CheckPermission", status.PERMISSION_DENIED, 0.0001);
    const text = await metrics.metrics();
    const where = 'grpc_service="PermissionsService",grpc_method="CheckPermission"';
    expect(sample(text, "mandate_grpc_server_handled_total", `${where},grpc_code="OK"`)).toBe("2");
    expect(sample(text, "mandate_grpc_server_handled_total", `${where},grpc_code="PERMISSION_DENIED"`)).toBe("1");
    expect(sample(text, "mandate_grpc_server_handling_seconds_count", `${where},grpc_code="OK"`)).toBe("2");
    expect(sample(text, "mandate_grpc_server_handling_seconds_bucket", `le="0.0025",${where},grpc_code="OK"`)).toBe("1");
    expect(sample(text, "mandate_grpc_server_in_flight", where)).toBe("0");
  });

  it("counts a call in flight until it finishes", async () => {
    const { metrics } = await metricsOnFollowedStore();
    const watch = metrics.start({ service: "WatchService", method: "Watch", requestId: "r2", metadata: new Metadata() });
    const where = 'grpc_service="WatchService",grpc_method="Watch"';
    expect(sample(await metrics.metrics(), "mandate_grpc_server_in_flight", where)).toBe("1");
    watch.finish({ code: status.CANCELLED, durationSeconds: 30 });
    expect(sample(await metrics.metrics(), "mandate_grpc_server_in_flight", where)).toBe("0");
  });

  it("reports how many revisions the graph index lags behind the store's head", async () => {
    const { metrics, store, follower } = await metricsOnFollowedStore();
    await store.writeSchema("definition user {}\n\ndefinition document {\n  relation viewer: user\n}\n", async () => undefined);
    await follower.waitFor(await store.headRevision(), 5_000);
    const caughtUp = await metrics.metrics();
    expect(sample(caughtUp, "mandate_index_revision_lag")).toBe("0");
    expect(sample(caughtUp, "mandate_index_following")).toBe("1");

    // A stopped follower applies no more changes: the next two writes are the lag.
    await follower.stop();
    const indexRevision = follower.index.revision;
    await store.write([{ operation: "touch", relationship: parseRelationship("document:a#viewer@user:ann") }]);
    await store.write([{ operation: "touch", relationship: parseRelationship("document:b#viewer@user:ann") }]);
    const behind = await metrics.metrics();
    expect(sample(behind, "mandate_index_revision")).toBe(String(indexRevision));
    expect(sample(behind, "mandate_store_head_revision")).toBe(String(indexRevision + 2));
    expect(sample(behind, "mandate_index_revision_lag")).toBe("2");
  });

  it("reports the head and the lag as NaN when the store does not answer", async () => {
    const { metrics, store } = await metricsOnFollowedStore();
    await store.close();
    const text = await metrics.metrics();
    // prom-client writes NaN as "Nan"; Prometheus reads it either way.
    expect(sample(text, "mandate_store_head_revision")).toMatch(/^nan$/i);
    expect(sample(text, "mandate_index_revision_lag")).toMatch(/^nan$/i);
  });

  it("reports the check cache from the engine's counters", async () => {
    const { metrics } = await metricsOnFollowedStore();
    const text = await metrics.metrics();
    for (const name of ["mandate_check_cache_hits_total", "mandate_check_cache_misses_total", "mandate_check_cache_entries", "mandate_check_cache_hit_ratio"]) {
      expect(sample(text, name), name).toBe("0");
    }
    expect(sample(text, "mandate_checks_total", 'path="index"')).toBe("0");
    expect(sample(text, "mandate_lookups_total", 'source="store"')).toBe("0");
  });

  it.each([
    ["a store without a pool", undefined, undefined],
    ["a pool with two busy connections and one request waiting", () => ({ total: 2, idle: 0, waiting: 1, max: 2 }), "1"],
  ])("reports pool usage for %s", async (_, poolUsage, waiting) => {
    const store = new MemoryStore();
    stores.push(store);
    const metrics = new MandateMetrics({ engine: new Engine(), store, poolUsage });
    const text = await metrics.metrics();
    expect(sample(text, "mandate_store_pool_waiting_requests")).toBe(waiting);
    expect(text.includes("mandate_store_pool_connections")).toBe(waiting !== undefined);
  });

  it("includes Node's process metrics", async () => {
    const { metrics } = await metricsOnFollowedStore();
    const text = await metrics.metrics();
    expect(sample(text, "process_cpu_seconds_total")).toMatch(/^\d/);
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });
});
