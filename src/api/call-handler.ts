import type { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Metadata, ServerInterceptingCall, status } from "@grpc/grpc-js";
import type {
  ServerInterceptingCallInterface,
  ServerInterceptor,
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
import type { CallObserver, ObservedCall } from "./call-observer.ts";
import { toGrpcStatus } from "./errors.ts";

// Every call gets a request id (the caller's `x-request-id` if it sent a sane one), echoed in the
// response headers and present on every log line of the call, and one info line when it ends with
// method, status and duration (see callLogInterceptor). Request bodies are never logged here: they
// may hold caveat contexts.
const REQUEST_ID_HEADER = "x-request-id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Only mandate.v1 calls get the "call finished" line; health probes would drown it.
const LOGGED_PATH_PREFIX = "/mandate.v1.";

function requestIdOf(metadata: Metadata): string {
  const offered = metadata.get(REQUEST_ID_HEADER)[0];
  return typeof offered === "string" && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
}

function startCall(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown>,
  method: string,
  logger: Logger,
) {
  const requestId = requestIdOf(call.metadata);
  const headers = new Metadata();
  headers.set(REQUEST_ID_HEADER, requestId);
  call.sendMetadata(headers);
  return { log: logger.child({ requestId, method }) };
}

/**
 * callLogInterceptor is the server interceptor that writes one info line, "call finished", per
 * mandate.v1 call, with the status the client was actually sent. A handler cannot know it: after
 * it hands over a response, gRPC may still fail the call (a response larger than the maximum
 * message size becomes RESOURCE_EXHAUSTED, a failed write INTERNAL) without telling it. So the
 * status is recorded here only when it passes on its way out, and a call that ends without one is
 * logged as what ended it: a response that was never sent (`responseNotSent`, code UNKNOWN, as
 * gRPC chose the status itself), the deadline (DEADLINE_EXCEEDED) or the client (CANCELLED). It
 * also picks the call's request id and puts it in the request metadata, where the handler reads it.
 * Each of `observers` (metrics, tracing) is told when a mandate.v1 call starts and how it ended.
 */
export function callLogInterceptor(logger: Logger, observers: readonly CallObserver[] = []): ServerInterceptor {
  return (methodDescriptor, next) => {
    const path = methodDescriptor.path;
    const method = path.slice(path.lastIndexOf("/") + 1);
    // "/mandate.v1.PermissionsService/CheckPermission" -> "PermissionsService"
    const service = path.slice(path.lastIndexOf(".", path.lastIndexOf("/")) + 1, path.lastIndexOf("/"));
    return new CallOutcomeLogger(next, path.startsWith(LOGGED_PATH_PREFIX) ? { logger, method, service, observers } : undefined);
  };
}

interface LoggedCall {
  readonly logger: Logger;
  readonly method: string;
  readonly service: string;
  readonly observers: readonly CallObserver[];
}

// grpc-js does not export these two types by name.
type InterceptingServerListener = Parameters<ServerInterceptingCallInterface["start"]>[0];
type PartialStatusObject = Parameters<ServerInterceptingCallInterface["sendStatus"]>[0];

// One call's outcome as it passes through; see callLogInterceptor.
class CallOutcomeLogger extends ServerInterceptingCall {
  readonly #log: LoggedCall | undefined;
  readonly #next: ServerInterceptingCallInterface;
  readonly #started = performance.now();
  #requestId: string | undefined;
  #sentStatus: status | undefined;
  #unsentMessages = 0;
  #ended = false;
  #observed: ObservedCall[] = [];

  constructor(next: ServerInterceptingCallInterface, log: LoggedCall | undefined) {
    super(next);
    this.#next = next;
    this.#log = log;
  }

  override start(listener: InterceptingServerListener): void {
    super.start({
      onReceiveMetadata: (metadata: Metadata) => {
        const requestId = requestIdOf(metadata);
        this.#requestId = requestId;
        metadata.set(REQUEST_ID_HEADER, requestId);
        if (this.#log !== undefined && !this.#ended) {
          const { service, method } = this.#log;
          this.#observed = this.#log.observers.map((observer) => observer.start({ service, method, requestId, metadata }));
        }
        this.#within(() => listener.onReceiveMetadata(metadata));
      },
      onReceiveMessage: (message: unknown) => this.#within(() => listener.onReceiveMessage(message)),
      onReceiveHalfClose: () => this.#within(() => listener.onReceiveHalfClose()),
      // gRPC calls this once the call is over, however it ended (after a status, too).
      onCancel: () => {
        this.#finish();
        listener.onCancel();
      },
    });
  }

  override sendMessage(message: unknown, callback: () => void): void {
    this.#unsentMessages++;
    super.sendMessage(message, () => {
      this.#unsentMessages--;
      callback();
    });
  }

  override sendStatus(statusObject: PartialStatusObject): void {
    // A status sent after the call already ended (the client went away) never reaches the client.
    if (!this.#ended) this.#sentStatus = statusObject.code;
    super.sendStatus(statusObject);
  }

  // Runs the handler's part of the call inside each observer's `within` (a trace span's context).
  #within(deliver: () => void): void {
    const run = this.#observed.reduce((inner, observed) => (observed.within === undefined ? inner : () => observed.within?.(inner)), deliver);
    run();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#log === undefined) return;
    const seconds = (performance.now() - this.#started) / 1000;
    const fields = { requestId: this.#requestId, method: this.#log.method, durationMs: Math.round(seconds * 1_000_000) / 1000 };
    const code = this.#endingCode();
    const responseNotSent = this.#sentStatus === undefined && this.#unsentMessages > 0;
    this.#log.logger.info({ ...fields, code: status[code], ...(responseNotSent ? { responseNotSent } : {}) }, "call finished");
    for (const observed of this.#observed) observed.finish({ code, durationSeconds: seconds });
  }

  // The status the client was sent, or what ended the call without one (see callLogInterceptor).
  #endingCode(): status {
    if (this.#sentStatus !== undefined) return this.#sentStatus;
    if (this.#unsentMessages > 0) return status.UNKNOWN;
    const deadline = this.#next.getDeadline();
    const expired = (deadline instanceof Date ? deadline.getTime() : deadline) <= Date.now();
    return expired ? status.DEADLINE_EXCEEDED : status.CANCELLED;
  }
}

/**
 * unaryHandler adapts `handle` to grpc-js: it runs with a per-call child logger and a signal that
 * aborts when the call ends early (the client cancels, or its deadline passes: gRPC reports both
 * as cancellation), and whatever it throws is converted once by toGrpcStatus.
 */
export function unaryHandler<Request, Response>(
  method: string,
  logger: Logger,
  handle: (request: Request, log: Logger, signal: AbortSignal) => Promise<Response>,
): handleUnaryCall<Request, Response> {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
    const { log } = startCall(call, method, logger);
    answer(handle(call.request, log, cancellationOf(call)), callback, log);
  };
}

// cancellationOf is a signal that aborts when the call ends before its handler is done. gRPC also
// emits 'cancelled' after a call ends normally; aborting then is harmless, nothing listens anymore.
function cancellationOf(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown>,
): AbortSignal {
  const cancellation = new AbortController();
  if (call.cancelled) cancellation.abort(new CallCancelledError("the client cancelled the call or its deadline passed"));
  // Every kind of call is an EventEmitter with a 'cancelled' event; the union of their typings is not callable.
  (call as EventEmitter).on("cancelled", () => cancellation.abort(new CallCancelledError("the client cancelled the call or its deadline passed")));
  return cancellation.signal;
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
    const { log } = startCall(call, method, logger);
    const signal = cancellationOf(call);
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
      signal,
    };
    handle(call.request, sink, log).then(
      () => {
        call.end();
      },
      (error: unknown) => {
        const failure = toGrpcStatus(error, log);
        call.emit("error", { code: failure.code, details: failure.details });
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
  handle: (messages: AsyncIterable<Request>, log: Logger, signal: AbortSignal) => Promise<Response>,
): handleClientStreamingCall<Request, Response> {
  return (call: ServerReadableStream<Request, Response>, callback: sendUnaryData<Response>) => {
    const { log } = startCall(call, method, logger);
    answer(handle(untilHalfClose(call), log, cancellationOf(call)), callback, log);
  };
}

// answer sends a single-response call's outcome: the response, or the error as its gRPC status.
function answer<Response>(outcome: Promise<Response>, callback: sendUnaryData<Response>, log: Logger): void {
  outcome.then(
    (response) => {
      callback(null, response);
    },
    (error: unknown) => {
      const failure = toGrpcStatus(error, log);
      callback({ code: failure.code, details: failure.details });
      // Messages may quote a relationship with its caveat context: keep them out of info logs.
      log.debug({ details: failure.details }, "call failed");
    },
  );
}

// A client that goes away mid-stream must not look like one that finished sending: the messages
// end with an error then, so that an import is never committed from part of its input.
// A reset stream ends its messages before grpc-js marks the call cancelled (on the stream's
// 'close', measured here 1-2 ms and more than one event-loop turn later), and grpc-js offers no
// way to tell a reset from a half-close at the end itself. So the end is trusted only after a
// grace period: a cost of HALF_CLOSE_GRACE_MS per bulk import, against committing part of an
// import its client abandoned (pinned by test/e2e/bulk-import-export.test.ts, "commits nothing
// of an import whose client fails mid-stream"); the store checks the signal again before COMMIT.
const HALF_CLOSE_GRACE_MS = 50;

async function* untilHalfClose<Request>(call: ServerReadableStream<Request, unknown>): AsyncGenerator<Request> {
  for await (const message of call as AsyncIterable<Request>) yield message;
  await new Promise((resolve) => setTimeout(resolve, HALF_CLOSE_GRACE_MS));
  if (call.cancelled) throw new CallCancelledError("the client cancelled the call before it finished sending");
}

/** CallCancelledError: the client went away during a call; nothing it started is committed. */
class CallCancelledError extends AuthzError {
  override name = "CallCancelledError";
  readonly code = "aborted";
}
