import { ServerCallError, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { CLIENT_TLS_HELP, CLIENT_TLS_OPTIONS } from "./tls-files.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseIntegerSetting, stringOption } from "./parse-command-line.ts";

/** HEALTH_HELP is the help text of `mandate health`. */
const HEALTH_HELP = `Usage: mandate health [--endpoint HOST:PORT] [--timeout SECONDS] [--service NAME]

Asks the server whether it serves requests; for container health checks.
Prints SERVING and exits 0, or prints NOT_SERVING (with the reason when the server could not be
asked) and exits 1.
  --endpoint HOST:PORT   the server (env MANDATE_ENDPOINT; default 127.0.0.1:50051)
  --timeout SECONDS      how long to wait for an answer (default 3)
  --service NAME         "" (default): readiness, SERVING once the graph index has caught up
                         with the datastore; "liveness": SERVING from start until shutdown
${CLIENT_TLS_HELP}`;

/**
 * runHealthCommand implements `mandate health`: it asks the server's grpc.health.v1 service for
 * the status of the server as a whole (readiness), or of --service. Exit 0 for SERVING, 1 otherwise
 * (an unknown service, NOT_FOUND, is 1 too).
 */
export async function runHealthCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, { endpoint: { type: "string" }, timeout: { type: "string" }, service: { type: "string" }, ...CLIENT_TLS_OPTIONS });
  if (booleanOption(parsed, "help")) {
    io.out(HEALTH_HELP);
    return ExitCode.ok;
  }
  expectPositionals(parsed, 0, 0, "mandate health");
  const timeout = parseIntegerSetting(stringOption(parsed, "timeout") ?? "3", "--timeout", 1, 600);
  let status: string;
  try {
    status = await withClient(parsed, io, (client) => client.health(stringOption(parsed, "service") ?? "", { deadline: new Date(Date.now() + timeout * 1000) }));
  } catch (error) {
    if (!(error instanceof ServerCallError)) throw error;
    io.out(`NOT_SERVING: ${error.message}\n`);
    return ExitCode.negative;
  }
  io.out(`${status}\n`);
  return status === "SERVING" ? ExitCode.ok : ExitCode.negative;
}
