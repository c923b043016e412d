import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import type { Store } from "../store/index.ts";
import type { Engine } from "../engine/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import { callLogInterceptor } from "./call-handler.ts";
import { ApiKeyRegistry } from "./api-key-registry.ts";
import { anonymousCallerInterceptor, authInterceptor } from "./auth-interceptor.ts";
import type { AuthInterceptorOptions } from "./auth-interceptor.ts";
import { keyServiceHandlers } from "./key-service.ts";
import type { CallObserver } from "./call-observer.ts";
import { CallTracing } from "./call-tracing.ts";
import type { ApiLimits } from "./limits.ts";
import { DEFAULT_API_LIMITS } from "./limits.ts";
import { DelegationCommands } from "./delegation-commands.ts";
import { delegationServiceHandlers } from "./delegation-service.ts";
import { MandateCommands } from "./mandate-commands.ts";
import { DELEGATION_SERVICE, KEY_SERVICE, PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE, loadMandatePackage } from "./mandate-proto.ts";
import { perKeyLimitsInterceptor } from "./per-key-limits-interceptor.ts";
import { permissionsServiceHandlers } from "./permissions-service.ts";
import { ReadinessMonitor } from "./readiness-monitor.ts";
import type { ServerTransport } from "./transport-credentials.ts";
import { schemaServiceHandlers } from "./schema-service.ts";
import { watchServiceHandlers } from "./watch-service.ts";

/** MandateServerOptions are the server's dependencies; `limits` overrides DEFAULT_API_LIMITS field by field. */
export interface MandateServerOptions {
  readonly store: Store;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly limits?: Partial<ApiLimits> | undefined;
  /** follower is the graph index the engine was given, if any: reads resolve their revision and schema through it (see resolveRevision). */
  readonly follower?: GraphIndexFollower | undefined;
  /** callObservers watch every mandate.v1 call (metrics: MandateMetrics); each call also gets a trace span (CallTracing). */
  readonly callObservers?: readonly CallObserver[] | undefined;
  /**
   * auth: `keys` makes every call but health present an API key of a role its method allows
   * (authInterceptor); `none` (the default) lets every call in as ANONYMOUS_CALLER.
   */
  readonly auth?: "keys" | "none" | undefined;
  /** apiKeys is the registry behind KeyService and `auth: keys` (default: a new ApiKeyRegistry over `store`). */
  readonly apiKeys?: ApiKeyRegistry | undefined;
  /** authRecheckMs: how often calls in flight re-verify their key (default DEFAULT_RECHECK_MS). */
  readonly authRecheckMs?: number | undefined;
  /** failedAuthentications overrides the bound on failed authentications per client address (see AuthInterceptorOptions). */
  readonly failedAuthentications?: AuthInterceptorOptions["failedAuthentications"];
}

/**
 * MandateServer serves mandate.v1's PermissionsService, SchemaService, WatchService, DelegationService and KeyService, the gRPC
 * health service (readiness under "" and each service, liveness under LIVENESS_SERVICE; see listen) and server reflection. It owns neither the
 * store nor the engine: shutdown() stops serving and leaves closing the store to the caller.
 */
export class MandateServer {
  readonly #server: grpc.Server;
  readonly #health: HealthImplementation;
  readonly #logger: Logger;
  readonly #readiness: ReadinessMonitor;
  // Aborted by shutdown, to end Watch streams (which never finish by themselves).
  readonly #stopping = new AbortController();

  constructor(options: MandateServerOptions) {
    const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...options.limits };
    this.#logger = options.logger.child({ module: "api" });
    const apiKeys = options.apiKeys ?? new ApiKeyRegistry({ store: options.store });
    const callerInterceptor =
      options.auth === "keys" ? authInterceptor({ verifier: apiKeys, logger: this.#logger, recheckMs: options.authRecheckMs, failedAuthentications: options.failedAuthentications }) : anonymousCallerInterceptor();
    this.#server = new grpc.Server({
      "grpc.max_receive_message_length": limits.maxMessageBytes,
      "grpc.max_send_message_length": limits.maxMessageBytes,
      // A client that vanishes without closing its connection (a dead host) would otherwise hold
      // its streams and their per-key slots for grpc-js's default 2 h: ping after a minute of
      // silence and drop the connection when no answer comes within 20 s.
      "grpc.keepalive_time_ms": 60_000,
      "grpc.keepalive_timeout_ms": 20_000,
      interceptors: [callLogInterceptor(this.#logger, [new CallTracing(), ...(options.callObservers ?? [])]), callerInterceptor, perKeyLimitsInterceptor(limits)],
    });
    const commands = new MandateCommands({ store: options.store, engine: options.engine, limits, follower: options.follower });
    const definition = loadMandatePackage();
    this.#server.addService(serviceDefinition(definition, PERMISSIONS_SERVICE), permissionsServiceHandlers(commands, limits, this.#logger));
    this.#server.addService(serviceDefinition(definition, SCHEMA_SERVICE), schemaServiceHandlers(commands, this.#logger));
    this.#server.addService(serviceDefinition(definition, WATCH_SERVICE), watchServiceHandlers(commands, this.#logger, this.#stopping.signal));
    const delegations = new DelegationCommands({ store: options.store, commands });
    this.#server.addService(serviceDefinition(definition, DELEGATION_SERVICE), delegationServiceHandlers(delegations, commands, this.#logger));
    this.#server.addService(serviceDefinition(definition, KEY_SERVICE), keyServiceHandlers(apiKeys, this.#logger));
    this.#health = new HealthImplementation(Object.fromEntries([...SERVICES, LIVENESS_SERVICE].map((service) => [service, "NOT_SERVING"])));
    this.#readiness = new ReadinessMonitor(options.follower, (ready) => {
      this.#setStatus(ready ? "SERVING" : "NOT_SERVING");
      if (ready) this.#logger.info("ready: the graph index has caught up with the store");
      else this.#logger.warn("not ready: the graph index is not following the store (starting, or the store's watch fails)");
    });
    this.#health.addToServer(this.#server);
    new ReflectionService(definition).addToServer(this.#server);
  }

  /**
   * listen binds `host:port` (port 0 picks a free port) with `transport` (plaintext by default; see
   * serverCredentials), and starts serving. Resolves to the bound port. Health: LIVENESS_SERVICE
   * turns SERVING at once; "" and each mandate.v1 service (readiness) once the graph index follows
   * the store (see ReadinessMonitor), and back to NOT_SERVING while it does not.
   */
  async listen(host: string, port: number, transport: ServerTransport = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const bound = await this.#bind(host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`, transport);
    this.#health.setStatus(LIVENESS_SERVICE, "SERVING");
    this.#readiness.start();
    this.#logger.info({ address: host, port: bound }, "gRPC server listening");
    return bound;
  }

  /**
   * listenPrivately binds a Unix socket at `socketPath`, plaintext, for calls this process makes
   * to itself before it listens publicly (`mandate serve` loads its start-up data through it, TLS
   * or not); its folder should be private to this user. Resolves to the address to connect to and
   * a `close` that unbinds it. Health is unchanged.
   */
  async listenPrivately(socketPath: string): Promise<{ readonly address: string; close(): void }> {
    const address = `unix:${socketPath}`;
    await this.#bind(address, grpc.ServerCredentials.createInsecure());
    return { address, close: () => this.#server.unbind(address) };
  }

  #bind(address: string, transport: ServerTransport): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(address, transport, (error, actualPort) => (error ? reject(error) : resolve(actualPort)));
    });
  }

  /**
   * shutdown marks every service NOT_SERVING, ends Watch streams with UNAVAILABLE (clients resume
   * elsewhere), lets other calls in flight finish for up to `graceMs`, then cancels the rest.
   */
  async shutdown(graceMs = 5_000): Promise<void> {
    this.#readiness.stop();
    this.#setStatus("NOT_SERVING");
    this.#health.setStatus(LIVENESS_SERVICE, "NOT_SERVING");
    this.#stopping.abort();
    const timer = setTimeout(() => this.#server.forceShutdown(), graceMs);
    await new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
    clearTimeout(timer);
    this.#logger.info("gRPC server stopped");
  }

  #setStatus(status: "SERVING" | "NOT_SERVING"): void {
    for (const service of SERVICES) this.#health.setStatus(service, status);
  }
}

// The health service reports readiness under these: "" (the server as a whole) and each mandate.v1 service.
const SERVICES = ["", PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE, DELEGATION_SERVICE, KEY_SERVICE];

/**
 * LIVENESS_SERVICE is the health service name that reports liveness: SERVING from listen until
 * shutdown, whether or not the graph index has caught up (readiness is "").
 */
export const LIVENESS_SERVICE = "liveness";

function serviceDefinition(definition: ReturnType<typeof loadMandatePackage>, name: string): grpc.ServiceDefinition {
  return definition[name] as grpc.ServiceDefinition;
}
