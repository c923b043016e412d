import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../tuple/index.ts";
import { API_KEY_ROLES, AbortedError, AlreadyExistsError } from "../store/index.ts";
import type { ApiKeyRecord, ApiKeyStore } from "../store/index.ts";
import { formatApiKeyToken, hashSecret, newKeyId, newSecret, parseApiKeyToken, secretMatches } from "./api-key-token.ts";
import type { Role } from "./caller.ts";

/** ApiKeyCaller is who a verified token belongs to. */
export interface ApiKeyCaller {
  readonly keyId: string;
  readonly owner: string;
  readonly role: Role;
}

/** Verification is the outcome of ApiKeyRegistry.verify: the caller, or why the token is refused (a message for the client: it names the key id at most, never a secret). */
export type Verification = { readonly ok: true; readonly caller: ApiKeyCaller } | { readonly ok: false; readonly reason: string };

/** ApiKeyInfo is what may be shown of a key: never a secret or a hash. `graceUntil`: a secret replaced by a rotation still works until then. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly owner: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly expiresAt?: Date | undefined;
  readonly revokedAt?: Date | undefined;
  readonly graceUntil?: Date | undefined;
}

/** IssuedApiKey is a key just created or rotated with its token: the only time the secret exists outside the caller's hands. */
export interface IssuedApiKey {
  readonly key: ApiKeyInfo;
  readonly token: string;
}

/** ApiKeyVerifier is what the authentication interceptor needs of the registry. */
export interface ApiKeyVerifier {
  /** verify decides whether `token` authenticates a caller now. Rejects only when the store cannot answer (StoreUnavailableError). */
  verify(token: string): Promise<Verification>;
  /** onChange calls `listener` with the id of every key this registry rotates or revokes; returns the function that stops it. */
  onChange(listener: (keyId: string) => void): () => void;
}

/** ApiKeyRegistryOptions: `now` (default Date.now) decides expiry, grace periods and cache age; `cacheMs` bounds how stale a cached record may be. */
export interface ApiKeyRegistryOptions {
  readonly store: ApiKeyStore;
  readonly now?: (() => number) | undefined;
  readonly cacheMs?: number | undefined;
  readonly maxCachedKeys?: number | undefined;
}

/** DEFAULT_KEY_CACHE_MS is how long a verified key's record is reused before the store is read again. */
export const DEFAULT_KEY_CACHE_MS = 1_000;

const ROLE_NAMES: readonly string[] = API_KEY_ROLES;

/**
 * ApiKeyRegistry manages API keys over an ApiKeyStore and verifies tokens (`mk_<id>_<secret>`, see
 * api-key-token.ts): the store keeps SHA-256 hashes only, compared in constant time.
 *
 * Rotation replaces a key's secret and keeps the old one valid until now + grace, after which it
 * stops working by itself (nothing needs to run at that time). Revocation is final.
 *
 * Cache: verify reuses a key's record for up to `cacheMs` (1 s by default), so that a check does
 * not read the store on every call. Whatever this registry changes (create, rotate, revoke) is
 * cached at once, so a revocation on this server takes effect on its next call, and onChange
 * listeners (the interceptor, for calls in flight) hear of it at once. Another server on the
 * same datastore sees it once its cached record is older than `cacheMs`: revocation across
 * replicas lags by at most that (plus the interceptor's recheck interval for open streams).
 */
export class ApiKeyRegistry implements ApiKeyVerifier {
  readonly #store: ApiKeyStore;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #maxCachedKeys: number;
  readonly #cache = new Map<string, { readonly fetchedAt: number; readonly record: Promise<ApiKeyRecord | undefined> }>();
  // Keys that live in this process only (see issueLocalKey), never stored.
  readonly #localKeys = new Map<string, ApiKeyRecord>();
  readonly #listeners = new Set<(keyId: string) => void>();

  constructor(options: ApiKeyRegistryOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#cacheMs = options.cacheMs ?? DEFAULT_KEY_CACHE_MS;
    this.#maxCachedKeys = options.maxCachedKeys ?? 10_000;
  }

  /**
   * create makes a key for `owner` with `role`, valid until `expiresAt` (never if undefined), and
   * returns it with its token, which is not kept anywhere: the caller shows it once. Throws
   * InvalidArgumentError naming `owner`, `role` or `expires_at`.
   */
  async create(request: { readonly owner: string; readonly role: string; readonly expiresAt?: Date | undefined }): Promise<IssuedApiKey> {
    const owner = request.owner.trim();
    if (owner === "") throw new InvalidArgumentError("owner: must not be empty (who or what the key is for, e.g. ci-deploy)", { field: "owner" });
    if (!ROLE_NAMES.includes(request.role)) throw new InvalidArgumentError(`role: "${request.role}" is not one of ${ROLE_NAMES.join(", ")}`, { field: "role" });
    const now = this.#now();
    if (request.expiresAt !== undefined && !(request.expiresAt.getTime() > now)) {
      throw new InvalidArgumentError("expires_at: must be in the future", { field: "expires_at" });
    }
    const secret = newSecret();
    const record: ApiKeyRecord = {
      id: newKeyId(),
      owner,
      role: request.role as Role,
      createdAt: new Date(now),
      expiresAt: request.expiresAt,
      secretHash: hashSecret(secret),
      previousSecrets: [],
    };
    await this.#store.createApiKey(record);
    this.#remember(record);
    return { key: infoOf(record, now), token: formatApiKeyToken({ id: record.id, secret }) };
  }

  /** list returns every stored key, revoked and expired ones included, oldest first; never a secret. */
  async list(): Promise<ApiKeyInfo[]> {
    const now = this.#now();
    return (await this.#store.apiKeys()).map((record) => infoOf(record, now));
  }

  /**
   * rotate gives key `id` a new secret and returns its token; the current secret keeps working
   * until now + `graceMs` (0: it stops at once), then stops by itself. Throws NotFoundError (no
   * such key), FailedPreconditionError (revoked or expired), InvalidArgumentError (`grace`).
   */
  async rotate(id: string, graceMs: number): Promise<IssuedApiKey> {
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new InvalidArgumentError("grace: must be a whole, non-negative duration", { field: "grace" });
    const record = await this.#stored(id);
    const now = this.#now();
    if (record.revokedAt !== undefined) throw new FailedPreconditionError(`id: API key ${id} is revoked and cannot be rotated; create a new key`, { field: "id" });
    if (record.expiresAt !== undefined && record.expiresAt.getTime() <= now) {
      throw new FailedPreconditionError(`id: API key ${id} has expired and cannot be rotated; create a new key`, { field: "id" });
    }
    const secret = newSecret();
    const rotated: ApiKeyRecord = {
      ...record,
      secretHash: hashSecret(secret),
      // Secrets whose grace has ended are dropped; a grace of 0 keeps nothing.
      previousSecrets: [{ hash: record.secretHash, validUntil: new Date(now + graceMs) }, ...record.previousSecrets].filter(
        (previous) => previous.validUntil.getTime() > now,
      ),
    };
    let stored: ApiKeyRecord;
    try {
      stored = await this.#store.replaceApiKey(rotated, record.secretHash);
    } catch (error) {
      if (!(error instanceof AbortedError)) throw error;
      throw new FailedPreconditionError(`id: API key ${id} was rotated by another call meanwhile; list it and rotate again if needed`, { field: "id", cause: error });
    }
    this.#changed(stored);
    // A revocation that raced this rotation wins (the store never undoes one): the new secret is worthless.
    if (stored.revokedAt !== undefined) throw new FailedPreconditionError(`id: API key ${id} was revoked meanwhile; create a new key`, { field: "id" });
    return { key: infoOf(stored, now), token: formatApiKeyToken({ id, secret }) };
  }

  /** revoke makes key `id` stop working for good (again: a no-op) and returns it. Throws NotFoundError. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    // A rotation between our read and our write makes the write fail (compare-and-swap on the
    // secret); read again and revoke what is there now. Rotations are rare, so few rounds suffice.
    for (let attempt = 0; ; attempt++) {
      const record = await this.#stored(id);
      const now = this.#now();
      if (record.revokedAt !== undefined) return infoOf(record, now);
      try {
        const stored = await this.#store.replaceApiKey({ ...record, revokedAt: new Date(now) }, record.secretHash);
        this.#changed(stored);
        return infoOf(stored, now);
      } catch (error) {
        if (!(error instanceof AbortedError) || attempt >= 4) throw error;
      }
    }
  }

  /**
   * verify decides whether `token` authenticates a caller now: its key exists, the secret matches
   * the current one or a previous one still in its grace period, and the key is neither revoked
   * nor expired. Secrets are compared as SHA-256 digests with crypto.timingSafeEqual. Revocation
   * and expiry are told only to a caller that presented a matching secret.
   */
  async verify(token: string): Promise<Verification> {
    const parsed = parseApiKeyToken(token);
    if (parsed === undefined) return { ok: false, reason: "the API key is malformed (expected mk_<id>_<secret>)" };
    const record = this.#localKeys.get(parsed.id) ?? (await this.#lookup(parsed.id));
    if (record === undefined) return { ok: false, reason: `API key ${parsed.id} does not exist` };
    const now = this.#now();
    // Every stored hash is compared, whichever matches, so the time taken does not tell which did.
    const current = secretMatches(parsed.secret, record.secretHash);
    const previous = record.previousSecrets.filter((candidate) => secretMatches(parsed.secret, candidate.hash));
    if (!current && previous.length === 0) return { ok: false, reason: `API key ${parsed.id}: wrong secret` };
    if (record.revokedAt !== undefined) return { ok: false, reason: `API key ${parsed.id} was revoked at ${record.revokedAt.toISOString()}` };
    if (record.expiresAt !== undefined && record.expiresAt.getTime() <= now) {
      return { ok: false, reason: `API key ${parsed.id} expired at ${record.expiresAt.toISOString()}` };
    }
    if (!current && !previous.some((candidate) => candidate.validUntil.getTime() > now)) {
      const ended = Math.max(...previous.map((candidate) => candidate.validUntil.getTime()));
      return { ok: false, reason: `API key ${parsed.id}: this secret was replaced by a rotation and its grace period ended at ${new Date(ended).toISOString()}` };
    }
    return { ok: true, caller: { keyId: record.id, owner: record.owner, role: record.role } };
  }

  /**
   * registerBootstrapKey makes sure the key of `token` (an operator-chosen `mk_<id>_<secret>`)
   * exists, as an admin key owned by "bootstrap": "created" when it was not stored, "present" when
   * it is (with this secret; a revoked one stays revoked), "conflict" when the id is stored with
   * another secret (nothing changes). Throws InvalidArgumentError for a malformed token.
   */
  async registerBootstrapKey(token: string): Promise<"created" | "present" | "conflict"> {
    const parsed = parseApiKeyToken(token);
    if (parsed === undefined) throw new InvalidArgumentError("bootstrap key: not of the form mk_<id>_<secret> (id: letters and digits; secret: 32 or more of A-Z a-z 0-9 _ -)", { field: "bootstrap key" });
    const record: ApiKeyRecord = { id: parsed.id, owner: "bootstrap", role: "admin", createdAt: new Date(this.#now()), secretHash: hashSecret(parsed.secret), previousSecrets: [] };
    try {
      await this.#store.createApiKey(record);
      this.#remember(record);
      return "created";
    } catch (error) {
      // Already there (from an earlier start, or another replica starting at the same time).
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    const stored = await this.#stored(parsed.id);
    return secretMatches(parsed.secret, stored.secretHash) ? "present" : "conflict";
  }

  /**
   * issueLocalKey makes a key that exists in this process only (never stored, unknown to other
   * servers) and returns its token and the function that revokes it; `mandate serve` uses one to
   * load its start-up data through its own API.
   */
  issueLocalKey(owner: string, role: Role): { readonly token: string; readonly revoke: () => void } {
    const secret = newSecret();
    const id = newKeyId();
    this.#localKeys.set(id, { id, owner, role, createdAt: new Date(this.#now()), secretHash: hashSecret(secret), previousSecrets: [] });
    return {
      token: formatApiKeyToken({ id, secret }),
      revoke: () => {
        if (this.#localKeys.delete(id)) for (const listener of this.#listeners) listener(id);
      },
    };
  }

  onChange(listener: (keyId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #stored(id: string): Promise<ApiKeyRecord> {
    const record = await this.#store.apiKey(id);
    if (record === undefined) throw new NotFoundError(`id: no API key ${id}`, { field: "id" });
    return record;
  }

  // The record of `id`, from the cache while it is younger than cacheMs. Concurrent misses share
  // one store read; a failed read is not cached.
  #lookup(id: string): Promise<ApiKeyRecord | undefined> {
    const now = this.#now();
    const cached = this.#cache.get(id);
    if (cached !== undefined && now - cached.fetchedAt < this.#cacheMs) return cached.record;
    const record = this.#store.apiKey(id);
    this.#cacheRecord(id, now, record);
    record.catch(() => {
      if (this.#cache.get(id)?.record === record) this.#cache.delete(id);
    });
    return record;
  }

  #remember(record: ApiKeyRecord): void {
    this.#cacheRecord(record.id, this.#now(), Promise.resolve(record));
  }

  #cacheRecord(id: string, fetchedAt: number, record: Promise<ApiKeyRecord | undefined>): void {
    this.#cache.delete(id);
    // A Map iterates in insertion order: the first entry is the oldest.
    if (this.#cache.size >= this.#maxCachedKeys) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(id, { fetchedAt, record });
  }

  #changed(record: ApiKeyRecord): void {
    this.#remember(record);
    for (const listener of this.#listeners) listener(record.id);
  }
}

function infoOf(record: ApiKeyRecord, now: number): ApiKeyInfo {
  const graceUntil = Math.max(0, ...record.previousSecrets.map((previous) => previous.validUntil.getTime()));
  return {
    id: record.id,
    owner: record.owner,
    role: record.role,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    graceUntil: graceUntil > now ? new Date(graceUntil) : undefined,
  };
}
