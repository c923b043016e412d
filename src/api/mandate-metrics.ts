import { status } from "@grpc/grpc-js";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { EngineStats } from "../engine/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import type { PoolUsage, Store } from "../store/index.ts";
import type { CallObserver, ObservedCall, ObservedCallStart } from "./call-observer.ts";

/**
 * MetricsSources are what MandateMetrics samples when scraped: the engine's counters, the graph
 * index follower (if the engine has one), the store's head revision (one cheap query per scrape)
 * and, for Postgres, the connection pool (`poolUsage` returns undefined where there is none).
 */
export interface MetricsSources {
  readonly engine: { stats(): EngineStats };
  readonly store: Pick<Store, "headRevision">;
  readonly follower?: Pick<GraphIndexFollower, "index" | "following"> | undefined;
  readonly poolUsage?: (() => PoolUsage | undefined) | undefined;
}

// A check answered from the cache takes microseconds, a cold one on a large graph up to seconds.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// A scrape must not hang on an unreachable store: the head revision is left out after this long.
const HEAD_REVISION_TIMEOUT_MS = 2_000;

/**
 * MandateMetrics is the Prometheus registry of one running service, in the text format that
 * `metrics()` renders (served by MetricsEndpoint). It is the CallObserver that counts calls
 * (`mandate_grpc_server_handled_total` and the histogram `mandate_grpc_server_handling_seconds`,
 * by `grpc_service`, `grpc_method` and `grpc_code`, the status name; `mandate_grpc_server_in_flight`
 * by service and method), and samples the rest at scrape time: the check cache, checks and
 * lookups by how they were answered, the graph index's revision, the store's head and the lag
 * between them, the Postgres pool (only for a store with a pool), and Node's process metrics
 * (prom-client's defaults). Labels
 * only ever hold names from the proto and status names: never a request's content or a caller.
 */
export class MandateMetrics implements CallObserver {
  readonly #registry = new Registry();
  readonly #handled: Counter<"grpc_service" | "grpc_method" | "grpc_code">;
  readonly #latency: Histogram<"grpc_service" | "grpc_method" | "grpc_code">;
  readonly #inFlight: Gauge<"grpc_service" | "grpc_method">;
  readonly #sources: MetricsSources;
  // One head-revision query per scrape, shared by the gauges that need it (they are collected together).
  #headSample: Promise<number | undefined> | undefined;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    const registers = [this.#registry];
    collectDefaultMetrics({ register: this.#registry });
    this.#handled = new Counter({
      name: "mandate_grpc_server_handled_total",
      help: "mandate.v1 calls finished, by service, method and the gRPC status sent (grpc_code: OK, PERMISSION_DENIED, ...).",
      labelNames: ["grpc_service", "grpc_method", "grpc_code"],
      registers,
    });
    this.#latency = new Histogram({
      name: "mandate_grpc_server_handling_seconds",
      help: "Time from a mandate.v1 call's arrival to its end (streams: their whole life), by service, method and gRPC status.",
      labelNames: ["grpc_service", "grpc_method", "grpc_code"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#inFlight = new Gauge({
      name: "mandate_grpc_server_in_flight",
      help: "mandate.v1 calls in progress (open Watch streams included), by service and method.",
      labelNames: ["grpc_service", "grpc_method"],
      registers,
    });
    this.#registerEngineMetrics(registers);
    // Collected in this order, each up to its first await: the pool is sampled before the
    // scrape's own head-revision query takes a connection from it.
    this.#registerPoolMetrics(registers);
    this.#registerIndexMetrics(registers);
  }

  /** contentType is the Content-Type of what metrics() returns. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** metrics renders every metric in the Prometheus text format, sampling the sources now. */
  metrics(): Promise<string> {
    return this.#registry.metrics();
  }

  start(call: ObservedCallStart): ObservedCall {
    const where = { grpc_service: call.service, grpc_method: call.method };
    this.#inFlight.inc(where);
    return {
      finish: ({ code, durationSeconds }) => {
        this.#inFlight.dec(where);
        const labels = { ...where, grpc_code: status[code] ?? String(code) };
        this.#handled.inc(labels);
        this.#latency.observe(labels, durationSeconds);
      },
    };
  }

  #registerEngineMetrics(registers: Registry[]): void {
    const engine = this.#sources.engine;
    // The engine counts since start; these counters are set to its totals at each scrape.
    const counter = (name: string, help: string, value: (stats: EngineStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value(engine.stats()));
        },
      });
    counter("mandate_check_cache_hits_total", "Checks answered from the cross-request check cache.", (stats) => stats.cache.hits);
    counter("mandate_check_cache_misses_total", "Checks looked up in the cross-request check cache and not found there.", (stats) => stats.cache.misses);
    new Gauge({
      name: "mandate_check_cache_entries",
      help: "Entries in the cross-request check cache.",
      registers,
      collect() {
        this.set(engine.stats().cache.entries);
      },
    });
    new Gauge({
      name: "mandate_check_cache_hit_ratio",
      help: "Check cache hits / (hits + misses) since start (0 before any lookup); for a recent ratio, use rate() of the two counters.",
      registers,
      collect() {
        const { hits, misses } = engine.stats().cache;
        this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
      },
    });
    new Counter({
      name: "mandate_checks_total",
      help: "Checks by how they were answered: path=cache from the check cache, path=index on the graph index, path=store by the plain walk on the store.",
      labelNames: ["path"],
      registers,
      collect() {
        const stats = engine.stats();
        this.reset();
        this.inc({ path: "cache" }, stats.cache.hits);
        this.inc({ path: "index" }, stats.indexed);
        this.inc({ path: "store" }, stats.fallbacks);
      },
    });
    new Counter({
      name: "mandate_lookups_total",
      help: "Lookups by how their candidates were found: source=index on the graph index, source=store by reading the store.",
      labelNames: ["source"],
      registers,
      collect() {
        const { lookups } = engine.stats();
        this.reset();
        this.inc({ source: "index" }, lookups.fromIndex);
        this.inc({ source: "store" }, lookups.fromStore);
      },
    });
    counter("mandate_lookup_cache_hits_total", "Lookups whose index evaluation came from the lookup cache.", (stats) => stats.lookups.cacheHits);
    counter("mandate_lookup_checked_candidates_total", "Lookup candidates that needed a check.", (stats) => stats.lookups.checkedCandidates);
  }

  #registerIndexMetrics(registers: Registry[]): void {
    const follower = this.#sources.follower;
    const sampleHead = () => this.#sampleHead();
    new Gauge({
      name: "mandate_store_head_revision",
      help: "The store's newest committed revision (NaN when the store did not answer in time).",
      registers,
      async collect() {
        this.set((await sampleHead()) ?? Number.NaN);
      },
    });
    if (follower === undefined) return;
    new Gauge({
      name: "mandate_index_revision",
      help: "The store revision the graph index reflects.",
      registers,
      collect() {
        this.set(follower.index.revision);
      },
    });
    new Gauge({
      name: "mandate_index_revision_lag",
      help: "Revisions committed to the store that the graph index has not applied yet (NaN when the store did not answer in time).",
      registers,
      async collect() {
        // Read the index first: it only moves forward, so the lag is never underestimated by a race.
        const indexRevision = follower.index.revision;
        const head = await sampleHead();
        this.set(head === undefined ? Number.NaN : Math.max(0, head - indexRevision));
      },
    });
    new Gauge({
      name: "mandate_index_following",
      help: "1 while the graph index follows the store's changes, 0 while it is retrying a broken watch.",
      registers,
      collect() {
        this.set(follower.following ? 1 : 0);
      },
    });
  }

  #registerPoolMetrics(registers: Registry[]): void {
    const poolUsage = this.#sources.poolUsage;
    // PGlite and the memory store have no pool: no pool metrics then, rather than zeros.
    if (poolUsage?.() === undefined) return;
    const gauge = (name: string, help: string, value: (usage: PoolUsage) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const usage = poolUsage();
          if (usage !== undefined) this.set(value(usage));
        },
      });
    gauge("mandate_store_pool_connections", "Postgres connections the pool holds open (busy or idle).", (usage) => usage.total);
    gauge("mandate_store_pool_idle_connections", "Postgres connections open and idle.", (usage) => usage.idle);
    gauge("mandate_store_pool_waiting_requests", "Queries waiting for a Postgres connection (the pool is exhausted while above 0).", (usage) => usage.waiting);
    gauge("mandate_store_pool_max_connections", "The most Postgres connections the pool opens.", (usage) => usage.max);
  }

  #sampleHead(): Promise<number | undefined> {
    this.#headSample ??= headWithin(this.#sources.store, HEAD_REVISION_TIMEOUT_MS).finally(() => {
      this.#headSample = undefined;
    });
    return this.#headSample;
  }
}

// The store's head revision, or undefined if it fails or takes longer than `timeoutMs`.
async function headWithin(store: Pick<Store, "headRevision">, timeoutMs: number): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([store.headRevision().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
