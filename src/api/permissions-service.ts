import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Relationship, Revision } from "../tuple/index.ts";
import { InvalidArgumentError } from "../tuple/index.ts";
import type { LookupAt, MandateCommands } from "./mandate-commands.ts";
import type { ApiLimits } from "./limits.ts";
import { enforceCountLimit } from "./limits.ts";
import type { ServerStreamSink } from "./call-handler.ts";
import { clientStreamHandler, serverStreamHandler, unaryHandler } from "./call-handler.ts";
import { toGrpcStatus } from "./errors.ts";
import {
  checkRequestFromWire,
  consistencyFromWire,
  filterFromWire,
  expandRequestFromWire,
  lookupResourcesRequestFromWire,
  lookupSubjectsRequestFromWire,
  preconditionFromWire,
  relationshipFromWire,
  updateFromWire,
} from "./from-proto.ts";
import { decodeReadCursor, encodeReadCursor, filterFingerprint } from "./read-cursor.ts";
import type { LookupKind } from "./lookup-cursor.ts";
import {
  decodeLookupCursor,
  encodeLookupCursor,
  lookupResourcesFingerprint,
  lookupSubjectsFingerprint,
  refuseConflictingConsistency,
  refuseForeignCursor,
} from "./lookup-cursor.ts";
import { checkResultToWire, delegationExplanationToWire, expandTreeToWire, lookupResourceToWire, relationshipToWire, resolvedSubjectsToWire, traceToWire } from "./to-proto.ts";
import type {
  WireCheckBulkPermissionsPair,
  WireCheckBulkPermissionsRequest,
  WireCheckBulkPermissionsResponse,
  WireCheckPermissionRequest,
  WireCheckPermissionResponse,
  WireDeleteRelationshipsRequest,
  WireDeleteRelationshipsResponse,
  WireExpandPermissionTreeRequest,
  WireExpandPermissionTreeResponse,
  WireReadRelationshipsRequest,
  WireReadRelationshipsResponse,
  WireWriteRelationshipsRequest,
  WireWriteRelationshipsResponse,
  WireConsistency,
  WireExportBulkRelationshipsRequest,
  WireExportBulkRelationshipsResponse,
  WireImportBulkRelationshipsRequest,
  WireImportBulkRelationshipsResponse,
  WireLookupResourcesRequest,
  WireLookupResourcesResponse,
  WireLookupSubjectsRequest,
  WireLookupSubjectsResponse,
} from "./wire-types.ts";

// An export batch holds this many relationships unless the request asks for fewer.
const DEFAULT_EXPORT_BATCH = 1000;
// An export reads the store in pages this large: each page is one query, and on a large store a
// query costs about the same whatever its limit, so fewer, larger pages export faster.
const EXPORT_STORE_PAGE = 10_000;

/**
 * permissionsServiceHandlers implements mandate.v1.PermissionsService: each handler decodes the
 * request (from-proto), runs one command and encodes the answer (to-proto).
 */
export function permissionsServiceHandlers(commands: MandateCommands, limits: ApiLimits, logger: Logger): UntypedServiceImplementation {
  return {
    CheckPermission: unaryHandler(
      "CheckPermission",
      logger,
      async (request: WireCheckPermissionRequest, _log, signal): Promise<WireCheckPermissionResponse> => {
        const consistency = consistencyFromWire(request.consistency);
        const check = checkRequestFromWire(request, "");
        const withTracing = request.withTracing === true;
        const { revision, result } = await commands.check(consistency, check, withTracing, signal);
        return {
          checkedAt: { token: await commands.tokenFor(revision) },
          ...checkResultToWire(result),
          debugTrace: withTracing && result.trace ? traceToWire(result.trace) : null,
        };
      },
    ),

    CheckBulkPermissions: unaryHandler(
      "CheckBulkPermissions",
      logger,
      async (request: WireCheckBulkPermissionsRequest, log, signal): Promise<WireCheckBulkPermissionsResponse> => {
        const consistency = consistencyFromWire(request.consistency);
        const wireItems = request.items ?? [];
        // Before converting anything: an oversized batch costs no per-item work (test/e2e/abuse.test.ts).
        enforceCountLimit(wireItems.length, limits.maxChecksPerBatch, "items", "checks", "maxChecksPerBatch");
        const items = wireItems.map((item, i) => {
          try {
            return { request: checkRequestFromWire(item, `items[${i}]`), field: `items[${i}]` };
          } catch (error) {
            return { error };
          }
        });
        const { revision, outcomes } = await commands.checkBulk(consistency, items, signal);
        const pairs = outcomes.map((outcome, i): WireCheckBulkPermissionsPair => {
          const echoed = wireItems[i] ?? null;
          if ("result" in outcome) return { request: echoed, item: checkResultToWire(outcome.result) };
          const failure = toGrpcStatus(outcome.error, log);
          return { request: echoed, error: { code: failure.code, message: failure.details } };
        });
        return { checkedAt: { token: await commands.tokenFor(revision) }, pairs };
      },
    ),

    ExpandPermissionTree: unaryHandler(
      "ExpandPermissionTree",
      logger,
      async (request: WireExpandPermissionTreeRequest, _log, signal): Promise<WireExpandPermissionTreeResponse> => {
        const consistency = consistencyFromWire(request.consistency);
        const { resource, permission, delegation: explain } = expandRequestFromWire(request);
        const { revision, tree, delegation } = await commands.expand(consistency, resource, permission, signal, explain);
        return {
          expandedAt: { token: await commands.tokenFor(revision) },
          treeRoot: expandTreeToWire(tree),
          delegation: delegation ? delegationExplanationToWire(delegation) : null,
        };
      },
    ),

    WriteRelationships: unaryHandler(
      "WriteRelationships",
      logger,
      async (request: WireWriteRelationshipsRequest): Promise<WireWriteRelationshipsResponse> => {
        // The command enforces maxUpdatesPerWrite; decoding first costs little, as gRPC has already
        // bounded the message by maxMessageBytes.
        const updates = (request.updates ?? []).map((update, i) => updateFromWire(update, `updates[${i}]`));
        const preconditions = (request.optionalPreconditions ?? []).map((p, i) => preconditionFromWire(p, `optional_preconditions[${i}]`));
        const revision = await commands.write(updates, preconditions);
        return { writtenAt: { token: await commands.tokenFor(revision) } };
      },
    ),

    DeleteRelationships: unaryHandler(
      "DeleteRelationships",
      logger,
      async (request: WireDeleteRelationshipsRequest): Promise<WireDeleteRelationshipsResponse> => {
        const filter = filterFromWire(request.relationshipFilter, "relationship_filter", true);
        const preconditions = (request.optionalPreconditions ?? []).map((p, i) => preconditionFromWire(p, `optional_preconditions[${i}]`));
        const limit = request.optionalLimit ? request.optionalLimit : undefined;
        const { revision, deleted } = await commands.deleteByFilter(filter, preconditions, limit);
        return { deletedAt: { token: await commands.tokenFor(revision) }, relationshipsDeletedCount: deleted };
      },
    ),

    ReadRelationships: serverStreamHandler(
      "ReadRelationships",
      logger,
      async (request: WireReadRelationshipsRequest, sink: ServerStreamSink<WireReadRelationshipsResponse>): Promise<void> => {
        const filter = filterFromWire(request.relationshipFilter, "relationship_filter", false);
        const limit = request.optionalLimit ?? 0;
        if (limit > limits.maxReadPageSize) {
          throw new InvalidArgumentError(
            `optional_limit: ${limit} is greater than the maximum of ${limits.maxReadPageSize} (maxReadPageSize)`,
            { field: "optional_limit" },
          );
        }
        const fingerprint = filterFingerprint(filter);
        const { revision, after } = await readPosition(commands, request.optionalCursor?.token, request.consistency, fingerprint, "relationship_filter");
        const datastoreTag = await commands.datastoreTag();
        const readAt = { token: await commands.tokenFor(revision) };
        for await (const relationship of commands.read(filter, revision, after, limit === 0 ? undefined : limit)) {
          if (sink.cancelled) return;
          const afterResultCursor = { token: encodeReadCursor({ datastoreTag, revision, filterFingerprint: fingerprint, after: relationship }) };
          await sink.send({ readAt, relationship: relationshipToWire(relationship), afterResultCursor });
        }
      },
    ),

    ImportBulkRelationships: clientStreamHandler(
      "ImportBulkRelationships",
      logger,
      async (messages: AsyncIterable<WireImportBulkRelationshipsRequest>, _log, signal): Promise<WireImportBulkRelationshipsResponse> => {
        async function* batches(): AsyncGenerator<readonly Relationship[]> {
          let index = 0;
          for await (const message of messages) {
            const wire = message.relationships ?? [];
            enforceCountLimit(wire.length, limits.maxUpdatesPerWrite, `message[${index}].relationships`, "relationships", "maxUpdatesPerWrite");
            yield wire.map((relationship, i) => relationshipFromWire(relationship, `message[${index}].relationships[${i}]`));
            index++;
          }
        }
        const { revision, imported } = await commands.importRelationships(batches(), undefined, signal);
        return { numLoaded: imported, writtenAt: { token: await commands.tokenFor(revision) } };
      },
    ),

    ExportBulkRelationships: serverStreamHandler(
      "ExportBulkRelationships",
      logger,
      async (request: WireExportBulkRelationshipsRequest, sink: ServerStreamSink<WireExportBulkRelationshipsResponse>): Promise<void> => {
        const filter = filterFromWire(request.optionalRelationshipFilter, "optional_relationship_filter", false);
        const batchSize = request.optionalLimit || Math.min(DEFAULT_EXPORT_BATCH, limits.maxReadPageSize);
        if (batchSize > limits.maxReadPageSize) {
          throw new InvalidArgumentError(
            `optional_limit: ${batchSize} is greater than the maximum of ${limits.maxReadPageSize} (maxReadPageSize)`,
            { field: "optional_limit" },
          );
        }
        const fingerprint = filterFingerprint(filter);
        const { revision, after } = await readPosition(commands, request.optionalCursor?.token, request.consistency, fingerprint, "optional_relationship_filter");
        const datastoreTag = await commands.datastoreTag();
        const readAt = { token: await commands.tokenFor(revision) };
        let batch: Relationship[] = [];
        const flush = async () => {
          const last = batch[batch.length - 1];
          if (last === undefined) return;
          const afterResultCursor = { token: encodeReadCursor({ datastoreTag, revision, filterFingerprint: fingerprint, after: last }) };
          await sink.send({ afterResultCursor, relationships: batch.map(relationshipToWire), readAt });
          batch = [];
        };
        for await (const relationship of commands.read(filter, revision, after, undefined, EXPORT_STORE_PAGE)) {
          if (sink.cancelled) return;
          batch.push(relationship);
          if (batch.length >= batchSize) await flush();
        }
        await flush();
      },
    ),

    LookupResources: serverStreamHandler(
      "LookupResources",
      logger,
      async (request: WireLookupResourcesRequest, sink: ServerStreamSink<WireLookupResourcesResponse>): Promise<void> => {
        const lookup = lookupResourcesRequestFromWire(request);
        const limit = lookupLimit(request.optionalLimit, limits);
        const fingerprint = lookupResourcesFingerprint(lookup);
        const { at, after } = await lookupPosition(commands, request.optionalCursor?.token, request.consistency, "LookupResources", fingerprint);
        const { revision, results } = await commands.lookupResources(at, lookup, { after, limit, signal: sink.signal });
        const cursorAfter = await lookupCursorFactory(commands, "LookupResources", revision, fingerprint);
        const lookedUpAt = { token: await commands.tokenFor(revision) };
        await sendInBatches(results, sink, lookupResourceToWire, (batch, last) => ({ lookedUpAt, results: batch, afterResultCursor: cursorAfter(last.id) }));
      },
    ),

    LookupSubjects: serverStreamHandler(
      "LookupSubjects",
      logger,
      async (request: WireLookupSubjectsRequest, sink: ServerStreamSink<WireLookupSubjectsResponse>): Promise<void> => {
        const lookup = lookupSubjectsRequestFromWire(request);
        const limit = lookupLimit(request.optionalLimit, limits);
        const fingerprint = lookupSubjectsFingerprint(lookup);
        const { at, after } = await lookupPosition(commands, request.optionalCursor?.token, request.consistency, "LookupSubjects", fingerprint);
        const { revision, results } = await commands.lookupSubjects(at, lookup, { after, limit, signal: sink.signal });
        const cursorAfter = await lookupCursorFactory(commands, "LookupSubjects", revision, fingerprint);
        const lookedUpAt = { token: await commands.tokenFor(revision) };
        await sendInBatches(results, sink, resolvedSubjectsToWire, (batch, last) => ({ lookedUpAt, results: batch, afterResultCursor: cursorAfter(last.id) }));
      },
    ),
  };
}

// A lookup's first message carries up to FIRST_LOOKUP_BATCH results, so that the first arrives
// soon; the others up to LOOKUP_BATCH. One message per result costs ~40 µs of gRPC on each side
// (measured here: 95,000 results took 4 s that way, the engine 0.2 s of it).
const FIRST_LOOKUP_BATCH = 100;
const LOOKUP_BATCH = 1_000;

/**
 * sendInBatches sends `results` in messages of several results each (see LOOKUP_BATCH), built by
 * `message` from a batch and its last result, giving the event loop a turn after each message; it
 * stops early when the client goes away.
 */
async function sendInBatches<Result, WireResult, Response>(
  results: Iterable<Result>,
  sink: ServerStreamSink<Response>,
  toWire: (result: Result) => WireResult,
  message: (batch: WireResult[], last: Result) => Response,
): Promise<void> {
  let batch: WireResult[] = [];
  let last: Result | undefined;
  let size = FIRST_LOOKUP_BATCH;
  for (const result of results) {
    batch.push(toWire(result));
    last = result;
    if (batch.length < size) continue;
    await sink.send(message(batch, result));
    batch = [];
    size = LOOKUP_BATCH;
    // Let the event loop write the message out (and serve other calls) before the next batch.
    await new Promise((resolve) => setImmediate(resolve));
    if (sink.cancelled) return;
  }
  if (last !== undefined && batch.length > 0 && !sink.cancelled) await sink.send(message(batch, last));
}

/**
 * lookupLimit is a lookup's `optional_limit` as the engine takes it: 0 (proto3's unset) is no cap
 * (undefined), as in SpiceDB; above maxLookupPageSize is InvalidArgumentError.
 */
function lookupLimit(wire: number | null | undefined, limits: ApiLimits): number | undefined {
  const limit = wire ?? 0;
  if (limit > limits.maxLookupPageSize) {
    throw new InvalidArgumentError(
      `optional_limit: ${limit} is greater than the maximum of ${limits.maxLookupPageSize} (maxLookupPageSize); page through the results with optional_cursor`,
      { field: "optional_limit" },
    );
  }
  return limit === 0 ? undefined : limit;
}

/**
 * lookupPosition is where a lookup starts: at the revision pinned in `cursorToken`, after the
 * result it names (the cursor verified to come from this datastore, within the kept history, from
 * a `kind` call of the same query, and not contradicted by `consistency`), or, without a cursor,
 * at the revision `consistency` asks for, from the first result.
 */
async function lookupPosition(
  commands: MandateCommands,
  cursorToken: string | null | undefined,
  wireConsistency: WireConsistency | null | undefined,
  kind: LookupKind,
  fingerprint: string,
): Promise<{ at: LookupAt; after: string | undefined }> {
  const consistency = consistencyFromWire(wireConsistency);
  if (!cursorToken) return { at: consistency, after: undefined };
  const cursor = decodeLookupCursor(cursorToken, "optional_cursor");
  refuseForeignCursor(cursor, kind, fingerprint, "optional_cursor");
  refuseConflictingConsistency(cursor, consistency, "optional_cursor");
  await commands.verifyPinnedRevision(cursor, "optional_cursor");
  return { at: { kind: "pinned", revision: cursor.revision }, after: cursor.after };
}

// lookupCursorFactory returns the after_result_cursor builder of one lookup stream.
async function lookupCursorFactory(commands: MandateCommands, kind: LookupKind, revision: Revision, queryFingerprint: string) {
  const datastoreTag = await commands.datastoreTag();
  return (after: string) => ({ token: encodeLookupCursor({ kind, datastoreTag, revision, queryFingerprint, after }) });
}

/**
 * readPosition is where a paged read starts: the snapshot and position pinned in `cursorToken`
 * (verified to be this datastore's, within the kept history, and issued for the same filter), or,
 * without a cursor, the revision `consistency` asks for, from the beginning.
 */
async function readPosition(
  commands: MandateCommands,
  cursorToken: string | null | undefined,
  consistency: WireConsistency | null | undefined,
  fingerprint: string,
  filterField: string,
): Promise<{ revision: Revision; after: Relationship | undefined }> {
  if (!cursorToken) return { revision: await commands.readRevision(consistencyFromWire(consistency)), after: undefined };
  const cursor = decodeReadCursor(cursorToken, "optional_cursor");
  if (cursor.filterFingerprint !== fingerprint) {
    throw new InvalidArgumentError(`optional_cursor: the cursor was issued for a different ${filterField}`, { field: "optional_cursor" });
  }
  await commands.verifyPinnedRevision(cursor, "optional_cursor");
  return { revision: cursor.revision, after: cursor.after };
}
