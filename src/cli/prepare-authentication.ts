import type { Logger } from "pino";
import type { ApiKeyRegistry } from "../api/index.ts";
import { InvalidArgumentError } from "../tuple/index.ts";
import type { ServeConfig } from "./serve-config.ts";
import { UsageError } from "./usage-error.ts";

/**
 * prepareAuthentication readies `mandate serve`'s authentication before it listens. With `auth:
 * none` it only warns that every caller is let in. With `keys` it registers MANDATE_BOOTSTRAP_KEY
 * (if set) as an admin key when its id is not stored yet, and warns when no key exists at all
 * (nobody could call the server). Logs name key ids only, never a token. Throws UsageError for a
 * malformed bootstrap key.
 */
export async function prepareAuthentication(config: Pick<ServeConfig, "auth" | "bootstrapKey">, apiKeys: ApiKeyRegistry, logger: Logger): Promise<void> {
  if (config.auth === "none") {
    logger.warn("authentication is off (--auth none): every caller may read, write and change the schema; use only on a trusted machine");
    return;
  }
  if (config.bootstrapKey !== undefined) {
    const outcome = await apiKeys.registerBootstrapKey(config.bootstrapKey).catch((error: unknown) => {
      if (error instanceof InvalidArgumentError) {
        throw new UsageError(`MANDATE_BOOTSTRAP_KEY: not of the form mk_<id>_<secret> (id: letters and digits; secret: 32 or more of A-Z a-z 0-9 _ -); "mandate keys generate" prints one`, { field: "MANDATE_BOOTSTRAP_KEY" });
      }
      throw error;
    });
    const keyId = config.bootstrapKey.split("_")[1];
    if (outcome === "created") logger.info({ keyId }, "bootstrap admin key registered from MANDATE_BOOTSTRAP_KEY");
    else if (outcome === "conflict") logger.warn({ keyId }, "MANDATE_BOOTSTRAP_KEY: a key with this id exists with another secret; the variable is ignored");
    else logger.info({ keyId }, "bootstrap admin key already registered (as stored: if it was revoked or has expired, it stays so; use another admin key)");
    return;
  }
  if ((await apiKeys.list()).length === 0) {
    logger.warn('no API keys exist, so no call but health can succeed: set MANDATE_BOOTSTRAP_KEY (e.g. to the output of "mandate keys generate") and restart');
  }
}
