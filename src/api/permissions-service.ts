import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Relationship } from "../tuple/index.ts";
import { InvalidArgumentError } from "../tuple/index.ts";
import type { MandateCommands } from "./mandate-commands.ts";
import type { ApiLimits } from "./limits.ts";
import { enforceCountLimit } from "./limits.ts";
import type { ServerStreamSink } from "./call-handler.ts";
import { serverStreamHandler, unaryHandler } from "./call-handler.ts";
import { toGrpcStatus } from "./errors.ts";
import {
  checkRequestFromWire,
  consistencyFromWire,
  filterFromWire,
  expandRequestFromWire,
  preconditionFromWire,
  updateFromWire,
} from "./from-proto.ts";
import { decodeReadCursor, encodeReadCursor, filterFingerprint } from "./read-cursor.ts";
import { checkResultToWire, expandTreeToWire, relationshipToWire, traceToWire, zedTokenToWire } from "./to-proto.ts";
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
} from "./wire-types.ts";

/**
 * permissionsServiceHandlers implements mandate.v1.PermissionsService: each handler decodes the
 * request (from-proto), runs one command and encodes the answer (to-proto).
 */
export function permissionsServiceHandlers(commands: MandateCommands, limits: ApiLimits, logger: Logger): UntypedServiceImplementation {
  return {
    CheckPermission: unaryHandler(
      "CheckPermission",
      logger,
      async (request: WireCheckPermissionRequest): Promise<WireCheckPermissionResponse> => {
        const consistency = consistencyFromWire(request.consistency);
        const check = checkRequestFromWire(request, "");
        const withTracing = request.withTracing === true;
        const { revision, result } = await commands.check(consistency, check, withTracing);
        return {
          checkedAt: zedTokenToWire(revision),
          ...checkResultToWire(result),
          debugTrace: withTracing && result.trace ? traceToWire(result.trace) : null,
        };
      },
    ),

    CheckBulkPermissions: unaryHandler(
      "CheckBulkPermissions",
      logger,
      async (request: WireCheckBulkPermissionsRequest, log): Promise<WireCheckBulkPermissionsResponse> => {
        const consistency = consistencyFromWire(request.consistency);
        const wireItems = request.items ?? [];
        enforceCountLimit(wireItems.length, limits.maxChecksPerBatch, "items", "checks", "maxChecksPerBatch");
        const items = wireItems.map((item, i) => {
          try {
            return { request: checkRequestFromWire(item, `items[${i}]`), field: `items[${i}]` };
          } catch (error) {
            return { error };
          }
        });
        const { revision, outcomes } = await commands.checkBulk(consistency, items);
        const pairs = outcomes.map((outcome, i): WireCheckBulkPermissionsPair => {
          const echoed = wireItems[i] ?? null;
          if ("result" in outcome) return { request: echoed, item: checkResultToWire(outcome.result) };
          const failure = toGrpcStatus(outcome.error, log);
          return { request: echoed, error: { code: failure.code, message: failure.details } };
        });
        return { checkedAt: zedTokenToWire(revision), pairs };
      },
    ),

    ExpandPermissionTree: unaryHandler(
      "ExpandPermissionTree",
      logger,
      async (request: WireExpandPermissionTreeRequest): Promise<WireExpandPermissionTreeResponse> => {
        const consistency = consistencyFromWire(request.consistency);
        const { resource, permission } = expandRequestFromWire(request);
        const { revision, tree } = await commands.expand(consistency, resource, permission);
        return { expandedAt: zedTokenToWire(revision), treeRoot: expandTreeToWire(tree) };
      },
    ),

    WriteRelationships: unaryHandler(
      "WriteRelationships",
      logger,
      async (request: WireWriteRelationshipsRequest): Promise<WireWriteRelationshipsResponse> => {
        const wireUpdates = request.updates ?? [];
        // Count before decoding so that an oversized write is refused cheaply.
        enforceCountLimit(wireUpdates.length, limits.maxUpdatesPerWrite, "updates", "updates", "maxUpdatesPerWrite");
        const updates = wireUpdates.map((update, i) => updateFromWire(update, `updates[${i}]`));
        const preconditions = (request.optionalPreconditions ?? []).map((p, i) => preconditionFromWire(p, `optional_preconditions[${i}]`));
        const revision = await commands.write(updates, preconditions);
        return { writtenAt: zedTokenToWire(revision) };
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
        return { deletedAt: zedTokenToWire(revision), relationshipsDeletedCount: deleted };
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
        const cursorToken = request.optionalCursor?.token;
        let revision: number;
        let after: Relationship | undefined;
        if (cursorToken) {
          const cursor = decodeReadCursor(cursorToken, "optional_cursor");
          if (cursor.filterFingerprint !== fingerprint) {
            throw new InvalidArgumentError("optional_cursor: the cursor was issued for a different relationship_filter", { field: "optional_cursor" });
          }
          revision = cursor.revision;
          after = cursor.after;
        } else {
          revision = await commands.readRevision(consistencyFromWire(request.consistency));
        }
        const readAt = zedTokenToWire(revision);
        for await (const relationship of commands.read(filter, revision, after, limit === 0 ? undefined : limit)) {
          if (sink.cancelled) return;
          const afterResultCursor = { token: encodeReadCursor({ revision, filterFingerprint: fingerprint, after: relationship }) };
          await sink.send({ readAt, relationship: relationshipToWire(relationship), afterResultCursor });
        }
      },
    ),
  };
}
