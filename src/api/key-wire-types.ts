import type { WireTimestamp } from "./wire-types.ts";

// The JavaScript shapes of mandate.v1.KeyService's messages (proto/mandate/v1/key_service.proto)
// as @grpc/proto-loader produces them with PROTO_LOADER_OPTIONS (see wire-types.ts).

/** WireKeyRole is mandate.v1.KeyRole. */
export type WireKeyRole = "KEY_ROLE_UNSPECIFIED" | "KEY_ROLE_READ" | "KEY_ROLE_WRITE" | "KEY_ROLE_ADMIN";

/** WireDuration is google.protobuf.Duration. */
export interface WireDuration {
  seconds?: number | string | null;
  nanos?: number | null;
}

/** WireApiKey is mandate.v1.ApiKey. */
export interface WireApiKey {
  id?: string;
  owner?: string;
  role?: WireKeyRole;
  createdAt?: WireTimestamp | null;
  expiresAt?: WireTimestamp | null;
  revokedAt?: WireTimestamp | null;
  graceUntil?: WireTimestamp | null;
}

/** WireCreateKeyRequest is mandate.v1.CreateKeyRequest. */
export interface WireCreateKeyRequest {
  owner?: string;
  role?: WireKeyRole;
  expiresAt?: WireTimestamp | null;
}

/** WireIssuedKeyResponse is mandate.v1.CreateKeyResponse and mandate.v1.RotateKeyResponse: the key and its token, shown once. */
export interface WireIssuedKeyResponse {
  key?: WireApiKey | null;
  token?: string;
}

/** WireListKeysResponse is mandate.v1.ListKeysResponse. */
export interface WireListKeysResponse {
  keys?: WireApiKey[];
}

/** WireRotateKeyRequest is mandate.v1.RotateKeyRequest. */
export interface WireRotateKeyRequest {
  id?: string;
  grace?: WireDuration | null;
}

/** WireRevokeKeyRequest is mandate.v1.RevokeKeyRequest. */
export interface WireRevokeKeyRequest {
  id?: string;
}

/** WireRevokeKeyResponse is mandate.v1.RevokeKeyResponse. */
export interface WireRevokeKeyResponse {
  key?: WireApiKey | null;
}
