import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { channelCredentials, channelOptions } from "./transport-credentials.ts";
import type { ClientTls } from "./transport-credentials.ts";
import { DELEGATION_SERVICE, KEY_SERVICE, PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE, loadMandatePackage } from "./mandate-proto.ts";
import type { WireCreateKeyRequest, WireIssuedKeyResponse, WireListKeysResponse, WireRevokeKeyRequest, WireRevokeKeyResponse, WireRotateKeyRequest } from "./key-wire-types.ts";
import type {
  WireCheckBulkPermissionsRequest,
  WireCheckBulkPermissionsResponse,
  WireCheckPermissionRequest,
  WireCheckPermissionResponse,
  WireDeleteRelationshipsRequest,
  WireDeleteRelationshipsResponse,
  WireExpandPermissionTreeRequest,
  WireExpandPermissionTreeResponse,
  WireExportBulkRelationshipsRequest,
  WireExportBulkRelationshipsResponse,
  WireGrantDelegationRequest,
  WireGrantDelegationResponse,
  WireImportBulkRelationshipsRequest,
  WireImportBulkRelationshipsResponse,
  WireLookupResourcesRequest,
  WireLookupResourcesResponse,
  WireLookupSubjectsRequest,
  WireLookupSubjectsResponse,
  WireListDelegationsRequest,
  WireListDelegationsResponse,
  WireRevokeDelegationsRequest,
  WireRevokeDelegationsResponse,
  WireWatchRequest,
  WireWatchResponse,
  WireReadRelationshipsRequest,
  WireReadRelationshipsResponse,
  WireReadSchemaResponse,
  WireWriteRelationshipsRequest,
  WireWriteRelationshipsResponse,
  WireWriteSchemaRequest,
  WireWriteSchemaResponse,
} from "./wire-types.ts";

/**
 * CallOptions apply to one call: extra metadata (e.g. x-request-id), a deadline, and for
 * streaming reads a `signal` that cancels the call when it aborts (a pending read then rejects
 * with CANCELLED), e.g. to stop a Watch that is waiting for changes.
 */
export interface CallOptions {
  readonly metadata?: grpc.Metadata | undefined;
  readonly deadline?: Date | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * MandateClient is a promise-based client for mandate.v1. Failed calls reject with grpc-js's
 * ServiceError (`code` is the gRPC status, `details` the server's message).
 */
export interface MandateClient {
  check(request: WireCheckPermissionRequest, options?: CallOptions): Promise<WireCheckPermissionResponse>;
  checkBulk(request: WireCheckBulkPermissionsRequest, options?: CallOptions): Promise<WireCheckBulkPermissionsResponse>;
  expand(request: WireExpandPermissionTreeRequest, options?: CallOptions): Promise<WireExpandPermissionTreeResponse>;
  writeRelationships(request: WireWriteRelationshipsRequest, options?: CallOptions): Promise<WireWriteRelationshipsResponse>;
  deleteRelationships(request: WireDeleteRelationshipsRequest, options?: CallOptions): Promise<WireDeleteRelationshipsResponse>;
  /** readRelationships streams the results; breaking out of the loop cancels the call. */
  readRelationships(request: WireReadRelationshipsRequest, options?: CallOptions): AsyncIterable<WireReadRelationshipsResponse>;
  /**
   * importBulkRelationships streams `batches` to the server, which creates them all at one
   * revision or none; resolves when the server has committed. `onSent` hears the running count of
   * relationships sent.
   */
  importBulkRelationships(
    batches: AsyncIterable<WireImportBulkRelationshipsRequest>,
    options?: CallOptions & { readonly onSent?: ((sent: number) => void) | undefined },
  ): Promise<WireImportBulkRelationshipsResponse>;
  /** exportBulkRelationships streams batches of relationships; breaking out of the loop cancels the call. */
  exportBulkRelationships(request: WireExportBulkRelationshipsRequest, options?: CallOptions): AsyncIterable<WireExportBulkRelationshipsResponse>;
  /**
   * lookupResources streams the resources the subject can reach, one per message, each with the
   * cursor that resumes after it; breaking out of the loop cancels the call (and the server's work).
   */
  lookupResources(request: WireLookupResourcesRequest, options?: CallOptions): AsyncIterable<WireLookupResourcesResponse>;
  /** lookupSubjects streams the subjects that have the permission on the resource, as lookupResources does. */
  lookupSubjects(request: WireLookupSubjectsRequest, options?: CallOptions): AsyncIterable<WireLookupSubjectsResponse>;
  /** watch streams relationship changes, one message per revision, until the loop is left (which cancels the call). */
  watch(request: WireWatchRequest, options?: CallOptions): AsyncIterable<WireWatchResponse>;
  writeSchema(request: WireWriteSchemaRequest, options?: CallOptions): Promise<WireWriteSchemaResponse>;
  /** grantDelegation writes one delegation edge (DelegationService.GrantDelegation). */
  grantDelegation(request: WireGrantDelegationRequest, options?: CallOptions): Promise<WireGrantDelegationResponse>;
  /** listDelegations lists the live edges of an actor or for a principal (DelegationService.ListDelegations). */
  listDelegations(request: WireListDelegationsRequest, options?: CallOptions): Promise<WireListDelegationsResponse>;
  /** revokeDelegations deletes edges and the sub-delegations hanging off them (DelegationService.RevokeDelegations). */
  revokeDelegations(request: WireRevokeDelegationsRequest, options?: CallOptions): Promise<WireRevokeDelegationsResponse>;
  readSchema(options?: CallOptions): Promise<WireReadSchemaResponse>;
  /** createKey makes an API key (KeyService.CreateKey; admin); the response holds its token, shown once. */
  createKey(request: WireCreateKeyRequest, options?: CallOptions): Promise<WireIssuedKeyResponse>;
  /** listKeys lists the API keys, never their secrets (KeyService.ListKeys; admin). */
  listKeys(options?: CallOptions): Promise<WireListKeysResponse>;
  /** rotateKey gives a key a new secret, the old one valid for the grace period (KeyService.RotateKey; admin). */
  rotateKey(request: WireRotateKeyRequest, options?: CallOptions): Promise<WireIssuedKeyResponse>;
  /** revokeKey makes a key stop working (KeyService.RevokeKey; admin). */
  revokeKey(request: WireRevokeKeyRequest, options?: CallOptions): Promise<WireRevokeKeyResponse>;
  /**
   * health asks the standard grpc.health.v1 service for the status of `service` ("" for the
   * server as a whole) and resolves to its status name: "SERVING", "NOT_SERVING" or "UNKNOWN".
   */
  health(service?: string, options?: CallOptions): Promise<string>;
  /** close releases the channel; calls after close fail. */
  close(): void;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;
type StreamMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;
type ClientStreamMethod = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientWritableStream<unknown>;

/**
 * createMandateClient connects to a Mandate server at `address` (`host:port`), without TLS unless
 * `tls` is given (see ClientTls). The connection is made lazily, on the first call. With
 * `auth.apiKey`, every call carries `authorization: Bearer <apiKey>`.
 */
export function createMandateClient(address: string, tls?: ClientTls, auth: { readonly apiKey?: string | undefined } = {}): MandateClient {
  const credentials = channelCredentials(tls);
  const interceptors = auth.apiKey === undefined ? [] : [bearerInterceptor(auth.apiKey)];
  const definition = loadMandatePackage();
  const Permissions = grpc.makeGenericClientConstructor(definition[PERMISSIONS_SERVICE] as grpc.ServiceDefinition, "PermissionsService");
  const Schema = grpc.makeGenericClientConstructor(definition[SCHEMA_SERVICE] as grpc.ServiceDefinition, "SchemaService");
  const permissions = new Permissions(address, credentials, { ...channelOptions(tls), interceptors }) as unknown as Record<string, UnaryMethod | StreamMethod> & grpc.Client;
  // Both services share one channel.
  const schema = new Schema(address, credentials, { channelOverride: permissions.getChannel(), interceptors }) as unknown as Record<string, UnaryMethod> & grpc.Client;
  const Watch = grpc.makeGenericClientConstructor(definition[WATCH_SERVICE] as grpc.ServiceDefinition, "WatchService");
  const watch = new Watch(address, credentials, { channelOverride: permissions.getChannel(), interceptors }) as unknown as Record<string, StreamMethod> & grpc.Client;
  const Delegation = grpc.makeGenericClientConstructor(definition[DELEGATION_SERVICE] as grpc.ServiceDefinition, "DelegationService");
  const delegation = new Delegation(address, credentials, { channelOverride: permissions.getChannel(), interceptors }) as unknown as Record<string, UnaryMethod> & grpc.Client;
  const Keys = grpc.makeGenericClientConstructor(definition[KEY_SERVICE] as grpc.ServiceDefinition, "KeyService");
  const keys = new Keys(address, credentials, { channelOverride: permissions.getChannel(), interceptors }) as unknown as Record<string, UnaryMethod> & grpc.Client;
  const Health = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, "Health");
  const health = new Health(address, credentials, { channelOverride: permissions.getChannel(), interceptors }) as unknown as Record<string, UnaryMethod> & grpc.Client;

  const unary = <Response>(client: Record<string, unknown>, method: string, request: unknown, options?: CallOptions): Promise<Response> =>
    new Promise((resolve, reject) => {
      const call = client[method] as UnaryMethod;
      call.call(client, request, options?.metadata ?? new grpc.Metadata(), callOptions(options), (error, response) =>
        error ? reject(error) : resolve(response as Response),
      );
    });

  return {
    check: (request, options) => unary(permissions, "CheckPermission", request, options),
    checkBulk: (request, options) => unary(permissions, "CheckBulkPermissions", request, options),
    expand: (request, options) => unary(permissions, "ExpandPermissionTree", request, options),
    writeRelationships: (request, options) => unary(permissions, "WriteRelationships", request, options),
    deleteRelationships: (request, options) => unary(permissions, "DeleteRelationships", request, options),
    readRelationships: (request, options) => serverStream<WireReadRelationshipsResponse>(permissions, "ReadRelationships", request, options),
    importBulkRelationships: (batches, options) => clientStream(permissions, "ImportBulkRelationships", batches, options),
    exportBulkRelationships: (request, options) => serverStream<WireExportBulkRelationshipsResponse>(permissions, "ExportBulkRelationships", request, options),
    lookupResources: (request, options) => serverStream<WireLookupResourcesResponse>(permissions, "LookupResources", request, options),
    lookupSubjects: (request, options) => serverStream<WireLookupSubjectsResponse>(permissions, "LookupSubjects", request, options),
    watch: (request, options) => serverStream<WireWatchResponse>(watch, "Watch", request, options),
    writeSchema: (request, options) => unary(schema, "WriteSchema", request, options),
    readSchema: (options) => unary(schema, "ReadSchema", {}, options),
    createKey: (request, options) => unary(keys, "CreateKey", request, options),
    listKeys: (options) => unary(keys, "ListKeys", {}, options),
    rotateKey: (request, options) => unary(keys, "RotateKey", request, options),
    revokeKey: (request, options) => unary(keys, "RevokeKey", request, options),
    grantDelegation: (request, options) => unary(delegation, "GrantDelegation", request, options),
    listDelegations: (request, options) => unary(delegation, "ListDelegations", request, options),
    revokeDelegations: (request, options) => unary(delegation, "RevokeDelegations", request, options),
    health: async (service = "", options) => {
      const response = await unary<{ status: unknown }>(health, "check", { service }, options);
      return String(response.status);
    },
    close: () => {
      health.close();
      keys.close();
      delegation.close();
      watch.close();
      schema.close();
      permissions.close();
    },
  };
}

// Adds `authorization: Bearer <apiKey>` to every call's metadata.
function bearerInterceptor(apiKey: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set("authorization", `Bearer ${apiKey}`);
        next(metadata, listener);
      },
    });
}

function serverStream<Response>(client: Record<string, unknown>, method: string, request: unknown, options: CallOptions | undefined): AsyncIterable<Response> {
  return {
    async *[Symbol.asyncIterator]() {
      const call = client[method] as StreamMethod;
      const stream = call.call(client, request, options?.metadata ?? new grpc.Metadata(), callOptions(options));
      const cancel = () => stream.cancel();
      options?.signal?.addEventListener("abort", cancel, { once: true });
      try {
        if (options?.signal?.aborted) cancel();
        for await (const message of stream) yield message as Response;
      } finally {
        options?.signal?.removeEventListener("abort", cancel);
        stream.cancel();
      }
    },
  };
}

// Sends each batch as one message, waiting for the transport to drain when its buffer is full. If
// the server fails the call early (a bad relationship), sending stops and its status is reported.
async function clientStream<Response>(
  client: Record<string, unknown>,
  method: string,
  batches: AsyncIterable<{ relationships?: unknown[] | null }>,
  options: (CallOptions & { readonly onSent?: ((sent: number) => void) | undefined }) | undefined,
): Promise<Response> {
  let settled = false;
  let stream: grpc.ClientWritableStream<unknown> | undefined;
  const response = new Promise<Response>((resolve, reject) => {
    const call = client[method] as ClientStreamMethod;
    stream = call.call(client, options?.metadata ?? new grpc.Metadata(), callOptions(options), (error, message) => {
      settled = true;
      if (error) reject(error);
      else resolve(message as Response);
    });
  });
  // The server may fail the call while the input is still being read: mark the rejection as
  // handled now (the caller still receives it from the returned promise) so that it never
  // surfaces as an unhandled rejection in between.
  response.catch(() => undefined);
  const writer = stream as grpc.ClientWritableStream<unknown>;
  let sent = 0;
  try {
    for await (const batch of batches) {
      if (settled) break;
      if (!writer.write(batch)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            writer.off("drain", done);
            writer.off("close", done);
            resolve();
          };
          writer.on("drain", done);
          writer.on("close", done);
        });
      }
      sent += batch.relationships?.length ?? 0;
      options?.onSent?.(sent);
    }
  } catch (error) {
    // The input failed (e.g. a malformed line): cancel, so that the server commits nothing.
    writer.cancel();
    throw error;
  }
  if (!settled) writer.end();
  return response;
}

function callOptions(options: CallOptions | undefined): grpc.CallOptions {
  return options?.deadline ? { deadline: options.deadline } : {};
}

/** MandateCallError describes a failed call in terms a caller can print without importing grpc-js. */
export interface MandateCallError {
  /** code is the numeric gRPC status, e.g. 3. */
  readonly code: number;
  /** codeName is the status name, e.g. "INVALID_ARGUMENT". */
  readonly codeName: string;
  /** details is the server's message. */
  readonly details: string;
}

/**
 * callErrorOf returns the gRPC status of an error a MandateClient call rejected with, or undefined
 * when `error` is not a gRPC status error (e.g. a bug in the caller).
 */
export function callErrorOf(error: unknown): MandateCallError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, details } = error as { code?: unknown; details?: unknown };
  if (typeof code !== "number" || typeof details !== "string") return undefined;
  return { code, codeName: grpc.status[code] ?? `STATUS_${code}`, details };
}
