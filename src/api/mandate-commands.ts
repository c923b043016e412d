import type { ObjectRef, Relationship, Revision } from "../tuple/index.ts";
import { BugError, FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, relationshipKey } from "../tuple/index.ts";
import type { RelationshipPattern, Schema } from "../schema/index.ts";
import { compileSchema, lookupDefinition, lookupRelationOrPermission, removedSubjectPatterns, validateRelationship, validateRelationshipForDelete } from "../schema/index.ts";
import type { ChangeSet, Precondition, RelationshipFilter, RelationshipReader, RelationshipUpdate, Store } from "../store/index.ts";
import { AbortedError } from "../store/index.ts";
import type {
  CheckRequest,
  CheckResult,
  DelegationExplanation,
  Engine,
  ExpandTree,
  LookupOptions,
  LookupResourcesRequest,
  LookupResult,
  LookupSubjectsRequest,
  LookupSubjectsResult,
} from "../engine/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import type { ConsistencyRequirement } from "./consistency.ts";
import type { DelegationExplainRequest } from "./from-proto.ts";
import { resolveRevision, verifyToken } from "./consistency.ts";
import type { DecodedZedToken } from "./consistency-token.ts";
import { datastoreTagOf, encodeZedToken } from "./consistency-token.ts";
import type { ApiLimits } from "./limits.ts";
import { enforceCountLimit } from "./limits.ts";
import { withRenamedField } from "./renamed-field.ts";

/**
 * WRITE_VISIBILITY_WAIT_MS bounds how long a write's response waits for the graph index to apply
 * it, so that a client reading through the same server sees its own write even with
 * minimize_latency (normally milliseconds; past the bound the write is answered anyway).
 */
const WRITE_VISIBILITY_WAIT_MS = 250;

/**
 * LOOKUP_INDEX_WAIT_MS bounds how long a lookup waits for the graph index to reach its revision:
 * the engine answers a lookup set-at-a-time only from an index at (or equivalent to) the reader's
 * revision, and otherwise checks candidates one by one, which is correct but far slower. A lookup
 * is long enough that waiting somewhat longer than a check does (INDEX_WAIT_MS) pays off.
 */
const LOOKUP_INDEX_WAIT_MS = 250;

/** SCHEMA_FILE_NAME is the file name schema diagnostics carry when written through the API. */
const SCHEMA_FILE_NAME = "schema.zed";

/** BulkCheckOutcome is one item's answer in a bulk check: a result, or the error for that item only. */
export type BulkCheckOutcome = { readonly result: CheckResult } | { readonly error: unknown };

/**
 * LookupAt is where a lookup runs: at the revision a consistency requirement resolves to, or at
 * a revision a cursor pinned (`pinned`, already verified with verifyPinnedRevision).
 */
export type LookupAt = ConsistencyRequirement | { readonly kind: "pinned"; readonly revision: Revision };

/** MandateCommandsDeps are what the commands need; the server passes its own. */
export interface MandateCommandsDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly limits: ApiLimits;
  /** follower, when given, is the graph index the engine answers from; reads then resolve revisions and the schema through it. */
  readonly follower?: GraphIndexFollower | undefined;
}

/**
 * MandateCommands are the operations behind the gRPC handlers, in domain terms: the handlers only
 * decode the request, call one command and encode the answer. Commands that pick the revision they
 * read or write at return it, for the response's consistency token.
 */
export class MandateCommands {
  readonly #store: Store;
  readonly #engine: Engine;
  readonly #limits: ApiLimits;
  readonly #follower: GraphIndexFollower | undefined;
  // The stored schema is compiled once per schema revision; writes of relationships do not change it.
  #compiled: { readonly revision: Revision; readonly schema: Schema } | undefined;
  // Schema writes through this server run one after another (see writeSchema).
  #schemaWrites: Promise<unknown> = Promise.resolve();
  // The newest revision written through this server: minimize_latency never reads from before it.
  #ownWrites: Revision = 0;
  // The datastore id never changes for a store, so its tag is read once.
  #datastoreTag: Promise<string> | undefined;

  constructor(deps: MandateCommandsDeps) {
    this.#store = deps.store;
    this.#engine = deps.engine;
    this.#limits = deps.limits;
    this.#follower = deps.follower;
  }

  /** datastoreTag is the tag of the store's datastore id that this server's tokens carry. */
  datastoreTag(): Promise<string> {
    this.#datastoreTag ??= this.#store.datastoreId().then(datastoreTagOf, (error: unknown) => {
      this.#datastoreTag = undefined;
      throw error;
    });
    return this.#datastoreTag;
  }

  /** tokenFor returns the consistency token naming `revision` of this server's datastore. */
  async tokenFor(revision: Revision): Promise<string> {
    return encodeZedToken(await this.datastoreTag(), revision);
  }

  /**
   * verifyPinnedRevision checks that a revision pinned in a cursor or token (`field`) is this
   * datastore's, not ahead of the head and still within the kept history (see verifyToken).
   */
  async verifyPinnedRevision(token: DecodedZedToken, field: string): Promise<void> {
    await verifyToken(this.#store, await this.datastoreTag(), token, field, { needsHistory: true });
  }

  /**
   * check answers one check at the revision `consistency` asks for; `signal` (the call's
   * cancellation) stops the engine. The engine refuses a check the schema cannot answer; its error
   * is renamed to the request's proto field (see withWireCheckField).
   */
  async check(
    consistency: ConsistencyRequirement,
    request: CheckRequest,
    trace: boolean,
    signal?: AbortSignal,
  ): Promise<{ revision: Revision; result: CheckResult }> {
    const { revision, reader, schema } = await this.readSnapshot(consistency);
    try {
      const result = await this.#engine.check(reader, schema, request, { trace, signal });
      return { revision, result };
    } catch (error) {
      throw withWireCheckField(error, "");
    }
  }

  /**
   * checkBulk answers every item at one revision. An item that is already an error (it failed to
   * decode), or that the engine refuses (e.g. it names something the schema lacks; the error names
   * the item's proto field), fails alone; the others are still answered. `signal` stops the engine.
   * At most maxChecksPerBatch items (ResourceExhaustedError).
   */
  async checkBulk(
    consistency: ConsistencyRequirement,
    items: ReadonlyArray<{ readonly request: CheckRequest; readonly field: string } | { readonly error: unknown }>,
    signal?: AbortSignal,
  ): Promise<{ revision: Revision; outcomes: BulkCheckOutcome[] }> {
    enforceCountLimit(items.length, this.#limits.maxChecksPerBatch, "items", "checks", "maxChecksPerBatch");
    const { revision, reader, schema } = await this.readSnapshot(consistency);
    const outcomes: BulkCheckOutcome[] = [];
    const pending: Array<{ index: number; request: CheckRequest; field: string }> = [];
    items.forEach((item, index) => {
      if ("error" in item) outcomes[index] = item;
      else pending.push({ index, request: item.request, field: item.field });
    });
    const answers = await this.#engine.checkBatch(
      reader,
      schema,
      pending.map((entry) => entry.request),
      { signal },
    );
    pending.forEach((entry, i) => {
      const answer = answers[i];
      if (answer === undefined) outcomes[entry.index] = { error: new BugError(`the engine returned no answer for item ${entry.index}`) };
      else if ("error" in answer) outcomes[entry.index] = { error: withWireCheckField(answer.error, `${entry.field}.`) };
      else outcomes[entry.index] = answer;
    });
    return { revision, outcomes };
  }

  /**
   * expand returns one level of `permission` on `resource`, at the revision `consistency` asks
   * for; `signal` stops the engine. With `delegation`, also how its actor would act for its
   * principal on `resource` (Engine.explainDelegation: no budget is charged).
   */
  async expand(
    consistency: ConsistencyRequirement,
    resource: ObjectRef,
    permission: string,
    signal?: AbortSignal,
    delegation?: DelegationExplainRequest,
  ): Promise<{ revision: Revision; tree: ExpandTree; delegation?: DelegationExplanation | undefined }> {
    const { revision, reader, schema } = await this.readSnapshot(consistency);
    let tree: ExpandTree;
    try {
      tree = await this.#engine.expand(reader, schema, resource, permission, { signal });
    } catch (error) {
      throw withWireCheckField(error, "");
    }
    if (delegation === undefined) return { revision, tree };
    try {
      const explanation = await this.#engine.explainDelegation(reader, schema, {
        resource,
        permission,
        subject: delegation.actor,
        onBehalfOf: delegation.onBehalfOf,
        context: delegation.context,
      });
      return { revision, tree, delegation: explanation };
    } catch (error) {
      throw withWireField(error, WIRE_EXPLAIN_FIELDS, "");
    }
  }

  /**
   * readSnapshot resolves the revision `consistency` asks for and returns a reader at it with the
   * schema reads at it use (for reads outside the engine's check family, e.g. ListDelegations).
   */
  async readSnapshot(consistency: ConsistencyRequirement): Promise<{ revision: Revision; reader: RelationshipReader; schema: Schema }> {
    const revision = await this.#resolve(consistency);
    const schema = await this.#schemaForRead(revision);
    return { revision, reader: this.#store.snapshot(revision), schema };
  }

  /**
   * writePlanned runs `plan` against the current schema and a reader at the head revision, then
   * applies the updates it returns atomically under its preconditions, as `write` does: the write
   * is refused if the schema changed since (it is planned again once, against the new schema), and
   * its revision is marked visible, so that a read at least as fresh as the returned revision's
   * token sees it. The updates are not validated here: `plan` builds them from validated input.
   */
  async writePlanned<T>(
    plan: (schema: Schema, head: RelationshipReader) => Promise<{ updates: readonly RelationshipUpdate[]; preconditions: readonly Precondition[]; result: T }>,
  ): Promise<{ revision: Revision; result: T }> {
    for (let attempt = 0; ; attempt++) {
      const { schema, revision: schemaRevision } = await this.#currentSchema();
      const head = this.#store.snapshot(await this.#store.headRevision());
      const { updates, preconditions, result } = await plan(schema, head);
      // Nothing to change (e.g. a revocation that matched no edge): the head already reflects it.
      if (updates.length === 0) return { revision: await this.#visible(head.revision), result };
      try {
        return { revision: await this.#visible(await this.#store.write(updates, preconditions, { schemaRevision })), result };
      } catch (error) {
        if (!(error instanceof AbortedError) || attempt > 0) throw error;
      }
    }
  }

  /**
   * lookupResources resolves the revision of `at` and returns it with the engine's results (see
   * Engine.lookupResources; `options.signal`, the call's cancellation, stops the engine), its
   * errors' fields renamed to the proto fields of LookupResourcesRequest (e.g.
   * `resource_object_type`, `optional_limit`).
   */
  async lookupResources(at: LookupAt, request: LookupResourcesRequest, options: LookupOptions): Promise<{ revision: Revision; results: Iterable<LookupResult> }> {
    const { revision, schema } = await this.#lookupSnapshot(at, options.signal);
    try {
      return { revision, results: await this.#engine.lookupResources(this.#store.snapshot(revision), schema, request, options) };
    } catch (error) {
      throw withWireField(error, WIRE_LOOKUP_RESOURCES_FIELDS, "");
    }
  }

  /** lookupSubjects is lookupResources for Engine.lookupSubjects (fields of LookupSubjectsRequest). */
  async lookupSubjects(at: LookupAt, request: LookupSubjectsRequest, options: LookupOptions): Promise<{ revision: Revision; results: Iterable<LookupSubjectsResult> }> {
    const { revision, schema } = await this.#lookupSnapshot(at, options.signal);
    try {
      return { revision, results: await this.#engine.lookupSubjects(this.#store.snapshot(revision), schema, request, options) };
    } catch (error) {
      throw withWireField(error, WIRE_LOOKUP_SUBJECTS_FIELDS, "");
    }
  }

  // The revision and schema a lookup runs with, once the graph index has reached the revision (or
  // LOOKUP_INDEX_WAIT_MS has passed, or the call was cancelled): the engine then answers from it.
  async #lookupSnapshot(at: LookupAt, signal: AbortSignal | undefined): Promise<{ revision: Revision; schema: Schema }> {
    const revision = at.kind === "pinned" ? at.revision : await this.#resolve(at);
    const follower = this.#follower;
    if (follower?.following === true && follower.index.revision < revision) await follower.waitFor(revision, LOOKUP_INDEX_WAIT_MS, signal);
    return { revision, schema: await this.#schemaForRead(revision) };
  }

  /**
   * write validates every update against the current schema and applies them atomically. If the
   * schema changes between validation and commit the store aborts the write; it is revalidated
   * against the new schema and retried once.
   */
  async write(updates: readonly RelationshipUpdate[], preconditions: readonly Precondition[]): Promise<Revision> {
    enforceCountLimit(updates.length, this.#limits.maxUpdatesPerWrite, "updates", "updates", "maxUpdatesPerWrite");
    enforceCountLimit(preconditions.length, this.#limits.maxPreconditionsPerWrite, "optional_preconditions", "preconditions", "maxPreconditionsPerWrite");
    for (let attempt = 0; ; attempt++) {
      const { schema, revision: schemaRevision } = await this.#currentSchema();
      updates.forEach((update, i) => {
        // A delete names a relationship by resource, relation and subject only, so its caveat and
        // expiration are not checked (SpiceDB does the same); a permission or a subject type the
        // relation does not allow can never be stored, and is refused as for a write.
        if (update.operation === "delete") {
          validateRelationshipForDelete(schema, update.relationship, `updates[${i}].relationship`);
        } else {
          refuseDelegationEdge(schema, update.relationship, `updates[${i}].relationship.relation`);
          validateRelationship(schema, update.relationship, `updates[${i}].relationship`);
        }
      });
      preconditions.forEach((precondition, i) => filterAgainstSchema(schema, precondition.filter, `optional_preconditions[${i}].filter`));
      try {
        return await this.#visible(await this.#store.write(updates, preconditions, { schemaRevision }));
      } catch (error) {
        if (!(error instanceof AbortedError) || attempt > 0) throw withWirePreconditionField(error);
      }
    }
  }

  /**
   * deleteByFilter deletes every relationship matching `filter` at one new revision. With `limit`
   * (the request's `optional_limit`, at most maxDeletesPerRequest, else InvalidArgumentError),
   * deletes nothing and fails RESOURCE_EXHAUSTED when more would be deleted; without it the same
   * holds for maxDeletesPerRequest, so that no request deletes without bound in one revision.
   */
  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[],
    limit: number | undefined,
  ): Promise<{ revision: Revision; deleted: number }> {
    enforceCountLimit(preconditions.length, this.#limits.maxPreconditionsPerWrite, "optional_preconditions", "preconditions", "maxPreconditionsPerWrite");
    const { maxDeletesPerRequest } = this.#limits;
    if (limit !== undefined && limit > maxDeletesPerRequest) {
      throw new InvalidArgumentError(`optional_limit: ${limit} is greater than the maximum of ${maxDeletesPerRequest} (maxDeletesPerRequest)`, {
        field: "optional_limit",
      });
    }
    const { schema } = await this.#currentSchema();
    filterAgainstSchema(schema, filter, "relationship_filter");
    preconditions.forEach((precondition, i) => filterAgainstSchema(schema, precondition.filter, `optional_preconditions[${i}].filter`));
    try {
      const deleted = await this.#store.deleteByFilter(filter, preconditions, { limit: limit ?? maxDeletesPerRequest });
      await this.#visible(deleted.revision);
      return deleted;
    } catch (error) {
      if (error instanceof ResourceExhaustedError) {
        const message =
          limit === undefined
            ? `relationship_filter: more than ${maxDeletesPerRequest} relationships match, the most one request may delete (maxDeletesPerRequest); nothing was deleted (delete in batches with optional_limit)`
            : `optional_limit: more than ${limit} relationships match the filter; nothing was deleted`;
        throw new ResourceExhaustedError(message, { field: limit === undefined ? "relationship_filter" : "optional_limit", cause: error });
      }
      throw withWirePreconditionField(error);
    }
  }

  /** readRevision resolves the revision a read without a cursor runs at. */
  async readRevision(consistency: ConsistencyRequirement): Promise<Revision> {
    return this.#resolve(consistency);
  }

  /**
   * read yields the relationships matching `filter` at `revision`, in the store's order, strictly
   * after `after` when given, at most `limit` of them (undefined: all). Pages of at most
   * `storePageSize` (default maxReadPageSize) are fetched from the store as the consumer pulls;
   * stop pulling to stop reading.
   * Filter names are checked against the current schema when one exists. A revision from a cursor
   * must be verified first (verifyPinnedRevision).
   */
  async *read(
    filter: RelationshipFilter,
    revision: Revision,
    after: Relationship | undefined,
    limit: number | undefined,
    storePageSize = this.#limits.maxReadPageSize,
  ): AsyncGenerator<Relationship> {
    const current = await this.#storedSchemaIfAny();
    if (current) filterAgainstSchema(current.schema, filter, "relationship_filter");
    const reader = this.#store.snapshot(revision);
    let remaining = limit ?? Number.POSITIVE_INFINITY;
    let position = after;
    while (remaining > 0) {
      const pageSize = Math.min(remaining, storePageSize);
      const page = await reader.queryRelationships(filter, { after: position, limit: pageSize });
      for (const relationship of page) yield relationship;
      if (page.length < pageSize) return;
      remaining -= page.length;
      position = page[page.length - 1];
    }
  }

  /**
   * watch yields the change sets committed after `start` (a verified token; undefined: after the
   * head now, i.e. only new changes), in revision order, until `signal` aborts. With
   * `resourceTypes` non-empty, only changes to those resource types are kept; a change set left
   * empty is still yielded, without changes, so that the watcher's resume point keeps moving (a
   * watcher of rarely changing types would otherwise fall behind the GC window while missing nothing).
   */
  async *watch(start: DecodedZedToken | undefined, resourceTypes: ReadonlySet<string>, signal: AbortSignal): AsyncGenerator<ChangeSet> {
    let after: Revision;
    if (start === undefined) {
      after = await this.#store.headRevision();
    } else {
      await this.verifyPinnedRevision(start, "optional_start_cursor");
      after = start.revision;
    }
    for await (const changeSet of this.#store.watch(after, signal)) {
      if (resourceTypes.size === 0) {
        yield changeSet;
        continue;
      }
      const changes = changeSet.changes.filter((change) => resourceTypes.has(change.relationship.resource.type));
      yield { revision: changeSet.revision, changes };
    }
  }

  /**
   * importRelationships creates every relationship of `batches` at one new revision, atomically:
   * each is validated against the current schema as a write is (the error names
   * `message[B].relationships[I]`), and any failure, including one already live or one given twice,
   * writes nothing. `onProgress` hears the running count. A schema change committed meanwhile
   * fails the import with AbortedError (the stream is consumed, so it cannot be retried here), and
   * so does an aborted `signal` (the client went away).
   */
  async importRelationships(
    batches: AsyncIterable<readonly Relationship[]>,
    onProgress?: (imported: number) => void,
    signal?: AbortSignal,
  ): Promise<{ revision: Revision; imported: number }> {
    const { schema, revision: schemaRevision } = await this.#currentSchema();
    async function* validated(): AsyncGenerator<readonly Relationship[]> {
      let index = 0;
      for await (const batch of batches) {
        batch.forEach((relationship, i) => validateRelationship(schema, relationship, `message[${index}].relationships[${i}]`));
        index++;
        yield batch;
      }
    }
    const result = await this.#store.importRelationships(validated(), { onProgress, schemaRevision, signal });
    await this.#visible(result.revision);
    return result;
  }

  /**
   * writeSchema compiles `text` and stores it. Refused with the compiler's diagnostics when it does
   * not compile, and with FailedPreconditionError naming one offending relationship when a stored
   * relationship would no longer fit it.
   */
  async writeSchema(text: string): Promise<Revision> {
    const next = compileSchema(text, SCHEMA_FILE_NAME);
    // The previous schema is read before the store's writeSchema, not inside `validate`: the
    // embedded datastore has one connection, which `validate` runs inside, so a second store call
    // there would wait for itself. Schema writes of this server are serialised so that none slips
    // in between the read and the commit.
    const write = this.#schemaWrites.then(async () => {
      const previous = await this.#storedSchemaIfAny();
      return this.#store.writeSchema(text, async (reader) => {
        if (previous) await refuseOrphans(reader, previous.schema, next);
      });
    });
    this.#schemaWrites = write.catch(() => undefined);
    return this.#visible(await write);
  }

  /** readSchema returns the stored schema text and the head revision; NotFoundError if none. */
  async readSchema(): Promise<{ text: string; revision: Revision }> {
    const stored = await this.#store.readSchema();
    if (!stored) throw new NotFoundError("no schema has been written");
    return { text: stored.text, revision: await this.#store.headRevision() };
  }

  /**
   * #visible records `revision` as written through this server and waits (bounded, see
   * WRITE_VISIBILITY_WAIT_MS) until the graph index has applied it; it returns `revision`. While
   * the index is not following the store there is nothing to wait for: reads go to the store.
   */
  async #visible(revision: Revision): Promise<Revision> {
    this.#ownWrites = Math.max(this.#ownWrites, revision);
    if (this.#follower?.following === true) await this.#follower.waitFor(revision, WRITE_VISIBILITY_WAIT_MS);
    return revision;
  }

  #resolve(consistency: ConsistencyRequirement): Promise<Revision> {
    return this.datastoreTag().then((tag) => resolveRevision(this.#store, tag, consistency, this.#follower, this.#ownWrites));
  }

  /**
   * #schemaForRead is the schema a check or expand at `revision` runs with: the graph index's when
   * it has applied `revision` (the index pairs each revision it applies with the schema written
   * at or before it, so this is the schema as of the index's revision, saving a round trip), else
   * the store's current one.
   */
  async #schemaForRead(revision: Revision): Promise<Schema> {
    const index = this.#follower?.index;
    if (index?.schema !== undefined && index.revision >= revision) return index.schema;
    return (await this.#currentSchema()).schema;
  }

  async #currentSchema(): Promise<{ schema: Schema; revision: Revision }> {
    const current = await this.#storedSchemaIfAny();
    if (!current) throw new FailedPreconditionError("no schema has been written; call SchemaService.WriteSchema first");
    return current;
  }

  async #storedSchemaIfAny(): Promise<{ schema: Schema; revision: Revision } | undefined> {
    const stored = await this.#store.readSchema();
    if (!stored) return undefined;
    if (this.#compiled?.revision !== stored.revision) {
      this.#compiled = { revision: stored.revision, schema: compileSchema(stored.text, SCHEMA_FILE_NAME) };
    }
    return this.#compiled;
  }
}

// Delegation edges are written by GrantDelegation, which checks the edge against its delegation,
// picks its id and timestamps, and guards a sub-delegation's parent; a hand-written edge would skip
// all of that. Deleting one (revoking by hand) is harmless, and bulk import restores exported
// edges as they were (validateRelationship still checks them against the schema).
function refuseDelegationEdge(schema: Schema, relationship: Relationship, field: string): void {
  const delegation = schema.definitions.get(relationship.resource.type)?.delegations.get(relationship.relation);
  if (delegation === undefined) return;
  throw new InvalidArgumentError(
    `${field}: \`${relationship.resource.type}#${relationship.relation}\` is a delegation; create or replace its edges with DelegationService.GrantDelegation (WriteRelationships may only delete them)`,
    { field },
  );
}

// SpiceDB answers a name the schema lacks with FAILED_PRECONDITION: the request is well formed
// but does not fit the stored schema, which may change. Used for relationship filters, which only
// the API checks against the schema (check and expand requests are checked by the engine). A
// delegation's edges are relationships too: a filter may name it, to read, export or delete them.
function requireRelationOrPermission(schema: Schema, type: string, name: string, typeField: string, nameField: string): void {
  const definition = lookupDefinition(schema, type, typeField);
  if (definition.delegations.has(name)) return;
  lookupRelationOrPermission(schema, type, name, nameField);
}

// The store names preconditions by their domain field (`preconditions[2]`); the request called
// them `optional_preconditions`, and the client should read the name it sent.
function withWirePreconditionField(error: unknown): unknown {
  if (!(error instanceof FailedPreconditionError) || !error.field?.startsWith("preconditions[")) return error;
  const field = `optional_${error.field}`;
  const message = error.message.startsWith("preconditions[") ? `optional_${error.message}` : error.message;
  return new FailedPreconditionError(message, { field, cause: error });
}

// The engine validates check and expand requests (as SpiceDB does) and names the fields of its
// own request types; the client should read the proto field it sent.
const WIRE_CHECK_FIELDS: ReadonlyMap<string, string> = new Map([
  ["resource.type", "resource.object_type"],
  ["resource.id", "resource.object_id"],
  ["permission", "permission"],
  ["subject.type", "subject.object.object_type"],
  ["subject.id", "subject.object.object_id"],
  ["subject.relation", "subject.optional_relation"],
  ["onBehalfOf", "on_behalf_of"],
  ["onBehalfOf.type", "on_behalf_of.object_type"],
  ["onBehalfOf.id", "on_behalf_of.object_id"],
]);

// An expand's delegation explanation is a check whose subject is the request's `actor`.
const WIRE_EXPLAIN_FIELDS: ReadonlyMap<string, string> = new Map([
  ["resource.type", "resource.object_type"],
  ["resource.id", "resource.object_id"],
  ["permission", "permission"],
  ["subject", "actor"],
  ["subject.type", "actor.object_type"],
  ["subject.id", "actor.object_id"],
  ["onBehalfOf", "on_behalf_of"],
  ["onBehalfOf.type", "on_behalf_of.object_type"],
  ["onBehalfOf.id", "on_behalf_of.object_id"],
]);

// The engine names the fields of its lookup requests too.
const WIRE_LOOKUP_RESOURCES_FIELDS: ReadonlyMap<string, string> = new Map([
  ["resourceType", "resource_object_type"],
  ["permission", "permission"],
  ["subject.type", "subject.object.object_type"],
  ["subject.id", "subject.object.object_id"],
  ["subject.relation", "subject.optional_relation"],
  ["limit", "optional_limit"],
  ["onBehalfOf", "on_behalf_of"],
  ["onBehalfOf.type", "on_behalf_of.object_type"],
  ["onBehalfOf.id", "on_behalf_of.object_id"],
]);
const WIRE_LOOKUP_SUBJECTS_FIELDS: ReadonlyMap<string, string> = new Map([
  ["resource.type", "resource.object_type"],
  ["resource.id", "resource.object_id"],
  ["permission", "permission"],
  ["subjectType", "subject_object_type"],
  ["subjectRelation", "optional_subject_relation"],
  ["limit", "optional_limit"],
]);

// withWireCheckField renames an engine validation error's field to the proto field, after
// `prefix` (e.g. "items[2]."); other errors pass unchanged.
function withWireCheckField(error: unknown, prefix: string): unknown {
  return withWireField(error, WIRE_CHECK_FIELDS, prefix);
}

// withWireField renames an engine validation error's field by `fields` (domain to proto), after
// `prefix`; other errors pass unchanged.
function withWireField(error: unknown, fields: ReadonlyMap<string, string>, prefix: string): unknown {
  return withRenamedField(error, (field) => {
    const wire = fields.get(field);
    return wire === undefined ? field : `${prefix}${wire}`;
  });
}

function filterAgainstSchema(schema: Schema, filter: RelationshipFilter, field: string): void {
  if (filter.resourceType !== undefined) {
    lookupDefinition(schema, filter.resourceType, `${field}.resource_type`);
    if (filter.relation !== undefined) {
      requireRelationOrPermission(schema, filter.resourceType, filter.relation, `${field}.resource_type`, `${field}.optional_relation`);
    }
  }
  if (filter.subject !== undefined) lookupDefinition(schema, filter.subject.type, `${field}.optional_subject_filter.subject_type`);
}

// How many relationships to look at per query while searching for one that a removed pattern
// still matches, and how many at most: the store cannot filter by wildcard, caveat or expiry, so
// those are checked here, page by page. Past the bound the change is refused rather than accepted
// unverified (the search runs while writes are held off).
const ORPHAN_SCAN_PAGE = 1000;
const ORPHAN_SCAN_MAX = 100_000;

async function refuseOrphans(reader: RelationshipReader, previous: Schema, next: Schema): Promise<void> {
  for (const pattern of removedSubjectPatterns(previous, next)) {
    const orphan = await findOrphan(reader, pattern);
    if (orphan) {
      throw new FailedPreconditionError(
        `schema: change refused: ${pattern.reason}, but relationship ${relationshipKey(orphan)} still exists (delete such relationships first)`,
        { field: "schema" },
      );
    }
  }
}

async function findOrphan(reader: RelationshipReader, pattern: RelationshipPattern): Promise<Relationship | undefined> {
  const filter: RelationshipFilter = {
    resourceType: pattern.resourceType,
    relation: pattern.relation,
    subject:
      pattern.subjectType === undefined
        ? undefined
        : { type: pattern.subjectType, id: pattern.wildcard ? "*" : undefined, relation: pattern.subjectRelation },
  };
  // A pattern for plain `user` subjects also matches `user:*` rows, which the new schema may still
  // allow; one for `user with cv` also matches plain `user` rows, and so on.
  const fits = (relationship: Relationship): boolean =>
    (pattern.subjectType === undefined || pattern.wildcard === true || relationship.subject.id !== "*") &&
    (pattern.caveat === undefined || (relationship.caveat?.name ?? null) === pattern.caveat) &&
    (pattern.expiration === undefined || (relationship.expiresAt !== undefined) === pattern.expiration);
  const filteredHere = (pattern.subjectType !== undefined && pattern.wildcard !== true) || pattern.caveat !== undefined || pattern.expiration !== undefined;
  const pageSize = filteredHere ? ORPHAN_SCAN_PAGE : 1;
  let after: Relationship | undefined;
  for (let scanned = 0; ; ) {
    const page = await reader.queryRelationships(filter, { after, limit: pageSize });
    const orphan = page.find(fits);
    if (orphan || page.length < pageSize || !filteredHere) return orphan;
    scanned += page.length;
    if (scanned >= ORPHAN_SCAN_MAX) {
      throw new FailedPreconditionError(
        `schema: change refused: ${pattern.reason}, and more than ${ORPHAN_SCAN_MAX} relationships of relation \`${pattern.resourceType}#${pattern.relation}\` would have to be searched to prove that none of them is affected (delete or narrow them first)`,
        { field: "schema" },
      );
    }
    after = page[page.length - 1];
  }
}
