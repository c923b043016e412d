import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pino } from "pino";
import type { Logger } from "pino";
import { createMandateClient } from "../api/index.ts";
import { compileSchema } from "../schema/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, parseCommandLine } from "./parse-command-line.ts";
import { parseRelationshipLines } from "./relationship-lines.ts";
import { writeInBatches } from "./relationships-command.ts";
import { startMandateService } from "./mandate-service.ts";
import { resolveServeConfig, SERVE_HELP, SERVE_OPTIONS } from "./serve-config.ts";
import { UsageError } from "./usage-error.ts";

/**
 * runServeCommand implements `mandate serve` (see SERVE_HELP): the composition root that builds
 * the root logger, starts the service (see startMandateService), loads the start-up schema and
 * demo relationships, serves until SIGINT/SIGTERM, then shuts down and closes the store.
 */
export async function runServeCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, SERVE_OPTIONS);
  if (booleanOption(parsed, "help")) {
    io.out(SERVE_HELP);
    return ExitCode.ok;
  }
  const config = resolveServeConfig(parsed, io.env);
  // Read and compile the start-up files before binding a port, so that mistakes in them stop
  // the server at once, with positions.
  const schemaText = config.schemaFile === undefined ? undefined : readStartupFile(config.schemaFile, "--schema", io);
  if (schemaText !== undefined) compileSchema(schemaText, config.schemaFile);
  const relationships =
    config.relationshipsFile === undefined
      ? []
      : parseRelationshipLines(readStartupFile(config.relationshipsFile, "--relationships", io), config.relationshipsFile);

  const logger = pino({ level: config.logLevel, base: { service: "mandate" } });
  const service = await startMandateService(config, logger, io.cwd);
  try {
    const address = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${service.port}`;
    await loadStartupData(loopbackAddress(config.host, service.port), schemaText, relationships, logger);
    logger.info({ address, datastore: service.description, gcWindowMs: config.gcWindowMs }, `mandate serving on ${address}`);
    const signal = await io.waitForShutdown();
    logger.info({ signal }, "shutting down");
  } finally {
    await service.stop();
  }
  return ExitCode.ok;
}

function readStartupFile(file: string, flag: string, io: CommandIo): string {
  try {
    return readFileSync(resolve(io.cwd, file), "utf8");
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, { field: flag });
  }
}

// The server binds `host`; this process reaches it over loopback when it binds every interface.
function loopbackAddress(host: string, port: number): string {
  if (host === "0.0.0.0") return `127.0.0.1:${port}`;
  if (host === "::" || host.includes(":")) return `[${host === "::" ? "::1" : host}]:${port}`;
  return `${host}:${port}`;
}

// Start-up data goes through the server's own API, so it gets exactly the validation a client's
// write gets (a schema change that would orphan stored relationships is refused).
async function loadStartupData(address: string, schemaText: string | undefined, relationships: readonly Relationship[], logger: Logger): Promise<void> {
  if (schemaText === undefined && relationships.length === 0) return;
  const client = createMandateClient(address);
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
