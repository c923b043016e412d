import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Metadata, status } from "@grpc/grpc-js";
import type {
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { AuthzError } from "../tuple/index.ts";
import { toGrpcStatus } from "./errors.ts";

// Every call gets a request id (the caller's `x-request-id` if it sent a sane one), echoed in the
// response headers and present on every log line of the call, and one info line when it ends with
// method, status and duration. Request bodies are never logged here: they may hold caveat contexts.
const REQUEST_ID_HEADER = "x-request-id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function startCall(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown>,
  method: string,
  logger: Logger,
) {
  const offered = call.metadata.get(REQUEST_ID_HEADER)[0];
  const requestId = typeof offered === "string" && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
  const headers = new Metadata();
  headers.set(REQUEST_ID_HEADER, requestId);
  call.sendMetadata(headers);
  const log = logger.child({ requestId, method });
  const started = performance.now();
  const finish = (code: status) => {
    log.info({ code: status[code], durationMs: Math.round((performance.now() - started) * 1000) / 1000 }, "call finished");
  };
  return { log, finish };
}

/**
 * unaryHandler adapts `handle` to grpc-js: it runs with a per-call child logger, and whatever it
 * throws is converted once by toGrpcStatus.
 */
export function unaryHandler<Request, Response>(
  method: string,
  logger: Logger,
  handle: (request: Request, log: Logger) => Promise<Response>,
): handleUnaryCall<Request, Response> {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
    const { log, finish } = startCall(call, method, logger);
    handle(call.request, log).then(
      (response) => {
        callback(null, response);
        finish(status.OK);
      },
      (error: unknown) => {
        const failure = toGrpcStatus(error, log);
        callback({ code: failure.code, details: failure.details });
        finish(failure.code);
        // Messages may quote a relationship with its caveat context: keep them out of info logs.
        log.debug({ details: failure.details }, "call failed");
      },
    );
  };
}

/**
 * ServerStreamSink lets a streaming handler send messages with backpressure and learn whether the
 * client has gone away.
 */
export interface ServerStreamSink<Response> {
  /** send writes one message, waiting while the transport's buffer is full. */
  send(message: Response): Promise<void>;
  /** cancelled is true once the client has cancelled; handlers stop producing then. */
  readonly cancelled: boolean;
  /** signal aborts when the client cancels or goes away, for handlers that wait (Watch). */
  readonly signal: AbortSignal;
}

/** serverStreamHandler is unaryHandler for server-streaming methods; `handle` returns when done. */
export function serverStreamHandler<Request, Response>(
  method: string,
  logger: Logger,
  handle: (request: Request, sink: ServerStreamSink<Response>, log: Logger) => Promise<void>,
): handleServerStreamingCall<Request, Response> {
  return (call: ServerWritableStream<Request, Response>) => {
    const { log, finish } = startCall(call, method, logger);
    const cancellation = new AbortController();
    call.on("cancelled", () => cancellation.abort());
    const sink: ServerStreamSink<Response> = {
      async send(message) {
        if (call.write(message) || call.cancelled) return;
        // Resume on drain, or give up waiting if the client goes away meanwhile.
        await new Promise<void>((resolve) => {
          const done = () => {
            call.off("drain", done);
            call.off("cancelled", done);
            resolve();
          };
          call.on("drain", done);
          call.on("cancelled", done);
        });
      },
      get cancelled() {
        return call.cancelled;
      },
      signal: cancellation.signal,
    };
    handle(call.request, sink, log).then(
      () => {
        call.end();
        finish(call.cancelled ? status.CANCELLED : status.OK);
      },
      (error: unknown) => {
        const failure = toGrpcStatus(error, log);
        call.emit("error", { code: failure.code, details: failure.details });
        finish(failure.code);
        log.debug({ details: failure.details }, "call failed");
      },
    );
  };
}

/**
 * clientStreamHandler is unaryHandler for client-streaming methods: `handle` consumes the
 * request messages as they arrive and returns the one response. If it fails before the client
 * has finished sending, the call fails at once with its status (the rest is not read).
 */
export function clientStreamHandler<Request, Response>(
  method: string,
  logger: Logger,
  handle: (messages: AsyncIterable<Request>, log: Logger) => Promise<Response>,
): handleClientStreamingCall<Request, Response> {
  return (call: ServerReadableStream<Request, Response>, callback: sendUnaryData<Response>) => {
    const { log, finish } = startCall(call, method, logger);
    handle(untilHalfClose(call), log).then(
      (response) => {
        callback(null, response);
        finish(status.OK);
      },
      (error: unknown) => {
        const failure = toGrpcStatus(error, log);
        callback({ code: failure.code, details: failure.details });
        finish(failure.code);
        log.debug({ details: failure.details }, "call failed");
      },
    );
  };
}

// A client that goes away mid-stream must not look like one that finished sending: the messages
// end with an error then, so that an import is never committed from part of its input.
async function* untilHalfClose<Request>(call: ServerReadableStream<Request, unknown>): AsyncGenerator<Request> {
  for await (const message of call as AsyncIterable<Request>) yield message;
  if (call.cancelled) throw new CallCancelledError("the client cancelled the call before it finished sending");
}

/** CallCancelledError: the client went away during a call; nothing it started is committed. */
class CallCancelledError extends AuthzError {
  override name = "CallCancelledError";
  readonly code = "aborted";
}
