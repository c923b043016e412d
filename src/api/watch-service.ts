import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { assertNever, validateTypeName } from "../tuple/index.ts";
import type { Change } from "../store/index.ts";
import { StoreUnavailableError } from "../store/index.ts";
import type { MandateCommands } from "./mandate-commands.ts";
import type { ServerStreamSink } from "./call-handler.ts";
import { serverStreamHandler } from "./call-handler.ts";
import { decodeZedToken } from "./consistency-token.ts";
import { relationshipToWire } from "./to-proto.ts";
import type { WireRelationshipUpdate, WireWatchRequest, WireWatchResponse } from "./wire-types.ts";

/**
 * watchServiceHandlers implements mandate.v1.WatchService. A Watch runs until the client cancels
 * (the store's watch is aborted with it) or `stopping` aborts (server shutdown), which ends the
 * stream with UNAVAILABLE so that the client reconnects, to another replica if need be, and
 * resumes from its last changes_through.
 */
export function watchServiceHandlers(commands: MandateCommands, logger: Logger, stopping: AbortSignal): UntypedServiceImplementation {
  return {
    Watch: serverStreamHandler(
      "Watch",
      logger,
      async (request: WireWatchRequest, sink: ServerStreamSink<WireWatchResponse>): Promise<void> => {
        const types = new Set<string>();
        (request.optionalObjectTypes ?? []).forEach((type, i) => {
          validateTypeName(type, `optional_object_types[${i}]`);
          types.add(type);
        });
        const startToken = request.optionalStartCursor?.token;
        const start = startToken ? decodeZedToken(startToken, "optional_start_cursor") : undefined;
        const signal = AbortSignal.any([sink.signal, stopping]);
        for await (const changeSet of commands.watch(start, types, signal)) {
          if (sink.cancelled) return;
          await sink.send({ updates: changeSet.changes.map(changeToWire), changesThrough: { token: await commands.tokenFor(changeSet.revision) } });
        }
        if (stopping.aborted && !sink.cancelled) {
          throw new StoreUnavailableError("the server is shutting down; reconnect and resume from the last changes_through");
        }
      },
    ),
  };
}

function changeToWire(change: Change): WireRelationshipUpdate {
  switch (change.operation) {
    case "touch":
      return { operation: "OPERATION_TOUCH", relationship: relationshipToWire(change.relationship) };
    case "delete":
      return { operation: "OPERATION_DELETE", relationship: relationshipToWire(change.relationship) };
    default:
      return assertNever(change.operation, "change operation");
  }
}
