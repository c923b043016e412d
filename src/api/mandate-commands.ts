import type { ObjectRef, Relationship, Revision } from "../tuple/index.ts";
import { BugError, FailedPreconditionError, NotFoundError, relationshipKey } from "../tuple/index.ts";
import type { RelationshipPattern, Schema } from "../schema/index.ts";
import { compileSchema, lookupDefinition, lookupRelationOrPermission, removedSubjectPatterns, validateRelationship } from "../schema/index.ts";
import type { Precondition, RelationshipFilter, RelationshipReader, RelationshipUpdate, Store } from "../store/index.ts";
import { AbortedError } from "../store/index.ts";
import type { CheckRequest, CheckResult, Engine, ExpandTree } from "../engine/index.ts";
import type { ConsistencyRequirement } from "./consistency.ts";
import { resolveRevision } from "./consistency.ts";
import type { ApiLimits } from "./limits.ts";
import { enforceCountLimit } from "./limits.ts";

/** SCHEMA_FILE_NAME is the file name schema diagnostics carry when written through the API. */
const SCHEMA_FILE_NAME = "schema.zed";

/** BulkCheckOutcome is one item's answer in a bulk check: a result, or the error for that item only. */
export type BulkCheckOutcome = { readonly result: CheckResult } | { readonly error: unknown };

/** MandateCommandsDeps are what the commands need; the server passes its own. */
export interface MandateCommandsDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly limits: ApiLimits;
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
  // The stored schema is compiled once per schema revision; writes of relationships do not change it.
  #compiled: { readonly revision: Revision; readonly schema: Schema } | undefined;

  constructor(deps: MandateCommandsDeps) {
    this.#store = deps.store;
    this.#engine = deps.engine;
    this.#limits = deps.limits;
  }

  /** check answers one check at the revision `consistency` asks for. */
  async check(consistency: ConsistencyRequirement, request: CheckRequest, trace: boolean): Promise<{ revision: Revision; result: CheckResult }> {
    const { schema } = await this.#currentSchema();
    checkRequestAgainstSchema(schema, request, "");
    const revision = await resolveRevision(this.#store, consistency);
    const result = await this.#engine.check(this.#store.snapshot(revision), schema, request, { trace });
    return { revision, result };
  }

  /**
   * checkBulk answers every item at one revision. An item that is already an error (it failed to
   * decode), or that names something the schema lacks, fails alone; the others are still answered.
   */
  async checkBulk(
    consistency: ConsistencyRequirement,
    items: ReadonlyArray<{ readonly request: CheckRequest; readonly field: string } | { readonly error: unknown }>,
  ): Promise<{ revision: Revision; outcomes: BulkCheckOutcome[] }> {
    enforceCountLimit(items.length, this.#limits.maxChecksPerBatch, "items", "checks", "maxChecksPerBatch");
    const { schema } = await this.#currentSchema();
    const revision = await resolveRevision(this.#store, consistency);
    const outcomes: BulkCheckOutcome[] = [];
    const pending: Array<{ index: number; request: CheckRequest }> = [];
    items.forEach((item, index) => {
      if ("error" in item) {
        outcomes[index] = item;
        return;
      }
      try {
        checkRequestAgainstSchema(schema, item.request, item.field);
        pending.push({ index, request: item.request });
      } catch (error) {
        outcomes[index] = { error };
      }
    });
    const answers = await this.#engine.checkBatch(
      this.#store.snapshot(revision),
      schema,
      pending.map((entry) => entry.request),
    );
    pending.forEach((entry, i) => {
      outcomes[entry.index] = answers[i] ?? { error: new BugError(`the engine returned no answer for item ${entry.index}`) };
    });
    return { revision, outcomes };
  }

  /** expand returns one level of `permission` on `resource`, at the revision `consistency` asks for. */
  async expand(consistency: ConsistencyRequirement, resource: ObjectRef, permission: string): Promise<{ revision: Revision; tree: ExpandTree }> {
    const { schema } = await this.#currentSchema();
    requireRelationOrPermission(schema, resource.type, permission, "resource.object_type", "permission");
    const revision = await resolveRevision(this.#store, consistency);
    const tree = await this.#engine.expand(this.#store.snapshot(revision), schema, resource, permission);
    return { revision, tree };
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
        // Deleting a relationship the schema no longer allows must stay possible, so only what is
        // written is checked; a delete only needs its names to exist.
        if (update.operation === "delete") {
          requireRelationOrPermission(schema, update.relationship.resource.type, update.relationship.relation, `updates[${i}].relationship.resource.object_type`, `updates[${i}].relationship.relation`);
        } else {
          validateRelationship(schema, update.relationship, `updates[${i}].relationship`);
        }
      });
      preconditions.forEach((precondition, i) => filterAgainstSchema(schema, precondition.filter, `optional_preconditions[${i}].filter`));
      try {
        return await this.#store.write(updates, preconditions, { schemaRevision });
      } catch (error) {
        if (!(error instanceof AbortedError) || attempt > 0) throw withWirePreconditionField(error);
      }
    }
  }

  /**
   * deleteByFilter deletes every relationship matching `filter` at one new revision. With `limit`,
   * deletes nothing and fails RESOURCE_EXHAUSTED when more would be deleted.
   */
  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[],
    limit: number | undefined,
  ): Promise<{ revision: Revision; deleted: number }> {
    enforceCountLimit(preconditions.length, this.#limits.maxPreconditionsPerWrite, "optional_preconditions", "preconditions", "maxPreconditionsPerWrite");
    const { schema } = await this.#currentSchema();
    filterAgainstSchema(schema, filter, "relationship_filter");
    preconditions.forEach((precondition, i) => filterAgainstSchema(schema, precondition.filter, `optional_preconditions[${i}].filter`));
    try {
      return await this.#store.deleteByFilter(filter, preconditions, { limit });
    } catch (error) {
      throw withWirePreconditionField(error);
    }
  }

  /** readRevision resolves the revision a read without a cursor runs at. */
  async readRevision(consistency: ConsistencyRequirement): Promise<Revision> {
    return resolveRevision(this.#store, consistency);
  }

  /**
   * read yields the relationships matching `filter` at `revision`, in the store's order, strictly
   * after `after` when given, at most `limit` of them (undefined: all). Pages of at most
   * maxReadPageSize are fetched from the store as the consumer pulls; stop pulling to stop reading.
   * Filter names are checked against the current schema when one exists.
   */
  async *read(filter: RelationshipFilter, revision: Revision, after: Relationship | undefined, limit: number | undefined): AsyncGenerator<Relationship> {
    const current = await this.#storedSchemaIfAny();
    if (current) filterAgainstSchema(current.schema, filter, "relationship_filter");
    if (revision > (await this.#store.headRevision())) {
      throw new FailedPreconditionError("optional_cursor: the cursor is from the future or from another datastore", { field: "optional_cursor" });
    }
    const reader = this.#store.snapshot(revision);
    let remaining = limit ?? Number.POSITIVE_INFINITY;
    let position = after;
    while (remaining > 0) {
      const pageSize = Math.min(remaining, this.#limits.maxReadPageSize);
      const page = await reader.queryRelationships(filter, { after: position, limit: pageSize });
      for (const relationship of page) yield relationship;
      if (page.length < pageSize) return;
      remaining -= page.length;
      position = page[page.length - 1];
    }
  }

  /**
   * writeSchema compiles `text` and stores it. Refused with the compiler's diagnostics when it does
   * not compile, and with FailedPreconditionError naming one offending relationship when a stored
   * relationship would no longer fit it.
   */
  async writeSchema(text: string): Promise<Revision> {
    const next = compileSchema(text, SCHEMA_FILE_NAME);
    return this.#store.writeSchema(text, async (reader) => {
      // Read the previous schema here, with writes held off, so that a concurrent schema write
      // cannot slip in between the comparison and the commit.
      const previous = await this.#storedSchemaIfAny();
      if (previous) await refuseOrphans(reader, previous.schema, next);
    });
  }

  /** readSchema returns the stored schema text and the head revision; NotFoundError if none. */
  async readSchema(): Promise<{ text: string; revision: Revision }> {
    const stored = await this.#store.readSchema();
    if (!stored) throw new NotFoundError("no schema has been written");
    return { text: stored.text, revision: await this.#store.headRevision() };
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

// SpiceDB answers a name the schema lacks with FAILED_PRECONDITION: the request is well formed
// but does not fit the stored schema, which may change. The engine checks this too, but with
// domain field names; checking here first lets the error name the proto field.
function requireRelationOrPermission(schema: Schema, type: string, name: string, typeField: string, nameField: string): void {
  lookupDefinition(schema, type, typeField);
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

function checkRequestAgainstSchema(schema: Schema, request: CheckRequest, field: string): void {
  const prefix = field === "" ? "" : `${field}.`;
  requireRelationOrPermission(schema, request.resource.type, request.permission, `${prefix}resource.object_type`, `${prefix}permission`);
  lookupDefinition(schema, request.subject.type, `${prefix}subject.object.object_type`);
  if (request.subject.relation !== undefined) {
    requireRelationOrPermission(
      schema,
      request.subject.type,
      request.subject.relation,
      `${prefix}subject.object.object_type`,
      `${prefix}subject.optional_relation`,
    );
  }
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
// still matches; only the `user` vs `user:*` case needs more than one.
const ORPHAN_SCAN_PAGE = 100;

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
  // A pattern for plain `user` subjects also matches `user:*` rows, which the new schema may still allow.
  const skipWildcards = pattern.subjectType !== undefined && pattern.wildcard !== true;
  let after: Relationship | undefined;
  for (;;) {
    const page = await reader.queryRelationships(filter, { after, limit: skipWildcards ? ORPHAN_SCAN_PAGE : 1 });
    const orphan = page.find((relationship) => !skipWildcards || relationship.subject.id !== "*");
    if (orphan || !skipWildcards || page.length < ORPHAN_SCAN_PAGE) return orphan;
    after = page[page.length - 1];
  }
}
