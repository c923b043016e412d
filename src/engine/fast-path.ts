import type { Revision } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";
import type { GraphIndexView } from "../graph/index.ts";
import type { RelationshipReader } from "../store/index.ts";
import { CheckCache } from "./check-cache.ts";
import type { CachedCheck } from "./check-cache.ts";
import type { CheckRequest, CheckResult, EngineStats } from "./engine-types.ts";
import { RequestAbortedError } from "./errors.ts";
import { contextKeyOf, subproblemText } from "./dispatcher.ts";
import { FALL_BACK } from "./fall-back.ts";
import { IndexedEvaluator, sameSchema } from "./indexed-evaluator.ts";
import type { SubproblemAnswer, SubproblemCacheView } from "./indexed-evaluator.ts";
import { MembershipsMemo } from "./memberships-memo.ts";
import { SchemaDependencies } from "./schema-dependencies.ts";
import { Singleflight } from "./singleflight.ts";

/**
 * FastPathOptions: `index` returns the graph index to answer from (a follower may replace its
 * index object, e.g. after a reload), the plain walk's bounds, and the cache size (0: no cache).
 */
export interface FastPathOptions {
  readonly index: () => GraphIndexView;
  readonly maxDepth: number;
  readonly maxDispatches: number;
  readonly cacheEntries: number;
}

/** PlainCheck runs the plain walk for the request at hand; `signal` as in RequestOptions. */
export type PlainCheck = (signal: AbortSignal | undefined) => Promise<CheckResult>;

/** SchemaState is what the fast path keeps for the schema requests currently use. */
interface SchemaState {
  readonly schema: Schema;
  readonly dependencies: SchemaDependencies;
  readonly flights: Singleflight<CheckResult>;
  /** horizons: `type#name` -> newest change to its dependencies, as `horizonsOf` knew it at `horizonsAt`. */
  readonly horizons: Map<string, Revision>;
  horizonsOf: GraphIndexView | undefined;
  horizonsAt: Revision;
}

// Context-dependent cache keys append the context key after a NUL, which no type, id or
// relation name contains (and JSON.stringify escapes): they never collide with context-free keys.
const CONTEXT_SEPARATOR = "\u0000";
// The closures of this many subjects are kept between requests at one revision (MembershipsMemo).
const MEMBERSHIPS_SUBJECTS = 10_000;
const ALLOWED_RESULT: CheckResult = { permissionship: "allowed" };
const DENIED_RESULT: CheckResult = { permissionship: "denied" };

/**
 * FastPath answers checks from a graph index where it can, and otherwise hands them to the plain
 * walk, remembering answers across requests (CheckCache) and computing identical concurrent plain
 * walks once (Singleflight). For one check:
 * 1. the cache, if the reader's revision is at most the index's (see CheckCache for validity);
 * 2. the IndexedEvaluator, if the reader's revision is exactly the index's;
 * 3. the plain walk, shared by identical concurrent checks at the same revision; its answer is
 *    cached at the top level at the reader's revision.
 * Results equal the plain walk's (see IndexedEvaluator for the one intended difference). A
 * permission whose dependencies allow expiring relationships is neither cached from the plain
 * walk nor shared: its answer depends on the reader's clock, not only on the revision. When the
 * schema of the requests changes, the cache is cleared.
 */
export class FastPath {
  readonly #options: FastPathOptions;
  readonly #cache: CheckCache | undefined;
  readonly #memberships = new MembershipsMemo(MEMBERSHIPS_SUBJECTS);
  #state: SchemaState | undefined;
  #hits = 0;
  #misses = 0;
  #indexed = 0;
  #fallbacks = 0;

  constructor(options: FastPathOptions) {
    this.#options = options;
    this.#cache = options.cacheEntries > 0 ? new CheckCache(options.cacheEntries) : undefined;
  }

  /**
   * check answers a validated request: synchronously from the cache or the index when it can,
   * otherwise through `plain`. Rejects with RequestAbortedError if `signal` is or becomes aborted
   * before the answer, and with whatever `plain` rejects with.
   */
  async check(reader: RelationshipReader, schema: Schema, request: CheckRequest, plain: PlainCheck, signal: AbortSignal | undefined): Promise<CheckResult> {
    if (signal?.aborted === true) throw new RequestAbortedError("check", signal.reason);
    const session = this.session(reader, schema);
    const answer = session.answer(request);
    if (answer !== undefined) return answer;
    this.count("fallback");
    const shareKey = session.shareKey(request);
    if (shareKey === undefined) {
      const result = await plain(signal);
      session.remember(request, result);
      return result;
    }
    // The shared walk runs without any one caller's signal (so that one caller's abort does not
    // fail the others); each caller stops waiting when its own signal aborts.
    const shared = session.state.flights.run(shareKey, async () => {
      const result = await plain(undefined);
      session.remember(request, result);
      return result;
    });
    return signal === undefined ? shared : abortable(shared, signal);
  }

  /**
   * session starts one request (a check, or every item of a batch): its answers share one memo
   * and see the reader's revision.
   */
  session(reader: RelationshipReader, schema: Schema): FastPathSession {
    return new FastPathSession(this, this.#stateFor(schema), reader);
  }

  /** stats counts since construction: cache lookups of top-level checks, index answers, plain walks. */
  stats(): Omit<EngineStats, "lookups"> {
    return {
      cache: { hits: this.#hits, misses: this.#misses, entries: this.#cache?.size ?? 0 },
      indexed: this.#indexed,
      fallbacks: this.#fallbacks,
    };
  }

  /** options are the ones the fast path was built with. */
  get options(): FastPathOptions {
    return this.#options;
  }

  /** memberships remembers subjects' closures across requests at one index revision. */
  get memberships(): MembershipsMemo {
    return this.#memberships;
  }

  /** cache is the cross-request cache, undefined when disabled. */
  get cache(): CheckCache | undefined {
    return this.#cache;
  }

  /** count records how a top-level check was answered. */
  count(outcome: "hit" | "miss" | "indexed" | "fallback"): void {
    if (outcome === "hit") this.#hits += 1;
    else if (outcome === "miss") this.#misses += 1;
    else if (outcome === "indexed") this.#indexed += 1;
    else this.#fallbacks += 1;
  }

  /** currentIndex is the graph index as of now (a follower may have replaced it since the last call). */
  currentIndex(): GraphIndexView {
    return this.#options.index();
  }

  /** isCurrent tells whether `state` still belongs to the schema requests use (it is replaced on a change). */
  isCurrent(state: SchemaState): boolean {
    return this.#state === state;
  }

  /** horizonOf is `horizon` for requests with `schema` (the analysis shared with the checks that use it). */
  horizonOf(schema: Schema, index: GraphIndexView, type: string, name: string): Revision {
    return this.horizon(this.#stateFor(schema), index, type, name);
  }

  /** horizon is the newest revision at which a stored relation that `type#name` depends on changed. */
  horizon(state: SchemaState, index: GraphIndexView, type: string, name: string): Revision {
    if (state.horizonsOf !== index || state.horizonsAt !== index.revision) {
      state.horizons.clear();
      state.horizonsOf = index;
      state.horizonsAt = index.revision;
    }
    const key = `${type}#${name}`;
    let horizon = state.horizons.get(key);
    if (horizon === undefined) {
      horizon = 0;
      for (const relationKey of state.dependencies.of(type, name).relations) {
        const [relationType = "", relation = ""] = relationKey.split("#");
        horizon = Math.max(horizon, index.lastChangedAt(relationType, relation));
      }
      state.horizons.set(key, horizon);
    }
    return horizon;
  }

  #stateFor(schema: Schema): SchemaState {
    const current = this.#state;
    if (current !== undefined && sameSchema(current.schema, schema)) return current;
    // Entries were computed under the old schema's meaning: none may answer under the new one.
    this.#cache?.clear();
    const state: SchemaState = {
      schema,
      dependencies: new SchemaDependencies(schema),
      flights: new Singleflight(),
      horizons: new Map(),
      horizonsOf: undefined,
      horizonsAt: -1,
    };
    this.#state = state;
    return state;
  }
}

/**
 * FastPathSession is one request's view of the fast path: the reader's revision, and (when that
 * is the index's revision) one IndexedEvaluator whose memo every item of a batch shares.
 */
export class FastPathSession {
  readonly state: SchemaState;
  readonly #fastPath: FastPath;
  readonly #reader: RelationshipReader;
  readonly #index: GraphIndexView;
  #evaluator: IndexedEvaluator | undefined;

  constructor(fastPath: FastPath, state: SchemaState, reader: RelationshipReader) {
    this.#fastPath = fastPath;
    this.state = state;
    this.#reader = reader;
    this.#index = fastPath.options.index();
  }

  /**
   * answer returns the answer to a validated request from the cache or the index, or undefined
   * when the plain walk must answer it. Counts the outcome (but not the plain walk: the caller does).
   */
  answer(request: CheckRequest): CheckResult | undefined {
    const fastPath = this.#fastPath;
    const index = this.#index;
    const at = this.#reader.revision;
    if (at > index.revision || !sameSchema(index.schema, this.state.schema)) return undefined;
    const { resource, permission, subject } = request;
    const key = subproblemText(resource.type, resource.id, permission, subject);
    const cache = fastPath.cache;
    if (cache !== undefined) {
      const horizon = fastPath.horizon(this.state, index, resource.type, permission);
      const entry = cache.get(key, at, horizon, index.revision) ?? cache.get(contextualKey(key, request), at, horizon, index.revision);
      if (entry !== undefined) {
        fastPath.count("hit");
        return toCheckResult(entry);
      }
      fastPath.count("miss");
    }
    if (at !== index.revision) return undefined;
    this.#evaluator ??= this.#newEvaluator();
    const membership = this.#evaluator.check(resource, permission, subject);
    if (membership === FALL_BACK) return undefined;
    fastPath.count("indexed");
    return membership.permissionship === "allowed" ? ALLOWED_RESULT : DENIED_RESULT;
  }

  /**
   * shareKey is the key under which identical concurrent plain walks of `request` are computed
   * once, or undefined when its answer depends on the reader's clock (expiring relationships).
   */
  shareKey(request: CheckRequest): string | undefined {
    const { resource, permission, subject } = request;
    if (this.state.dependencies.of(resource.type, permission).expiring) return undefined;
    return `${this.#reader.revision}${CONTEXT_SEPARATOR}${contextualKey(subproblemText(resource.type, resource.id, permission, subject), request)}`;
  }

  /** remember caches the plain walk's answer to `request` at the reader's revision, where that is valid. */
  remember(request: CheckRequest, result: CheckResult): void {
    const fastPath = this.#fastPath;
    const cache = fastPath.cache;
    const { resource, permission, subject } = request;
    const at = this.#reader.revision;
    if (cache === undefined || !fastPath.isCurrent(this.state)) return;
    // Changes up to `at` must be known to the index, or a later horizon could not retire the entry.
    if (at > this.#index.revision) return;
    const dependencies = this.state.dependencies.of(resource.type, permission);
    if (dependencies.expiring) return;
    const key = subproblemText(resource.type, resource.id, permission, subject);
    // Without caveats in reach the context cannot change the answer: share it across contexts.
    cache.set(dependencies.caveated ? contextualKey(key, request) : key, {
      permissionship: result.permissionship,
      ...(result.missingParameters === undefined ? {} : { missingParameters: result.missingParameters }),
      revision: at,
      // Its depth is unknown: usable only at the top of a check, where the plain walk computed it.
      depthRequired: fastPath.options.maxDepth,
    });
  }

  #newEvaluator(): IndexedEvaluator {
    const fastPath = this.#fastPath;
    const { maxDepth, maxDispatches } = fastPath.options;
    const index = this.#index;
    return new IndexedEvaluator({
      index,
      dependencies: this.state.dependencies,
      maxDepth,
      maxDispatches,
      memberships: fastPath.memberships,
      cache: fastPath.cache === undefined ? undefined : new SubproblemCacheAdapter(fastPath, this.state, index, this.#reader.revision),
    });
  }
}

/** SubproblemCacheAdapter binds the cache to one revision for the evaluator (context-free entries only). */
class SubproblemCacheAdapter implements SubproblemCacheView {
  readonly #fastPath: FastPath;
  readonly #state: SchemaState;
  readonly #index: GraphIndexView;
  readonly #revision: Revision;

  constructor(fastPath: FastPath, state: SchemaState, index: GraphIndexView, revision: Revision) {
    this.#fastPath = fastPath;
    this.#state = state;
    this.#index = index;
    this.#revision = revision;
  }

  get(key: string, type: string, relation: string): SubproblemAnswer | undefined {
    const fastPath = this.#fastPath;
    const index = this.#index;
    const entry = fastPath.cache?.get(key, this.#revision, fastPath.horizon(this.#state, index, type, relation), index.revision);
    if (entry === undefined || entry.permissionship === "conditional") return undefined;
    return { allowed: entry.permissionship === "allowed", depthRequired: entry.depthRequired };
  }

  set(key: string, _type: string, _relation: string, answer: SubproblemAnswer): void {
    if (!this.#fastPath.isCurrent(this.#state)) return;
    this.#fastPath.cache?.set(key, {
      permissionship: answer.allowed ? "allowed" : "denied",
      revision: this.#revision,
      depthRequired: answer.depthRequired,
    });
  }
}

function contextualKey(key: string, request: CheckRequest): string {
  return `${key}${CONTEXT_SEPARATOR}${contextKeyOf(request.context)}`;
}

function toCheckResult(entry: CachedCheck): CheckResult {
  if (entry.permissionship === "allowed") return ALLOWED_RESULT;
  if (entry.permissionship === "denied") return DENIED_RESULT;
  return { permissionship: entry.permissionship, missingParameters: entry.missingParameters };
}

/** abortable settles like `promise`, or rejects with RequestAbortedError once `signal` aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new RequestAbortedError("check", signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
