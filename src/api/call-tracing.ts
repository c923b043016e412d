import { status } from "@grpc/grpc-js";
import type { Metadata } from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode, context, propagation, trace } from "@opentelemetry/api";
import type { TextMapGetter } from "@opentelemetry/api";
import type { CallObserver, ObservedCall, ObservedCallStart } from "./call-observer.ts";

/** TRACER_NAME is the instrumentation scope of Mandate's spans. */
const TRACER_NAME = "mandate";

// The codes that OpenTelemetry's RPC conventions count as a server's error; the others (a refused
// argument, a missing key, a denied permission) are the client's and leave the span's status unset.
const SERVER_ERRORS: ReadonlySet<status> = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

// Reads W3C trace context (`traceparent`, `tracestate`) and whatever else the registered
// propagator wants from the request metadata; binary (`-bin`) values are skipped.
const METADATA_GETTER: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).filter((value): value is string => typeof value === "string");
    return values.length === 0 ? undefined : values;
  },
};

/**
 * CallTracing is the CallObserver that gives each mandate.v1 call a SERVER span, named
 * `mandate.v1.PermissionsService/CheckPermission`, with the attributes `rpc.system` (grpc),
 * `rpc.service`, `rpc.method`, `mandate.request_id`, and when it ends `rpc.grpc.status_code` and
 * `rpc.response.status_code` (the status name); the span's status is ERROR for the codes that mean
 * the server failed. The span continues the caller's trace when the metadata carries one (through
 * the registered propagator), and is the active span while the handler runs, so spans that
 * instrumentations create meanwhile (e.g. for Postgres queries) nest under it.
 *
 * Spans go to the global tracer provider of @opentelemetry/api, looked up per call: until the
 * operator registers an SDK (README, "Metrics and tracing"), it is the no-op provider and
 * nothing is recorded.
 */
export class CallTracing implements CallObserver {
  start(call: ObservedCallStart): ObservedCall {
    const parent = propagation.extract(context.active(), call.metadata, METADATA_GETTER);
    const span = trace.getTracer(TRACER_NAME).startSpan(
      `mandate.v1.${call.service}/${call.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": "grpc",
          "rpc.service": `mandate.v1.${call.service}`,
          "rpc.method": call.method,
          "mandate.request_id": call.requestId,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    return {
      within: (fn) => context.with(active, fn),
      finish: ({ code }) => {
        const name = status[code];
        span.setAttributes({ "rpc.grpc.status_code": code, "rpc.response.status_code": name });
        if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: name });
        span.end();
      },
    };
  }
}
