import { randomUUID } from "node:crypto";
import { assertNever, relationshipKey } from "../../tuple/index.ts";
import type { Relationship, Revision } from "../../tuple/index.ts";
import { AbortedError, StoreUnavailableError } from "../errors.ts";
import { apiKeyChanged, apiKeyMissing, apiKeyTaken, byCreation, frozenApiKeyRecord, validateApiKeyRecord } from "../api-key-records.ts";
import type {
  ApiKeyRecord,
  BudgetCharge,
  BudgetOutcome,
  Change,
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
import { createConflict, deleteLimitExceeded, importConflict, preconditionFailed, revisionNewerThanHead, revisionOlderThanHistory } from "../failures.ts";
import {
  validateBudgetCharges,
  validateLimit,
  validateQueryOptions,
  validateRelationshipFilter,
  validateRevision,
  validateUpdates,
  validateWatchOptions,
} from "../validate-filter.ts";
import { AsyncMutex } from "./async-mutex.ts";
import { RelationshipHistory } from "./relationship-history.ts";

/**
 * MemoryStore is a Store held in process memory: for tests, examples and single-process use.
 * It keeps every version of every relationship until `garbageCollect` removes old history, so
 * `snapshot` and `watch` accept any revision from oldestReadableRevision (0 until then) to the head. Reads see a relationship only while it is live
 * at the reader's revision and its `expiresAt` is later than the store's clock (`Date.now()` unless one is passed) as read once
 * when the snapshot was taken, so that a reader never changes.
 *
 * Watch yields one ChangeSet per revision that changed at least one relationship: schema writes,
 * writes with no effect (deleting what is absent) and deleteByFilter matching nothing advance the
 * head but yield nothing, unless the watch asks for checkpoints (WatchOptions); then it reports
 * every schema write with the text written at it.
 *
 * Budget counters (chargeBudgets) and API keys live in maps beside the history: they survive
 * nothing more than the instance, as everything else here.
 *
 * Returned relationships are shared, frozen objects; `close` is idempotent and makes every later
 * call (including reads through earlier snapshots, and running watches) fail with
 * StoreUnavailableError.
 */
export class MemoryStore implements Store {
  readonly #history = new RelationshipHistory();
  // Every change set, in revision order, and every schema write (`schemaChanged`, with the text
  // written); revisions that changed nothing are absent.
  readonly #changeLog: ChangeSet[] = [];
  // Serialises writes, so that writeSchema's asynchronous validation sees a head that stays put.
  readonly #writeLock = new AsyncMutex();
  readonly #commitWaiters = new Set<() => void>();
  // committedAt[r] is when revision r committed (ms, never decreasing), to decide garbage collection.
  readonly #committedAt: number[];
  readonly #datastoreId = randomUUID();
  #head: Revision = 0;
  #oldest: Revision = 0;
  #schema: StoredSchema | undefined;
  // Uses counted per grant id (chargeBudgets); outside the history, so no revision moves.
  readonly #budgets = new Map<string, number>();
  // API keys by id (frozen copies); outside the history too.
  readonly #apiKeys = new Map<string, ApiKeyRecord>();
  #closed = false;
  // The clock that decides expiry; tests pass their own to expire relationships deterministically.
  readonly #now: () => number;

  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#committedAt = [this.#now()];
  }

  async headRevision(): Promise<Revision> {
    this.#assertOpen();
    return this.#head;
  }

  snapshot(revision: Revision): RelationshipReader {
    this.#assertOpen();
    validateRevision(revision, "revision");
    if (revision > this.#head) throw revisionNewerThanHead(revision, this.#head, "revision");
    if (revision < this.#oldest) throw revisionOlderThanHistory(revision, this.#oldest, "revision");
    const nowMs = this.#now();
    return new MemoryReader(revision, new Date(nowMs), (filter, options) => this.#read(filter, options, revision, nowMs));
  }

  write(updates: readonly RelationshipUpdate[], preconditions: readonly Precondition[] = [], options: WriteOptions = {}): Promise<Revision> {
    return this.#writeLock.run(() => {
      this.#assertOpen();
      validateUpdates(updates);
      this.#checkSchemaRevision(options.schemaRevision);
      this.#checkPreconditions(preconditions);
      const nowMs = this.#now();
      updates.forEach(({ operation, relationship }, i) => {
        // An expired relationship reads as absent, so creating it again succeeds (as in SpiceDB).
        if (operation === "create" && this.#history.isLive(relationship, this.#head, nowMs)) {
          throw createConflict(i, relationshipKey(relationship));
        }
      });

      // Everything is validated: from here on nothing throws, so the write is all or nothing.
      const revision = this.#head + 1;
      const changes: Change[] = [];
      for (const { operation, relationship } of updates) {
        switch (operation) {
          case "create":
          case "touch":
            changes.push({ operation: "touch", relationship: this.#history.put(relationship, revision) });
            break;
          case "delete": {
            const deleted = this.#history.remove(relationship, revision);
            if (deleted !== undefined) changes.push({ operation: "delete", relationship: deleted });
            break;
          }
          default:
            assertNever(operation, "update operation");
        }
      }
      this.#commit(revision, changes);
      return revision;
    });
  }

  deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[] = [],
    options: { readonly limit?: number | undefined } = {},
  ): Promise<{ revision: Revision; deleted: number }> {
    return this.#writeLock.run(() => {
      this.#assertOpen();
      validateRelationshipFilter(filter, "filter");
      validateLimit(options.limit, "limit");
      this.#checkPreconditions(preconditions);
      const doomed = this.#history.query({ filter, revision: this.#head, nowMs: this.#now() });
      if (options.limit !== undefined && doomed.length > options.limit) {
        throw deleteLimitExceeded(options.limit, doomed.length);
      }
      const revision = this.#head + 1;
      const changes: Change[] = [];
      for (const relationship of doomed) {
        const deleted = this.#history.remove(relationship, revision);
        if (deleted !== undefined) changes.push({ operation: "delete", relationship: deleted });
      }
      this.#commit(revision, changes);
      return { revision, deleted: changes.length };
    });
  }

  async readSchema(): Promise<StoredSchema | undefined> {
    this.#assertOpen();
    return this.#schema;
  }

  writeSchema(text: string, validate: (reader: RelationshipReader) => Promise<void>): Promise<Revision> {
    return this.#writeLock.run(async () => {
      this.#assertOpen();
      await validate(this.snapshot(this.#head));
      this.#assertOpen();
      const revision = this.#head + 1;
      this.#schema = Object.freeze({ text, revision });
      this.#commit(revision, [], text);
      return revision;
    });
  }

  async *watch(afterRevision: Revision, signal: AbortSignal, options: WatchOptions = {}): AsyncIterable<ChangeSet> {
    this.#assertOpen();
    validateRevision(afterRevision, "afterRevision");
    validateWatchOptions(options);
    if (afterRevision > this.#head) throw revisionNewerThanHead(afterRevision, this.#head, "afterRevision");
    // `last` is a revision, not an index into the log: garbage collection shortens the log's front.
    let last = afterRevision;
    while (!signal.aborted) {
      this.#assertOpen();
      if (last < this.#oldest) throw revisionOlderThanHistory(last, this.#oldest, "afterRevision");
      const changeSet = this.#nextChangeSet(last, options);
      if (changeSet === undefined) {
        await this.#nextCommit(signal);
        continue;
      }
      last = changeSet.revision;
      yield changeSet;
    }
  }

  async datastoreId(): Promise<string> {
    this.#assertOpen();
    return this.#datastoreId;
  }

  async importRelationships(batches: AsyncIterable<readonly Relationship[]>, options: ImportOptions = {}): Promise<ImportResult> {
    this.#assertOpen();
    // Batches are collected before taking the write lock, so that a slow producer holds off no one.
    const relationships: Relationship[] = [];
    for await (const batch of batches) {
      // One push per relationship: spreading a large batch into push() overflows the call stack.
      for (const relationship of batch) relationships.push(relationship);
      options.onProgress?.(relationships.length);
    }
    return this.#writeLock.run(() => {
      this.#assertOpen();
      this.#checkSchemaRevision(options.schemaRevision);
      abortIfSignalled(options.signal);
      const nowMs = this.#now();
      const seen = new Set<string>();
      for (const relationship of relationships) {
        const key = relationshipKey(relationship);
        if (seen.has(key) || this.#history.isLive(relationship, this.#head, nowMs)) throw importConflict(key);
        seen.add(key);
      }
      const revision = this.#head + 1;
      const changes = relationships.map((relationship): Change => ({ operation: "touch", relationship: this.#history.put(relationship, revision) }));
      this.#commit(revision, changes);
      return { revision, imported: relationships.length };
    });
  }

  garbageCollect(olderThan: Date): Promise<{ removed: number }> {
    return this.#writeLock.run(() => {
      this.#assertOpen();
      const cutoff = lastBefore(this.#committedAt, olderThan.getTime());
      // At the oldest revision itself there is no history left to forget, but relationships may
      // have expired since the last collection.
      if (cutoff === undefined || cutoff < this.#oldest) return { removed: 0 };
      const removed = this.#history.collect(cutoff, olderThan.getTime());
      this.#changeLog.splice(0, firstAfter(this.#changeLog, cutoff));
      this.#oldest = cutoff;
      return { removed };
    });
  }

  async chargeBudgets(charges: readonly BudgetCharge[]): Promise<BudgetOutcome> {
    this.#assertOpen();
    validateBudgetCharges(charges);
    // Synchronous from the check to the last increment: no other caller runs in between.
    const exhausted = charges.find(({ grantId, limit }) => (this.#budgets.get(grantId) ?? 0) >= limit);
    if (exhausted !== undefined) return { exhausted: exhausted.grantId };
    const used = charges.map(({ grantId }) => {
      const next = (this.#budgets.get(grantId) ?? 0) + 1;
      this.#budgets.set(grantId, next);
      return next;
    });
    return { used };
  }

  async budgetUsage(grantIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.#assertOpen();
    return new Map(grantIds.map((grantId) => [grantId, this.#budgets.get(grantId) ?? 0]));
  }

  async createApiKey(record: ApiKeyRecord): Promise<void> {
    this.#assertOpen();
    validateApiKeyRecord(record);
    if (this.#apiKeys.has(record.id)) throw apiKeyTaken(record.id);
    this.#apiKeys.set(record.id, frozenApiKeyRecord(record));
  }

  async replaceApiKey(record: ApiKeyRecord, expectedSecretHash: string): Promise<ApiKeyRecord> {
    this.#assertOpen();
    validateApiKeyRecord(record);
    const stored = this.#apiKeys.get(record.id);
    if (stored === undefined) throw apiKeyMissing(record.id);
    if (stored.secretHash !== expectedSecretHash) throw apiKeyChanged(record.id);
    const revokedAt = stored.revokedAt ?? record.revokedAt;
    const replaced = frozenApiKeyRecord({ ...record, ...(revokedAt === undefined ? {} : { revokedAt }) });
    this.#apiKeys.set(record.id, replaced);
    return replaced;
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    this.#assertOpen();
    return this.#apiKeys.get(id);
  }

  async apiKeys(): Promise<ApiKeyRecord[]> {
    this.#assertOpen();
    return [...this.#apiKeys.values()].sort(byCreation);
  }

  async oldestReadableRevision(): Promise<Revision> {
    this.#assertOpen();
    return this.#oldest;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeWatchers();
  }

  #read(filter: RelationshipFilter, options: QueryOptions, revision: Revision, nowMs: number): Relationship[] {
    this.#assertOpen();
    validateRelationshipFilter(filter, "filter");
    validateQueryOptions(options);
    return this.#history.query({ filter, revision, nowMs, after: options.after, limit: options.limit });
  }

  #checkSchemaRevision(expected: Revision | undefined): void {
    if (expected === undefined) return;
    // With no schema stored, only 0 ("the schema as of the empty store") matches.
    const actual = this.#schema?.revision ?? 0;
    if (expected !== actual) {
      throw new AbortedError(
        `schemaRevision: the write was checked against the schema of revision ${expected}, but the schema changed at revision ${actual}; revalidate and retry`,
        { field: "schemaRevision" },
      );
    }
  }

  #checkPreconditions(preconditions: readonly Precondition[]): void {
    const nowMs = this.#now();
    preconditions.forEach(({ operation, filter }, i) => {
      validateRelationshipFilter(filter, `preconditions[${i}].filter`);
      const found = this.#history.query({ filter, revision: this.#head, nowMs, limit: 1 })[0];
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
    });
  }

  // The change set a watch yields after `last`: the next one logged (schema writes only with
  // checkpoints; an oversized marker in place of one with more than `maxChanges` changes), else,
  // with checkpoints, a checkpoint at a newer head. The log and the head change together,
  // synchronously, so nothing at or below that head can be logged later.
  #nextChangeSet(last: Revision, { checkpoints = false, maxChanges }: WatchOptions): ChangeSet | undefined {
    let index = firstAfter(this.#changeLog, last);
    while (!checkpoints && this.#changeLog[index]?.schemaChanged === true) index++;
    const logged = this.#changeLog[index];
    if (logged !== undefined && maxChanges !== undefined && logged.changes.length > maxChanges) {
      return Object.freeze({ revision: logged.revision, changes: Object.freeze([]), oversized: true });
    }
    if (logged !== undefined || !checkpoints || this.#head <= last) return logged;
    return Object.freeze({ revision: this.#head, changes: Object.freeze([]), checkpoint: true });
  }

  // `schema`: the text of a schema write (which changes no relationship).
  #commit(revision: Revision, changes: readonly Change[], schema?: string): void {
    this.#head = revision;
    this.#committedAt.push(Math.max(this.#now(), this.#committedAt[this.#committedAt.length - 1] as number));
    if (schema !== undefined) this.#changeLog.push(Object.freeze({ revision, changes: Object.freeze([]), schemaChanged: true, schema }));
    else if (changes.length > 0) this.#changeLog.push(Object.freeze({ revision, changes: Object.freeze(changes.map((change) => Object.freeze(change))) }));
    // Also a commit that changed nothing: a watch with checkpoints reports the new head.
    this.#wakeWatchers();
  }

  // Resolves on the next commit, on close, or when `signal` aborts; watchers never poll.
  #nextCommit(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#commitWaiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.#commitWaiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  #wakeWatchers(): void {
    for (const wake of [...this.#commitWaiters]) wake();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError("store is closed");
  }
}

/** MemoryReader is a MemoryStore snapshot: a fixed revision, the clock reading that decides expiry, and the store's read function. */
class MemoryReader implements RelationshipReader {
  readonly #read: (filter: RelationshipFilter, options: QueryOptions) => Relationship[];

  constructor(
    readonly revision: Revision,
    readonly now: Date,
    read: (filter: RelationshipFilter, options: QueryOptions) => Relationship[],
  ) {
    this.#read = read;
  }

  async queryRelationships(filter: RelationshipFilter, options: QueryOptions = {}): Promise<Relationship[]> {
    return this.#read(filter, options);
  }
}

// The newest index whose time is before `timeMs`, in an array of non-decreasing times.
function lastBefore(times: readonly number[], timeMs: number): number | undefined {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((times[mid] as number) < timeMs) low = mid + 1;
    else high = mid;
  }
  return low === 0 ? undefined : low - 1;
}

// Index of the first change set newer than `revision` in a log sorted by revision.
function firstAfter(log: readonly ChangeSet[], revision: Revision): number {
  let low = 0;
  let high = log.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((log[mid] as ChangeSet).revision <= revision) low = mid + 1;
    else high = mid;
  }
  return low;
}

// An import whose client went away must not commit what it had received so far.
function abortIfSignalled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError("import: the client went away before the import finished; nothing was written");
}
