import type { Metadata, status } from "@grpc/grpc-js";

/**
 * ObservedCallStart describes a mandate.v1 call as it begins: `service` and `method` come from
 * the proto's path (`/mandate.v1.PermissionsService/CheckPermission` gives `PermissionsService`
 * and `CheckPermission`; gRPC only lets registered methods through, so both are bounded),
 * `requestId` is the call's request id, `metadata` the request metadata (for trace context; it
 * also holds the authorization header: never record it).
 */
export interface ObservedCallStart {
  readonly service: string;
  readonly method: string;
  readonly requestId: string;
  readonly metadata: Metadata;
}

/**
 * ObservedCallEnd is how a call ended: `code` is the status the client was actually sent (or
 * what ended the call without one, see callLogInterceptor) and `durationSeconds` the time since
 * the call reached the server.
 */
export interface ObservedCallEnd {
  readonly code: status;
  readonly durationSeconds: number;
}

/** ObservedCall is one call being watched by a CallObserver. */
export interface ObservedCall {
  /** finish is called exactly once, when the call is over. */
  finish(outcome: ObservedCallEnd): void;
  /**
   * within, if present, runs the handler's part of the call (the delivery of each request
   * message and of the half-close) inside `fn`, e.g. to make a trace span the active one.
   */
  within?<T>(fn: () => T): T;
}

/**
 * CallObserver watches every mandate.v1 call (not health checks or reflection) from the moment
 * its metadata arrives until it ends, for metrics and tracing. callLogInterceptor drives it, as
 * the outermost interceptor: it sees calls that later interceptors (authentication, limits)
 * refuse, with the status they sent.
 */
export interface CallObserver {
  start(call: ObservedCallStart): ObservedCall;
}
