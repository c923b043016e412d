// Package api: the gRPC server for mandate.v1 (handlers, errors to status codes, health, reflection) and a typed client.
export { MandateServer, LIVENESS_SERVICE } from "./mandate-server.ts";
export type { MandateServerOptions } from "./mandate-server.ts";
export { createMandateClient, callErrorOf } from "./mandate-client.ts";
export type { MandateClient, CallOptions, MandateCallError } from "./mandate-client.ts";
export { serverCredentials } from "./transport-credentials.ts";
export type { ServerTls, ClientTls, ServerTransport } from "./transport-credentials.ts";
export { MandateMetrics } from "./mandate-metrics.ts";
export type { MetricsSources } from "./mandate-metrics.ts";
export { MetricsEndpoint } from "./metrics-endpoint.ts";
export type { CallObserver, ObservedCall, ObservedCallStart, ObservedCallEnd } from "./call-observer.ts";
export { ApiKeyRegistry } from "./api-key-registry.ts";
export type { ApiKeyCaller, ApiKeyInfo, ApiKeyRegistryOptions, IssuedApiKey, Verification } from "./api-key-registry.ts";
export { formatApiKeyToken, newKeyId, newSecret } from "./api-key-token.ts";
export { KEY_SERVICE } from "./mandate-proto.ts";
export type {
  WireKeyRole,
  WireDuration,
  WireApiKey,
  WireCreateKeyRequest,
  WireIssuedKeyResponse,
  WireListKeysResponse,
  WireRotateKeyRequest,
  WireRevokeKeyRequest,
  WireRevokeKeyResponse,
} from "./key-wire-types.ts";
export { DEFAULT_API_LIMITS } from "./limits.ts";
export type { ApiLimits } from "./limits.ts";
export { encodeZedToken, decodeZedToken, datastoreTagOf } from "./consistency-token.ts";
export type { DecodedZedToken } from "./consistency-token.ts";
export { toWireStruct, fromWireStruct, toWireTimestamp, fromWireTimestamp } from "./struct-codec.ts";
export type { JsonValue } from "./struct-codec.ts";
export { relationshipFromWire, filterFromWire } from "./from-proto.ts";
export { relationshipToWire, objectRefToWire, subjectRefToWire } from "./to-proto.ts";
export { PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE, DELEGATION_SERVICE } from "./mandate-proto.ts";
export type {
  WireStruct,
  WireValue,
  WireTimestamp,
  WireObjectReference,
  WireSubjectReference,
  WireContextualizedCaveat,
  WireRelationship,
  WireZedToken,
  WireCursor,
  WireConsistency,
  WireSubjectFilter,
  WireRelationshipFilter,
  WirePrecondition,
  WirePreconditionOperation,
  WireRelationshipUpdate,
  WireUpdateOperation,
  WireErrorStatus,
  WirePermissionship,
  WirePartialCaveatInfo,
  WireCheckDebugTrace,
  WireTraceOperation,
  WireCheckPermissionRequest,
  WireCheckPermissionResponse,
  WireCheckBulkPermissionsRequestItem,
  WireCheckBulkPermissionsRequest,
  WireCheckBulkPermissionsResponseItem,
  WireCheckBulkPermissionsPair,
  WireCheckBulkPermissionsResponse,
  WireAlgebraicOperation,
  WirePermissionRelationshipTree,
  WireExpandPermissionTreeRequest,
  WireExpandPermissionTreeResponse,
  WireWriteRelationshipsRequest,
  WireWriteRelationshipsResponse,
  WireDeleteRelationshipsRequest,
  WireDeleteRelationshipsResponse,
  WireReadRelationshipsRequest,
  WireReadRelationshipsResponse,
  WireReadSchemaRequest,
  WireReadSchemaResponse,
  WireWriteSchemaRequest,
  WireWriteSchemaResponse,
  WireImportBulkRelationshipsRequest,
  WireImportBulkRelationshipsResponse,
  WireExportBulkRelationshipsRequest,
  WireExportBulkRelationshipsResponse,
  WireWatchRequest,
  WireWatchResponse,
  WireLookupPermissionship,
  WireLookupResourcesRequest,
  WireLookupResourcesResponse,
  WireLookupResourcesResult,
  WireLookupSubjectsRequest,
  WireResolvedSubject,
  WireLookupSubjectsResponse,
  WireLookupSubjectsResult,
  WireDelegationBudget,
  WireDelegationHop,
  WireDelegationExplanation,
  WireDelegationVia,
  WireDelegationGrant,
  WireGrantDelegationRequest,
  WireGrantDelegationResponse,
  WireListDelegationsRequest,
  WireListDelegationsResponse,
  WireRevokeDelegationsRequest,
  WireRevokeDelegationsResponse,
} from "./wire-types.ts";
export { WIRE_BY_ROLE } from "./key-service.ts";
