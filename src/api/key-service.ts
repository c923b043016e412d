import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { InvalidArgumentError } from "../tuple/index.ts";
import type { ApiKeyInfo, ApiKeyRegistry, IssuedApiKey } from "./api-key-registry.ts";
import { unaryHandler } from "./call-handler.ts";
import type { Role } from "./caller.ts";
import type {
  WireApiKey,
  WireCreateKeyRequest,
  WireDuration,
  WireIssuedKeyResponse,
  WireKeyRole,
  WireListKeysResponse,
  WireRevokeKeyRequest,
  WireRevokeKeyResponse,
  WireRotateKeyRequest,
} from "./key-wire-types.ts";
import { fromWireTimestamp, toWireTimestamp } from "./struct-codec.ts";

/**
 * keyServiceHandlers implements mandate.v1.KeyService on `registry`. The authentication
 * interceptor admits only admin keys; tokens leave the server only in Create/RotateKey responses.
 */
export function keyServiceHandlers(registry: ApiKeyRegistry, logger: Logger): UntypedServiceImplementation {
  return {
    CreateKey: unaryHandler("CreateKey", logger, async (request: WireCreateKeyRequest): Promise<WireIssuedKeyResponse> => {
      const expiresAt = request.expiresAt ? fromWireTimestamp(request.expiresAt, "expires_at") : undefined;
      return issuedToWire(await registry.create({ owner: request.owner ?? "", role: roleFromWire(request.role), expiresAt }));
    }),
    ListKeys: unaryHandler("ListKeys", logger, async (): Promise<WireListKeysResponse> => ({ keys: (await registry.list()).map(keyToWire) })),
    RotateKey: unaryHandler("RotateKey", logger, async (request: WireRotateKeyRequest): Promise<WireIssuedKeyResponse> => {
      return issuedToWire(await registry.rotate(keyIdOf(request.id), durationFromWire(request.grace, "grace")));
    }),
    RevokeKey: unaryHandler("RevokeKey", logger, async (request: WireRevokeKeyRequest): Promise<WireRevokeKeyResponse> => {
      return { key: keyToWire(await registry.revoke(keyIdOf(request.id))) };
    }),
  };
}

/** WIRE_BY_ROLE is each role's mandate.v1.KeyRole name (the CLI prints and reads roles by it too). */
export const WIRE_BY_ROLE: Readonly<Record<Role, WireKeyRole>> = { read: "KEY_ROLE_READ", write: "KEY_ROLE_WRITE", admin: "KEY_ROLE_ADMIN" };

const ROLES_BY_WIRE: ReadonlyMap<string, Role> = new Map(Object.entries(WIRE_BY_ROLE).map(([role, wire]) => [wire, role as Role]));

function roleFromWire(role: WireKeyRole | undefined): Role {
  const decoded = ROLES_BY_WIRE.get(role ?? "");
  if (decoded === undefined) throw new InvalidArgumentError("role: must be KEY_ROLE_READ, KEY_ROLE_WRITE or KEY_ROLE_ADMIN", { field: "role" });
  return decoded;
}

function keyIdOf(id: string | undefined): string {
  if (id === undefined || id === "") throw new InvalidArgumentError("id: is required", { field: "id" });
  return id;
}

function durationFromWire(duration: WireDuration | null | undefined, field: string): number {
  const seconds = Number(duration?.seconds ?? 0);
  const nanos = duration?.nanos ?? 0;
  const millis = seconds * 1000 + Math.floor(nanos / 1_000_000);
  if (!Number.isSafeInteger(millis) || seconds < 0 || nanos < 0) throw new InvalidArgumentError(`${field}: must be a non-negative duration`, { field });
  return millis;
}

function keyToWire(key: ApiKeyInfo): WireApiKey {
  return {
    id: key.id,
    owner: key.owner,
    role: WIRE_BY_ROLE[key.role],
    createdAt: toWireTimestamp(key.createdAt),
    expiresAt: key.expiresAt ? toWireTimestamp(key.expiresAt) : null,
    revokedAt: key.revokedAt ? toWireTimestamp(key.revokedAt) : null,
    graceUntil: key.graceUntil ? toWireTimestamp(key.graceUntil) : null,
  };
}

function issuedToWire(issued: IssuedApiKey): WireIssuedKeyResponse {
  return { key: keyToWire(issued.key), token: issued.token };
}
