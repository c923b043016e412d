import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ApiKeyRegistry } from "../api/index.ts";
import { MemoryStore } from "../store/index.ts";
import { LOG_REDACTION } from "./log-redaction.ts";
import { prepareAuthentication } from "./prepare-authentication.ts";
import { parseCommandLine } from "./parse-command-line.ts";
import { resolveServeConfig, SERVE_OPTIONS } from "./serve-config.ts";
import { UsageError } from "./usage-error.ts";

const BOOTSTRAP = `mk_bootstrap_${"k".repeat(40)}`;

// A pino logger whose lines the test reads back.
function capturingLogger() {
  let text = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: pino({ level: "info", redact: LOG_REDACTION }, sink), text: () => text };
}

describe("prepareAuthentication", () => {
  it("registers MANDATE_BOOTSTRAP_KEY from the environment as an admin key, logging its id only", async () => {
    const config = resolveServeConfig(parseCommandLine([], SERVE_OPTIONS), { MANDATE_BOOTSTRAP_KEY: BOOTSTRAP });
    const apiKeys = new ApiKeyRegistry({ store: new MemoryStore() });
    const { logger, text } = capturingLogger();
    await prepareAuthentication(config, apiKeys, logger);
    expect(await apiKeys.verify(BOOTSTRAP)).toEqual({ ok: true, caller: { keyId: "bootstrap", owner: "bootstrap", role: "admin" } });
    await prepareAuthentication(config, apiKeys, logger);
    expect(text()).toMatch(/"keyId":"bootstrap","msg":"bootstrap admin key registered from MANDATE_BOOTSTRAP_KEY"/);
    expect(text()).toMatch(/bootstrap admin key already registered/);
    expect(text()).not.toContain("k".repeat(40));
  });

  it("refuses a malformed bootstrap key as a usage error that does not quote it", async () => {
    const apiKeys = new ApiKeyRegistry({ store: new MemoryStore() });
    const attempt = prepareAuthentication({ auth: "keys", bootstrapKey: "mk_bootstrap_tooshort" }, apiKeys, capturingLogger().logger);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.not.toThrow(/tooshort/);
  });

  it.each([
    [{ auth: "none" as const, bootstrapKey: undefined }, /authentication is off/],
    [{ auth: "keys" as const, bootstrapKey: undefined }, /no API keys exist/],
  ])("warns when %j leaves the server open or unusable", async (config, warning) => {
    const { logger, text } = capturingLogger();
    await prepareAuthentication(config, new ApiKeyRegistry({ store: new MemoryStore() }), logger);
    expect(text()).toMatch(warning);
  });
});

describe("LOG_REDACTION", () => {
  it("keeps an authorization header and the bootstrap key out of log lines", () => {
    const { logger, text } = capturingLogger();
    logger.info({ metadata: { authorization: "Bearer mk_a_secret1" }, headers: { authorization: "Bearer mk_b_secret2" }, authorization: "Bearer mk_c_secret3" }, "call");
    logger.info({ config: { bootstrapKey: BOOTSTRAP } }, "config");
    expect(text()).not.toMatch(/secret1|secret2|secret3|kkkk/);
    expect(text()).toContain("[redacted]");
  });
});
