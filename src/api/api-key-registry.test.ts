import * as crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../store/index.ts";
import { NotFoundError, FailedPreconditionError, InvalidArgumentError } from "../tuple/index.ts";
import { ApiKeyRegistry } from "./api-key-registry.ts";
import { hashSecret, parseApiKeyToken, secretMatches } from "./api-key-token.ts";

// secretMatches must compare with crypto.timingSafeEqual; the spy wraps the real function.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const START = Date.parse("2030-01-01T00:00:00Z");

function registry(store = new MemoryStore(), clock = { now: START }) {
  return { keys: new ApiKeyRegistry({ store, now: () => clock.now }), store, clock };
}

describe("API key tokens", () => {
  it.each([
    ["mk_abc123_" + "s".repeat(32), { id: "abc123", secret: "s".repeat(32) }],
    ["mk_bootstrap_" + "a_b-c".repeat(8), { id: "bootstrap", secret: "a_b-c".repeat(8) }],
  ])("takes %s apart at the first underscore after the id", (token, expected) => {
    expect(parseApiKeyToken(token)).toEqual(expected);
  });

  it.each([["mk_abc_short"], ["xx_abc_" + "s".repeat(32)], ["mk__" + "s".repeat(32)], ["mk_ab-c_" + "s".repeat(32)], ["mk_abc_" + "s".repeat(31) + "!"]])(
    "refuses %s",
    (token) => {
      expect(parseApiKeyToken(token)).toBeUndefined();
    },
  );

  it("compares a secret to its stored hash with crypto.timingSafeEqual", () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    expect(secretMatches("right", hashSecret("right"))).toBe(true);
    expect(secretMatches("wrong", hashSecret("right"))).toBe(false);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it("never matches a malformed stored hash", () => {
    expect(secretMatches("x", "not hex")).toBe(false);
  });
});

describe("ApiKeyRegistry", () => {
  it("creates a key whose token verifies, and stores only the secret's hash", async () => {
    const { keys, store } = registry();
    const { key, token } = await keys.create({ owner: "ci", role: "write" });
    expect(await keys.verify(token)).toEqual({ ok: true, caller: { keyId: key.id, owner: "ci", role: "write" } });
    const secret = parseApiKeyToken(token)?.secret ?? "";
    const stored = await store.apiKey(key.id);
    expect(stored?.secretHash).toBe(hashSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  it("verifies through timingSafeEqual on every check", async () => {
    const { keys } = registry();
    const { token } = await keys.create({ owner: "ci", role: "read" });
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    await keys.verify(token);
    expect(spy).toHaveBeenCalled();
  });

  it.each([
    [{ owner: " ", role: "read" }, "owner"],
    [{ owner: "ci", role: "root" }, "role"],
    [{ owner: "ci", role: "read", expiresAt: new Date(START) }, "expires_at"],
  ])("refuses to create %j with InvalidArgumentError naming %s", async (request, field) => {
    await expect(registry().keys.create(request)).rejects.toMatchObject({ constructor: InvalidArgumentError, field });
  });

  it("accepts the old secret until the grace period ends, then refuses it by itself", async () => {
    const { keys, clock } = registry();
    const { key, token: old } = await keys.create({ owner: "ci", role: "read" });
    const { token: rotated } = await keys.rotate(key.id, 60_000);
    expect((await keys.verify(old)).ok).toBe(true);
    clock.now += 59_999;
    expect((await keys.verify(old)).ok).toBe(true);
    clock.now += 1;
    expect(await keys.verify(old)).toEqual({ ok: false, reason: `API key ${key.id}: this secret was replaced by a rotation and its grace period ended at 2030-01-01T00:01:00.000Z` });
    expect((await keys.verify(rotated)).ok).toBe(true);
  });

  it("keeps every secret still in its grace period across two rotations", async () => {
    const { keys, clock } = registry();
    const { key, token: first } = await keys.create({ owner: "ci", role: "read" });
    const { token: second } = await keys.rotate(key.id, 10_000);
    clock.now += 1_000;
    const { token: third } = await keys.rotate(key.id, 1_000);
    expect([(await keys.verify(first)).ok, (await keys.verify(second)).ok, (await keys.verify(third)).ok]).toEqual([true, true, true]);
    clock.now += 1_000;
    expect([(await keys.verify(first)).ok, (await keys.verify(second)).ok, (await keys.verify(third)).ok]).toEqual([true, false, true]);
  });

  it("refuses revoked and expired keys, saying so only to a holder of the secret", async () => {
    const { keys, clock } = registry();
    const revoked = await keys.create({ owner: "a", role: "read" });
    const expiring = await keys.create({ owner: "b", role: "read", expiresAt: new Date(START + 1_000) });
    await keys.revoke(revoked.key.id);
    clock.now += 1_000;
    expect(await keys.verify(revoked.token)).toMatchObject({ ok: false, reason: expect.stringMatching(/was revoked at/) });
    expect(await keys.verify(expiring.token)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired at 2030-01-01T00:00:01.000Z/) });
    expect(await keys.verify(`mk_${revoked.key.id}_${"w".repeat(43)}`)).toEqual({ ok: false, reason: `API key ${revoked.key.id}: wrong secret` });
  });

  it("refuses to rotate a revoked key, and reports unknown ids with NotFoundError", async () => {
    const { keys } = registry();
    const { key } = await keys.create({ owner: "a", role: "read" });
    await keys.revoke(key.id);
    await expect(keys.rotate(key.id, 0)).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(keys.rotate("absent", 0)).rejects.toBeInstanceOf(NotFoundError);
    await expect(keys.revoke("absent")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("keeps a key revoked when a rotation races its revocation, on this server and in the store", async () => {
    const { keys, store } = registry();
    const { key, token } = await keys.create({ owner: "ci", role: "write" });
    const [revoked, rotated] = await Promise.allSettled([keys.revoke(key.id), keys.rotate(key.id, 3_600_000)]);
    expect(revoked.status).toBe("fulfilled");
    expect((await store.apiKey(key.id))?.revokedAt).toBeDefined();
    expect(await keys.verify(token)).toMatchObject({ ok: false });
    if (rotated.status === "fulfilled") expect(await keys.verify(rotated.value.token)).toMatchObject({ ok: false });
    expect(await new ApiKeyRegistry({ store }).verify(token)).toMatchObject({ ok: false });
  });

  it("reads the store at most once per key within the cache window, and sees another server's revocation after it", async () => {
    const { keys, store, clock } = registry();
    const { key, token } = await keys.create({ owner: "ci", role: "read" });
    const reads = vi.spyOn(store, "apiKey");
    clock.now += 1_000;
    await Promise.all([keys.verify(token), keys.verify(token), keys.verify(token)]);
    expect(reads).toHaveBeenCalledTimes(1);
    await new ApiKeyRegistry({ store, now: () => clock.now }).revoke(key.id);
    clock.now += 999;
    expect((await keys.verify(token)).ok).toBe(true);
    clock.now += 1;
    expect((await keys.verify(token)).ok).toBe(false);
  });

  it("tells onChange listeners of each rotation and revocation at once", async () => {
    const { keys } = registry();
    const { key } = await keys.create({ owner: "a", role: "read" });
    const heard: string[] = [];
    const stop = keys.onChange((id) => heard.push(id));
    await keys.rotate(key.id, 0);
    await keys.revoke(key.id);
    stop();
    await keys.revoke(key.id);
    expect(heard).toEqual([key.id, key.id]);
  });

  it("lists keys without secrets, with the end of a rotation's grace period", async () => {
    const { keys } = registry();
    const { key } = await keys.create({ owner: "a", role: "admin" });
    await keys.rotate(key.id, 5_000);
    expect(await keys.list()).toEqual([
      { id: key.id, owner: "a", role: "admin", createdAt: new Date(START), expiresAt: undefined, revokedAt: undefined, graceUntil: new Date(START + 5_000) },
    ]);
  });

  it("registers a bootstrap key once, as an admin key, and never replaces a stored one", async () => {
    const { keys, store } = registry();
    const token = `mk_bootstrap_${"b".repeat(40)}`;
    expect(await keys.registerBootstrapKey(token)).toBe("created");
    expect(await keys.verify(token)).toEqual({ ok: true, caller: { keyId: "bootstrap", owner: "bootstrap", role: "admin" } });
    expect(await keys.registerBootstrapKey(token)).toBe("present");
    expect(await keys.registerBootstrapKey(`mk_bootstrap_${"c".repeat(40)}`)).toBe("conflict");
    await keys.revoke("bootstrap");
    expect(await new ApiKeyRegistry({ store }).registerBootstrapKey(token)).toBe("present");
    expect((await keys.verify(token)).ok).toBe(false);
    await expect(keys.registerBootstrapKey("mk_bootstrap_short")).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("issues process-local keys that are never stored and stop when revoked", async () => {
    const { keys, store } = registry();
    const local = keys.issueLocalKey("start-up", "admin");
    expect((await keys.verify(local.token)).ok).toBe(true);
    expect(await store.apiKeys()).toEqual([]);
    local.revoke();
    expect((await keys.verify(local.token)).ok).toBe(false);
  });
});
