import type { Relationship, Revision } from "../tuple/index.ts";

/**
 * SubjectFilter selects subjects by type, and optionally id and relation.
 * `relation`: undefined matches any relation (or none); `null` matches only subjects without a
 * relation (`user:alice`, SpiceDB's `...`); a string matches exactly that relation.
 */
export interface SubjectFilter {
  readonly type: string;
  readonly id?: string | undefined;
  readonly relation?: string | null | undefined;
}

/**
 * RelationshipFilter selects relationships; every field set must match, unset fields match all.
 * `resourceId` and `resourceIdPrefix` are exclusive. Example: `{ resourceType: "document",
 * relation: "viewer", subject: { type: "group", relation: "member" } }` selects
 * `document:1#viewer@group:eng#member` but not `document:1#viewer@user:ann`.
 */
export interface RelationshipFilter {
  readonly resourceType?: string | undefined;
  readonly resourceId?: string | undefined;
  readonly resourceIdPrefix?: string | undefined;
  readonly relation?: string | undefined;
  readonly subject?: SubjectFilter | undefined;
}

/**
 * QueryOptions pages through a query. Results are ordered by (resource type, resource id, relation,
 * subject type, subject id, subject relation, with no relation first); `after` resumes strictly
 * after the given relationship in that order; `limit` caps the number returned.
 */
export interface QueryOptions {
  readonly after?: Relationship | undefined;
  readonly limit?: number | undefined;
}

/**
 * RelationshipReader reads relationships as they were live at one revision, and unexpired at one
 * instant: the store's clock as read when `snapshot` created the reader. It never changes: two
 * calls with the same arguments return the same relationships, however the store moves on and
 * however much time passes (a relationship that expires meanwhile stays visible to this reader;
 * a snapshot taken after its expiry no longer sees it).
 */
export interface RelationshipReader {
  readonly revision: Revision;
  /** now is the instant at which this reader decides expiry (the store's clock when the snapshot was taken). */
  readonly now: Date;
  /** queryRelationships returns the matching live relationships, in the order of QueryOptions. */
  queryRelationships(filter: RelationshipFilter, options?: QueryOptions): Promise<Relationship[]>;
}

/**
 * RelationshipUpdate is one mutation of a write: `create` fails if the relationship is already live,
 * `touch` creates or replaces it (its caveat and expiry), `delete` removes it (a no-op if absent).
 */
export interface RelationshipUpdate {
  readonly operation: "create" | "touch" | "delete";
  readonly relationship: Relationship;
}

/** Precondition must hold at the head revision for a write to apply: some (`must_match`) or no (`must_not_match`) live relationship matches. */
export interface Precondition {
  readonly operation: "must_match" | "must_not_match";
  readonly filter: RelationshipFilter;
}

/** StoredSchema is the schema text as last written, and the revision that wrote it. */
export interface StoredSchema {
  readonly text: string;
  readonly revision: Revision;
}

/**
 * WriteOptions guard a write against a concurrent schema change: when `schemaRevision` is set and
 * the stored schema's revision differs, the write fails with AbortedError (the caller revalidates
 * against the new schema and retries) and nothing is written.
 */
export interface WriteOptions {
  readonly schemaRevision?: Revision | undefined;
}

/** Change is one relationship change in the stream; `touch` carries the relationship as now live. */
export interface Change {
  readonly operation: "touch" | "delete";
  readonly relationship: Relationship;
}

/**
 * ChangeSet is every change committed at one revision, in the order they were applied. Only a watch
 * with `checkpoints` (see WatchOptions) yields change sets without changes: `schemaChanged` marks
 * the revision that wrote the schema, and `schema` is then the text written at that revision (set
 * exactly when `schemaChanged` is); `checkpoint` says that nothing else changed up to `revision`;
 * `oversized` says that `revision` changed more than `maxChanges` relationships, which the watch
 * left out (`changes` is empty).
 */
export interface ChangeSet {
  readonly revision: Revision;
  readonly changes: readonly Change[];
  readonly schemaChanged?: boolean | undefined;
  readonly schema?: string | undefined;
  readonly checkpoint?: boolean | undefined;
  readonly oversized?: boolean | undefined;
}

/**
 * WatchOptions: with `checkpoints`, a watch also tells a follower how far it has seen, so that one
 * that mirrors the store (the graph index) knows it has caught up even when the newest revisions
 * changed no relationship. Besides the usual change sets it then yields, in revision order:
 * - `{ revision: S, changes: [], schemaChanged: true, schema: text }` for EVERY schema write at S,
 *   with the text written at S (not the stored schema as of now, which a later write may have
 *   replaced): a follower pairs each revision with the schema live at it. A schema write is never
 *   merged into a relationship change set;
 * - `{ revision: H, changes: [], checkpoint: true }` each time the stream has delivered everything
 *   up to the head H it read, when H is newer than the last revision it yielded (revisions that
 *   changed nothing: no-op deletes, deleteByFilter matching nothing);
 * - with `maxChanges` (a positive integer; only together with `checkpoints`, else InvalidArgumentError
 *   naming `options.maxChanges`), `{ revision: R, changes: [], oversized: true }` in place of the
 *   change set of a revision R that changed more than `maxChanges` relationships (a bulk import):
 *   the store never holds such a revision's changes in memory, and a follower that gets the marker
 *   reloads from a snapshot at R or later instead (reading in pages). Revisions with at most
 *   `maxChanges` changes come whole, as without the option. E.g. with `maxChanges: 10_000`, an
 *   import of 10M relationships at revision 7 yields `{ revision: 7, changes: [], oversized: true }`.
 */
export interface WatchOptions {
  readonly checkpoints?: boolean | undefined;
  readonly maxChanges?: number | undefined;
}

/**
 * ImportOptions: `onProgress` is called after each batch with the number imported so far;
 * `schemaRevision` guards against a concurrent schema change as in WriteOptions (AbortedError,
 * nothing written); an aborted `signal` (the client went away) fails the import before it commits.
 */
export interface ImportOptions {
  readonly onProgress?: ((imported: number) => void) | undefined;
  readonly schemaRevision?: Revision | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** BudgetCharge is one use to count against a delegation edge's budget: `grantId` keys the counter, `limit` is the most uses it allows. */
export interface BudgetCharge {
  readonly grantId: string;
  readonly limit: number;
}

/**
 * BudgetOutcome is what chargeBudgets did: counted one use on every charge (`used`: each counter's
 * new value, in the order of the charges), or nothing because `exhausted` (a grant id) had already
 * reached its limit.
 */
export type BudgetOutcome = { readonly used: readonly number[] } | { readonly exhausted: string };

/** ImportResult is the revision an import committed at, and how many relationships it created. */
export interface ImportResult {
  readonly revision: Revision;
  readonly imported: number;
}

/** API_KEY_ROLES are the roles an API key may hold, weakest first (the api module's Role has the same values). */
export const API_KEY_ROLES = ["read", "write", "admin"] as const;

/** ApiKeyRole is one of API_KEY_ROLES. */
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** PreviousApiKeySecret is the hash of a secret replaced by a rotation, accepted until `validUntil` (the grace period's end). */
export interface PreviousApiKeySecret {
  readonly hash: string;
  readonly validUntil: Date;
}

/**
 * ApiKeyRecord is an API key as stored: never its secret, only hashes of it (`secretHash`, the
 * current one, and `previousSecrets`, those replaced by rotations and still in their grace period,
 * newest first). `id` is public (it is part of the token and names the caller in logs); the
 * store compares nothing, the caller (api's key registry) decides what a hash and a validity are.
 * Example: `{ id: "k3Jd9aQ", owner: "ci", role: "write", createdAt, secretHash: "9f86d0…",
 * previousSecrets: [{ hash: "2c26b4…", validUntil: <rotation + 1h> }] }`.
 */
export interface ApiKeyRecord {
  readonly id: string;
  readonly owner: string;
  readonly role: ApiKeyRole;
  readonly createdAt: Date;
  /** expiresAt: the key stops working at this instant; undefined for never. */
  readonly expiresAt?: Date | undefined;
  /** revokedAt: set once the key was revoked; it never works again. */
  readonly revokedAt?: Date | undefined;
  readonly secretHash: string;
  readonly previousSecrets: readonly PreviousApiKeySecret[];
}

/**
 * ApiKeyStore keeps API key records. Keys live outside revisions, as budgets do: creating,
 * rotating or revoking one makes no revision and yields nothing in Watch. They survive restarts
 * (in a Postgres store) and are shared by every server on the same datastore.
 */
export interface ApiKeyStore {
  /** createApiKey stores a new record; throws AlreadyExistsError (field `id`) if its id is taken. */
  createApiKey(record: ApiKeyRecord): Promise<void>;
  /**
   * replaceApiKey overwrites the record of `record.id` if its current secret hash is still
   * `expectedSecretHash` (a compare-and-swap: two rotations at once cannot both win), and returns
   * the record as stored. A revocation is never undone: a stored `revokedAt` stays whatever the
   * new record says, so a rotation racing a revocation leaves the key revoked. Throws
   * NotFoundError (field `id`) if there is no record, AbortedError if the secret changed meanwhile
   * (read again and retry).
   */
  replaceApiKey(record: ApiKeyRecord, expectedSecretHash: string): Promise<ApiKeyRecord>;
  /** apiKey returns the record of `id`, or undefined. */
  apiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** apiKeys returns every record, revoked and expired ones included, oldest first (ties by id). */
  apiKeys(): Promise<ApiKeyRecord[]>;
}

/**
 * Store is the source of truth for relationships and the schema. Every successful write commits
 * atomically at a new revision strictly greater than every earlier one; a failed write changes
 * nothing. Implementations: MemoryStore (memory/) and PostgresStore (postgres/, also on PGlite); all pass
 * `store.conformance.ts`. It also keeps API keys (ApiKeyStore), outside revisions.
 */
export interface Store extends ApiKeyStore {
  /** headRevision is the newest committed revision (0 before any write). */
  headRevision(): Promise<Revision>;

  /**
   * snapshot returns a reader at `revision`, deciding expiry at the store's clock as of this call
   * (see RelationshipReader). Throws FailedPreconditionError if `revision` is newer
   * than the head, or older than the history the store still keeps (see oldestReadableRevision);
   * a store that learns these bounds asynchronously may throw at the reader's first query instead.
   */
  snapshot(revision: Revision): RelationshipReader;

  /**
   * write applies all `updates` atomically if every precondition holds, and returns the new
   * revision. Throws FailedPreconditionError (a precondition failed), AlreadyExistsError (a
   * `create` of a live relationship), InvalidArgumentError (the same relationship twice in one
   * write), or AbortedError (see WriteOptions); in every case nothing is written.
   */
  write(updates: readonly RelationshipUpdate[], preconditions?: readonly Precondition[], options?: WriteOptions): Promise<Revision>;

  /**
   * deleteByFilter deletes every live relationship matching `filter` at one new revision, if the
   * preconditions hold. With `limit`, deletes nothing and throws ResourceExhaustedError when more
   * than `limit` would be deleted. Returns the revision and the number deleted (the revision is
   * new even when nothing matched, so that the caller gets a token at least as fresh as its read).
   */
  deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    options?: { readonly limit?: number | undefined },
  ): Promise<{ revision: Revision; deleted: number }>;

  /** readSchema returns the stored schema, or undefined if none was ever written. */
  readSchema(): Promise<StoredSchema | undefined>;

  /**
   * writeSchema stores `text` at a new revision. `validate` runs first against a reader at the
   * head, with writes held off, and may throw to refuse the change (e.g. it would orphan stored
   * relationships); then nothing is written.
   */
  writeSchema(text: string, validate: (reader: RelationshipReader) => Promise<void>): Promise<Revision>;

  /**
   * watch yields every change set committed after `afterRevision`, in revision order, then waits for
   * new ones until `signal` aborts. Throws FailedPreconditionError if history after `afterRevision`
   * is no longer kept (`afterRevision` older than oldestReadableRevision), also later in a running
   * watch that fell behind garbage collection.
   */
  watch(afterRevision: Revision, signal: AbortSignal, options?: WatchOptions): AsyncIterable<ChangeSet>;

  /** datastoreId is a stable random id of this datastore (a MemoryStore: random per instance), e.g. to tell tokens of another datastore apart. */
  datastoreId(): Promise<string>;

  /**
   * importRelationships creates every relationship of `batches` at ONE new revision, with `create`
   * semantics: a relationship already live (and unexpired), or present twice in the input, fails
   * the whole import with AlreadyExistsError and nothing is written. Writes are held off while the
   * batches are consumed, so a slow producer delays other writers.
   */
  importRelationships(batches: AsyncIterable<readonly Relationship[]>, options?: ImportOptions): Promise<ImportResult>;

  /**
   * garbageCollect forgets history older than `olderThan`. Let C be the newest revision committed
   * before `olderThan` (the state as of `olderThan`): C and later stay readable, revisions before C
   * become unreadable (snapshot and watch throw FailedPreconditionError), and relationship versions
   * deleted at C or earlier, which no readable revision can see, are physically removed. So are
   * relationships created at C or earlier that expired at `olderThan` or earlier (invisible to
   * every reader but one whose clock is older than `olderThan`), as SpiceDB's GC removes expired
   * relationships: an expired relationship is cleaned up later, one GC window after its expiry.
   * Schema writes after C stay in the history a watch from C replays. Returns how many
   * relationship versions were removed.
   */
  garbageCollect(olderThan: Date): Promise<{ removed: number }>;

  /**
   * chargeBudgets counts one use on each charge, atomically: when any counter has already reached
   * its limit nothing is counted (BudgetOutcome). Counters start at 0, are kept outside revisions
   * (a use is not a relationship change: no new revision, nothing in Watch) and survive restarts.
   * An empty list counts nothing and returns `{ used: [] }`.
   */
  chargeBudgets(charges: readonly BudgetCharge[]): Promise<BudgetOutcome>;

  /** budgetUsage returns the uses counted so far for each of `grantIds` (0 for one never charged). */
  budgetUsage(grantIds: readonly string[]): Promise<ReadonlyMap<string, number>>;

  /** oldestReadableRevision is the oldest revision that snapshot and watch still accept (0 until history is collected). */
  oldestReadableRevision(): Promise<Revision>;

  /** close releases the store's resources; further calls fail. */
  close(): Promise<void>;
}
