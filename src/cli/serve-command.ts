import { pino } from "pino";
import type { Logger } from "pino";
import { createMandateClient } from "../api/index.ts";
import { compileSchema } from "../schema/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, parseCommandLine } from "./parse-command-line.ts";
import { LOG_REDACTION } from "./log-redaction.ts";
import { parseRelationshipLines } from "./relationship-lines.ts";
import { writeInBatches } from "./relationships-command.ts";
import { startMandateService } from "./mandate-service.ts";
import { readServeConfigFile, resolveServeConfig, SERVE_HELP, SERVE_OPTIONS } from "./serve-config.ts";
import { readServerTls } from "./tls-files.ts";
import { readFlagFile } from "./read-flag-file.ts";

/**
 * runServeCommand implements `mandate serve` (see SERVE_HELP): the composition root that reads
 * the configuration (flags, environment, --config file), builds the root logger, starts the
 * service (see startMandateService) loading the start-up schema and demo relationships before it
 * listens, serves until SIGINT/SIGTERM, then shuts down (within --shutdown-grace) and closes the store.
 */
export async function runServeCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, SERVE_OPTIONS);
  if (booleanOption(parsed, "help")) {
    io.out(SERVE_HELP);
    return ExitCode.ok;
  }
  const config = resolveServeConfig(parsed, io.env, readServeConfigFile(parsed, io.env, io.cwd));
  const tls = config.tls === undefined ? undefined : readServerTls(config.tls, io.cwd);
  // Read and compile the start-up files before binding a port, so that mistakes in them stop
  // the server at once, with positions.
  const schemaText = config.schemaFile === undefined ? undefined : readStartupFile(config.schemaFile, "--schema", io);
  if (schemaText !== undefined) compileSchema(schemaText, config.schemaFile);
  const relationships =
    config.relationshipsFile === undefined
      ? []
      : parseRelationshipLines(readStartupFile(config.relationshipsFile, "--relationships", io), config.relationshipsFile);

  const logger = pino({ level: config.logLevel, base: { service: "mandate" }, redact: LOG_REDACTION });
  const service = await startMandateService(config, logger, io.cwd, {
    tls,
    beforeListen: (privateAddress, apiKey) => loadStartupData(privateAddress, apiKey, schemaText, relationships, logger),
  });
  try {
    const address = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${service.port}`;
    const transport = tls === undefined ? "plaintext" : tls.clientCa === undefined ? "tls" : "mutual tls";
    logger.info({ address, transport, datastore: service.description, gcWindowMs: config.gcWindowMs }, `mandate serving on ${address}`);
    const signal = await io.waitForShutdown();
    logger.info({ signal }, "shutting down");
  } finally {
    await service.stop();
  }
  return ExitCode.ok;
}

function readStartupFile(file: string, flag: string, io: CommandIo): string {
  return readFlagFile(file, flag, io.cwd).toString("utf8");
}

// Start-up data goes through the server's own API, so it gets exactly the validation a client's
// write gets (a schema change that would orphan stored relationships is refused); `address` is
// the private socket startMandateService opens before the public listen, and `apiKey` its
// process-local admin key (when authentication is on).
async function loadStartupData(
  address: string,
  apiKey: string | undefined,
  schemaText: string | undefined,
  relationships: readonly Relationship[],
  logger: Logger,
): Promise<void> {
  if (schemaText === undefined && relationships.length === 0) return;
  const client = createMandateClient(address, undefined, { apiKey });
  try {
    if (schemaText !== undefined) {
      const stored = await client.readSchema().then(
        (response) => response.schemaText ?? undefined,
        () => undefined,
      );
      if (stored === schemaText) {
        logger.info("schema unchanged");
      } else {
        const response = await client.writeSchema({ schema: schemaText });
        logger.info({ token: response.writtenAt?.token }, "schema written");
      }
    }
    if (relationships.length > 0) {
      const token = await writeInBatches(client, relationships, "OPERATION_TOUCH");
      logger.info({ count: relationships.length, token }, "relationships written");
    }
  } finally {
    client.close();
  }
}
