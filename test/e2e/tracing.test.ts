import { AsyncLocalStorage } from "node:async_hooks";
import { Metadata } from "@grpc/grpc-js";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import type { Context, ContextManager } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/store/index.ts";
import type { Harness } from "./harness.ts";
import { rejection, startHarness } from "./harness.ts";

// Spans go through @opentelemetry/api's global tracer provider: the operator registers an SDK
// (README, "Metrics and tracing"); here, the SDK's in-memory exporter stands in for a collector.

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

// A store that notes which span is active when the server reads the schema from it.
const activeSpanIds: Array<string | undefined> = [];
class SpanNotingStore extends MemoryStore {
  override async readSchema() {
    activeSpanIds.push(trace.getActiveSpan()?.spanContext().spanId);
    return super.readSchema();
  }
}

// The context manager an SDK registers on Node (AsyncLocalStorage), reduced to what the test needs.
class AsyncLocalStorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ store: async () => new SpanNotingStore() });
  await h.client.writeSchema({ schema: "definition user {}\n\ndefinition document {\n  relation viewer: user\n}\n" });
});
afterAll(async () => {
  await h.close();
});
afterEach(() => {
  trace.disable();
  context.disable();
  exporter.reset();
  activeSpanIds.length = 0;
});

// The span ends when gRPC reports the call over, just after the client hears the status.
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

function check(permission: string) {
  return { resource: { objectType: "document", objectId: "readme" }, permission, subject: { object: { objectType: "user", objectId: "ann" } } };
}

describe("tracing", () => {
  it("records a server span per call, with method, status and request id, once a tracer provider is registered", async () => {
    trace.setGlobalTracerProvider(provider);
    const metadata = new Metadata();
    metadata.set("x-request-id", "trace-test-1");
    await h.client.check(check("viewer"), { metadata });
    await rejection(h.client.check(check("no_such_permission")));
    await settle();

    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(["mandate.v1.PermissionsService/CheckPermission", "mandate.v1.PermissionsService/CheckPermission"]);
    const [ok, failed] = spans;
    expect(ok?.kind).toBe(SpanKind.SERVER);
    expect(ok?.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "mandate.v1.PermissionsService",
      "rpc.method": "CheckPermission",
      "mandate.request_id": "trace-test-1",
      "rpc.grpc.status_code": 0,
      "rpc.response.status_code": "OK",
    });
    expect(ok?.status.code).toBe(SpanStatusCode.UNSET);
    // A request the schema cannot answer is the client's error, not the server's.
    expect(failed?.attributes).toMatchObject({ "rpc.response.status_code": "FAILED_PRECONDITION" });
    expect(failed?.status.code).toBe(SpanStatusCode.UNSET);
    expect(failed?.attributes["mandate.request_id"]).toEqual(expect.any(String));
  });

  it("records nothing while no tracer provider is registered", async () => {
    await h.client.check(check("viewer"));
    await h.client.readSchema();
    await settle();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it("makes the call's span the active one while the call is handled, so that spans created meanwhile nest under it", async () => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager());
    await h.client.readSchema();
    await settle();
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe("mandate.v1.SchemaService/ReadSchema");
    expect(activeSpanIds).toEqual([span?.spanContext().spanId]);
  });

  it("never puts the request's caveat context or metadata in a span", async () => {
    trace.setGlobalTracerProvider(provider);
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer span-secret-token");
    await h.client.check({ ...check("viewer"), context: { fields: { secret: { stringValue: "span-secret-context" } } } }, { metadata });
    await settle();
    const [span] = exporter.getFinishedSpans();
    expect(span).toBeDefined();
    expect(JSON.stringify({ attributes: span?.attributes, events: span?.events, name: span?.name })).not.toMatch(/span-secret/);
  });
});
