import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import type { Store } from "../store/index.ts";
import type { Engine } from "../engine/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import { callLogInterceptor } from "./call-handler.ts";
import type { ApiLimits } from "./limits.ts";
import { DEFAULT_API_LIMITS } from "./limits.ts";
import { DelegationCommands } from "./delegation-commands.ts";
import { delegationServiceHandlers } from "./delegation-service.ts";
import { MandateCommands } from "./mandate-commands.ts";
import { DELEGATION_SERVICE, PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE, loadMandatePackage } from "./mandate-proto.ts";
import { permissionsServiceHandlers } from "./permissions-service.ts";
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
}

/**
 * MandateServer serves mandate.v1's PermissionsService, SchemaService, WatchService and DelegationService, the gRPC
 * health service (SERVING for "" and each service while listening) and server reflection. It owns neither the
 * store nor the engine: shutdown() stops serving and leaves closing the store to the caller.
 */
export class MandateServer {
  readonly #server: grpc.Server;
  readonly #health: HealthImplementation;
  readonly #logger: Logger;
  // Aborted by shutdown, to end Watch streams (which never finish by themselves).
  readonly #stopping = new AbortController();

  constructor(options: MandateServerOptions) {
    const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...options.limits };
    this.#logger = options.logger.child({ module: "api" });
    this.#server = new grpc.Server({
      "grpc.max_receive_message_length": limits.maxMessageBytes,
      "grpc.max_send_message_length": limits.maxMessageBytes,
      interceptors: [callLogInterceptor(this.#logger)],
    });
    const commands = new MandateCommands({ store: options.store, engine: options.engine, limits, follower: options.follower });
    const definition = loadMandatePackage();
    this.#server.addService(serviceDefinition(definition, PERMISSIONS_SERVICE), permissionsServiceHandlers(commands, limits, this.#logger));
    this.#server.addService(serviceDefinition(definition, SCHEMA_SERVICE), schemaServiceHandlers(commands, this.#logger));
    this.#server.addService(serviceDefinition(definition, WATCH_SERVICE), watchServiceHandlers(commands, this.#logger, this.#stopping.signal));
    const delegations = new DelegationCommands({ store: options.store, commands });
    this.#server.addService(serviceDefinition(definition, DELEGATION_SERVICE), delegationServiceHandlers(delegations, commands, this.#logger));
    this.#health = new HealthImplementation(Object.fromEntries(SERVICES.map((service) => [service, "NOT_SERVING"])));
    this.#health.addToServer(this.#server);
    new ReflectionService(definition).addToServer(this.#server);
  }

  /**
   * listen binds `host:port` without TLS (port 0 picks a free port), starts serving and marks every
   * service SERVING. Resolves to the bound port.
   */
  async listen(host: string, port: number, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(address, credentials, (error, actualPort) => (error ? reject(error) : resolve(actualPort)));
    });
    this.#setStatus("SERVING");
    this.#logger.info({ address: host, port: bound }, "gRPC server listening");
    return bound;
  }

  /**
   * shutdown marks every service NOT_SERVING, ends Watch streams with UNAVAILABLE (clients resume
   * elsewhere), lets other calls in flight finish for up to `graceMs`, then cancels the rest.
   */
  async shutdown(graceMs = 5_000): Promise<void> {
    this.#setStatus("NOT_SERVING");
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

// The health service reports these: "" (the server as a whole) and each mandate.v1 service.
const SERVICES = ["", PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE, DELEGATION_SERVICE];

function serviceDefinition(definition: ReturnType<typeof loadMandatePackage>, name: string): grpc.ServiceDefinition {
  return definition[name] as grpc.ServiceDefinition;
}
