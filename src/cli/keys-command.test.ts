import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyRegistry, MandateServer } from "../api/index.ts";
import { Engine } from "../engine/index.ts";
import { MemoryStore } from "../store/index.ts";
import { fakeCommandIo } from "./fake-command-io.ts";
import { formatApiKey, parseCreateRequest, parseRotateRequest } from "./keys-command.ts";
import { runMain } from "./main.ts";
import type { ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

const NOW = new Date("2030-01-01T00:00:00.000Z");
const ADMIN = `mk_bootstrap_${"a".repeat(40)}`;
const TOKEN = /^mk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/;

const line = (positionals: string[], values: ParsedCommandLine["values"] = {}): ParsedCommandLine => ({ positionals, values });

describe("parseCreateRequest", () => {
  it("reads the owner, the role and the expiry", () => {
    expect(parseCreateRequest(line([], { owner: "ci", role: "write", "expires-in": "30d" }), NOW)).toEqual({
      owner: "ci",
      role: "KEY_ROLE_WRITE",
      expiresAt: { seconds: Date.parse("2030-01-31T00:00:00Z") / 1000, nanos: 0 },
    });
  });

  it.each([
    [{ role: "read" }, /--owner: is required/],
    [{ owner: "ci" }, /--role: is required one of read, write, admin/],
    [{ owner: "ci", role: "root" }, /--role: "root" is not one of read, write, admin/],
    [{ owner: "ci", role: "read", "expires-in": "soon" }, /--expires-in: "soon" is not a duration/],
  ])("refuses %j", (values, message) => {
    expect(() => parseCreateRequest(line([], values), NOW)).toThrow(UsageError);
    expect(() => parseCreateRequest(line([], values), NOW)).toThrow(message);
  });
});

describe("parseRotateRequest", () => {
  it.each([
    ["1h", { seconds: 3600, nanos: 0 }],
    ["0", { seconds: 0, nanos: 0 }],
  ])("reads --grace %s", (grace, expected) => {
    expect(parseRotateRequest(line(["k1"], { grace }))).toEqual({ id: "k1", grace: expected });
  });

  it("requires --grace, so that an old secret never stops by surprise", () => {
    expect(() => parseRotateRequest(line(["k1"]))).toThrow(/--grace: is required/);
  });
});

describe("formatApiKey", () => {
  it("prints a key's fields and state on one line, never a secret", () => {
    const seconds = NOW.getTime() / 1000;
    expect(formatApiKey({ id: "k1", owner: "ci", role: "KEY_ROLE_READ", createdAt: { seconds }, expiresAt: { seconds: seconds - 1 } }, NOW)).toBe(
      "k1 owner=ci role=read created=2030-01-01T00:00:00.000Z expires=2029-12-31T23:59:59.000Z expired\n",
    );
  });
});

describe("mandate keys", () => {
  it("generates a fresh token without a server, fit for MANDATE_BOOTSTRAP_KEY", async () => {
    const io = fakeCommandIo();
    expect(await runMain(["keys", "generate"], io)).toBe(0);
    expect(io.stdout()).toMatch(TOKEN);
  });

  it.each([
    [["keys", "frob"], /unknown action "frob"/],
    [["keys", "revoke"], /missing argument/],
    [["keys", "rotate", "k1"], /--grace: is required/],
  ])("refuses %j as a usage error before calling a server", async (argv, message) => {
    const io = fakeCommandIo();
    expect(await runMain([...argv, "--endpoint", "127.0.0.1:1"], io)).toBe(2);
    expect(io.stderr()).toMatch(message);
  });
});

describe("mandate keys against a server with authentication", () => {
  const store = new MemoryStore();
  const apiKeys = new ApiKeyRegistry({ store });
  const server = new MandateServer({ store, engine: new Engine({ maxDepth: 50 }), logger: pino({ level: "silent" }), auth: "keys", apiKeys });
  let endpoint: string;
  beforeAll(async () => {
    await apiKeys.registerBootstrapKey(ADMIN);
    endpoint = `127.0.0.1:${await server.listen("127.0.0.1", 0)}`;
  });
  afterAll(async () => {
    await server.shutdown(100);
    await store.close();
  });

  // Runs a command with `key` in MANDATE_KEY (none for null; --key in argv wins over it).
  const run = async (argv: string[], key: string | null = ADMIN) => {
    const io = { ...fakeCommandIo(), env: key === null ? {} : { MANDATE_KEY: key } };
    const code = await runMain([...argv, "--endpoint", endpoint], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };

  it("creates a key, prints its token alone on stdout, and the token works with --key", async () => {
    const created = await run(["keys", "create", "--owner", "ci", "--role", "read"]);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(TOKEN);
    expect(created.err).toMatch(/^created [0-9a-f]{16} owner=ci role=read created=\S+ active\n$/);
    const token = created.out.trim();
    expect((await run(["schema", "read", "--key", token], null)).err).not.toMatch(/UNAUTHENTICATED/);
    const denied = await run(["keys", "list", "--key", token], null);
    expect(denied.code).toBe(4);
    expect(denied.err).toMatch(/PERMISSION_DENIED: API key [0-9a-f]{16} has role read; this method needs role admin/);
  });

  it("lists keys without secrets, rotates one with a grace period and revokes it", async () => {
    const token = (await run(["keys", "create", "--owner", "deployer", "--role", "write"])).out.trim();
    const id = token.split("_")[1] ?? "";
    const listed = await run(["keys", "list"]);
    expect(listed.out).toMatch(new RegExp(`^${id} owner=deployer role=write created=\\S+ active$`, "m"));
    expect(listed.out).toMatch(/^bootstrap owner=bootstrap role=admin /m);
    expect(listed.out).not.toContain(token.slice(-43));
    expect(listed.out).not.toContain(ADMIN.slice(-40));

    const rotated = await run(["keys", "rotate", id, "--grace", "1h"]);
    expect(rotated.out).toMatch(TOKEN);
    expect(rotated.out.trim()).not.toBe(token);
    expect(rotated.err).toMatch(/grace-until=\S+ active/);

    const revoked = await run(["keys", "revoke", id]);
    expect(revoked.out).toMatch(new RegExp(`^revoked ${id} owner=deployer role=write created=\\S+ revoked=\\S+ grace-until=\\S+ revoked\\n$`));
    const refused = await run(["schema", "read"], rotated.out.trim());
    expect(refused.code).toBe(4);
    expect(refused.err).toMatch(/UNAUTHENTICATED: API key [0-9a-f]{16} was revoked at .*pass an API key with --key or MANDATE_KEY/);
  });

  it("fails without a key with UNAUTHENTICATED and a hint, echoing no secret", async () => {
    const missing = await run(["keys", "list"], null);
    expect(missing.code).toBe(4);
    expect(missing.err).toMatch(/UNAUTHENTICATED: missing credentials/);
    const wrong = await run(["keys", "list"], `mk_bootstrap_${"w".repeat(40)}`);
    expect(wrong.err).toMatch(/UNAUTHENTICATED: API key bootstrap: wrong secret/);
    expect(wrong.err).not.toContain("w".repeat(40));
  });
});
