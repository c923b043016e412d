import { InvalidArgumentError, NotFoundError } from "../tuple/index.ts";
import { AbortedError, AlreadyExistsError } from "./errors.ts";
import { API_KEY_ROLES } from "./store.ts";
import type { ApiKeyRecord } from "./store.ts";

// What every ApiKeyStore implementation checks and answers alike, so that MemoryStore and
// PostgresStore refuse the same records with the same words.

/**
 * validateApiKeyRecord throws InvalidArgumentError naming the field of `record` that no store
 * could keep: an empty id or owner, an unknown role, an empty hash, or an invalid date.
 */
export function validateApiKeyRecord(record: ApiKeyRecord): void {
  if (record.id === "") throw new InvalidArgumentError("id: must not be empty", { field: "id" });
  if (record.owner === "") throw new InvalidArgumentError("owner: must not be empty", { field: "owner" });
  if (!(API_KEY_ROLES as readonly string[]).includes(record.role)) {
    throw new InvalidArgumentError(`role: "${record.role}" is not one of ${API_KEY_ROLES.join(", ")}`, { field: "role" });
  }
  if (record.secretHash === "") throw new InvalidArgumentError("secretHash: must not be empty", { field: "secretHash" });
  const dates: Array<[string, Date | undefined]> = [
    ["createdAt", record.createdAt],
    ["expiresAt", record.expiresAt],
    ["revokedAt", record.revokedAt],
    ...record.previousSecrets.map((secret, i): [string, Date] => [`previousSecrets[${i}].validUntil`, secret.validUntil]),
  ];
  for (const [field, date] of dates) {
    if (date !== undefined && Number.isNaN(date.getTime())) throw new InvalidArgumentError(`${field}: is not a valid date`, { field });
  }
  record.previousSecrets.forEach((secret, i) => {
    if (secret.hash === "") throw new InvalidArgumentError(`previousSecrets[${i}].hash: must not be empty`, { field: `previousSecrets[${i}].hash` });
  });
}

/** frozenApiKeyRecord returns a deep, frozen copy of `record` (own Date objects), with absent optional fields left out. */
export function frozenApiKeyRecord(record: ApiKeyRecord): ApiKeyRecord {
  return Object.freeze({
    id: record.id,
    owner: record.owner,
    role: record.role,
    createdAt: new Date(record.createdAt.getTime()),
    ...(record.expiresAt === undefined ? {} : { expiresAt: new Date(record.expiresAt.getTime()) }),
    ...(record.revokedAt === undefined ? {} : { revokedAt: new Date(record.revokedAt.getTime()) }),
    secretHash: record.secretHash,
    previousSecrets: Object.freeze(record.previousSecrets.map((secret) => Object.freeze({ hash: secret.hash, validUntil: new Date(secret.validUntil.getTime()) }))),
  });
}

/** apiKeyTaken is the error for a createApiKey whose id is already stored. */
export function apiKeyTaken(id: string): AlreadyExistsError {
  return new AlreadyExistsError(`id: API key "${id}" already exists`, { field: "id" });
}

/** apiKeyChanged is the error for a replaceApiKey whose expected secret hash is no longer the stored one. */
export function apiKeyChanged(id: string): AbortedError {
  return new AbortedError(`id: API key "${id}" changed meanwhile (rotated by another call); read it again and retry`, { field: "id" });
}

/** apiKeyMissing is the error for a replaceApiKey of an id that is not stored. */
export function apiKeyMissing(id: string): NotFoundError {
  return new NotFoundError(`id: no API key "${id}"`, { field: "id" });
}

/** byCreation orders records oldest first, ties by id (byte order), as ApiKeyStore.apiKeys returns them. */
export function byCreation(a: ApiKeyRecord, b: ApiKeyRecord): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
