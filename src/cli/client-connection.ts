import { createMandateClient } from "../api/index.ts";
import type { MandateClient, WireConsistency } from "../api/index.ts";
import { AuthzError } from "../tuple/index.ts";
import type { ErrorCode } from "../tuple/index.ts";
import type { CommandIo } from "./command-io.ts";
import { settingOf, stringOption } from "./parse-command-line.ts";
import type { OptionSpec, ParsedCommandLine } from "./parse-command-line.ts";
import { CLIENT_TLS_HELP, CLIENT_TLS_OPTIONS, quietIpServerNameWarning, readClientTls } from "./tls-files.ts";
import { UsageError } from "./usage-error.ts";

/** DEFAULT_ENDPOINT is where client commands look for a server unless told otherwise. */
const DEFAULT_ENDPOINT = "127.0.0.1:50051";

/** CLIENT_OPTIONS are the flags every client command accepts. */
export const CLIENT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  endpoint: { type: "string" },
  consistency: { type: "string" },
  token: { type: "string" },
  key: { type: "string" },
  ...CLIENT_TLS_OPTIONS,
};

/** CLIENT_HELP documents CLIENT_OPTIONS, for each client command's help text. */
export const CLIENT_HELP = `Connection and consistency:
  --endpoint HOST:PORT   the server (env MANDATE_ENDPOINT; default ${DEFAULT_ENDPOINT})
  --consistency MODE     full (default): the newest data; min: any recent snapshot (fastest);
                         token: at least as fresh as --token; exact: exactly the snapshot of --token
  --token TOKEN          a consistency token printed by a write (implies --consistency token)
  --key API_KEY          the API key to call with, mk_<id>_<secret> (env MANDATE_KEY; prefer the
                         variable: flags show in process lists)
${CLIENT_TLS_HELP}`;

// gRPC status names by code, for messages people read.
const STATUS_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
] as const;

/**
 * ServerCallError reports a call the server refused or could not be made: its message names the
 * endpoint, the gRPC status and the server's explanation. `status` is the gRPC status code.
 */
export class ServerCallError extends AuthzError {
  override name = "ServerCallError";
  readonly code: ErrorCode = "unavailable";
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, cause: unknown) {
    super(message, { cause });
    this.status = status;
  }
}

/**
 * consistencyOf turns --consistency and --token into the wire form. `full` is the default: a
 * person at a terminal expects to see what they just wrote. Throws UsageError for an unknown mode
 * or a token mode without --token.
 */
export function consistencyOf(parsed: ParsedCommandLine): WireConsistency {
  const token = stringOption(parsed, "token");
  const mode = stringOption(parsed, "consistency") ?? (token === undefined ? "full" : "token");
  switch (mode) {
    case "full":
      return { requirement: "fullyConsistent", fullyConsistent: true };
    case "min":
      return { requirement: "minimizeLatency", minimizeLatency: true };
    case "token":
    case "exact":
      if (token === undefined) throw new UsageError(`--consistency ${mode} needs --token TOKEN`, { field: "--token" });
      return mode === "token"
        ? { requirement: "atLeastAsFresh", atLeastAsFresh: { token } }
        : { requirement: "atExactSnapshot", atExactSnapshot: { token } };
    default:
      throw new UsageError(`--consistency: "${mode}" is not one of full, min, token, exact`, { field: "--consistency" });
  }
}

/**
 * withClient connects to the endpoint of --endpoint / MANDATE_ENDPOINT, with TLS if the TLS flags
 * say so (see readClientTls) and the API key of --key / MANDATE_KEY (sent as `authorization:
 * Bearer`), runs `body` and closes the connection. A failed call becomes
 * ServerCallError (deadline: 30 s per call).
 */
export async function withClient<T>(parsed: ParsedCommandLine, io: CommandIo, body: (client: MandateClient) => Promise<T>): Promise<T> {
  const endpoint = settingOf(stringOption(parsed, "endpoint"), io.env["MANDATE_ENDPOINT"], DEFAULT_ENDPOINT);
  const tls = readClientTls(parsed, io.env, io.cwd);
  if (tls !== undefined) quietIpServerNameWarning();
  const apiKey = settingOf(stringOption(parsed, "key"), io.env["MANDATE_KEY"]);
  if (apiKey !== undefined && tls === undefined && !isLoopback(endpoint)) {
    io.err(`warning: sending an API key without TLS to ${endpoint}: anyone on the path can read it; pass --tls-ca (or --tls) for a server that serves TLS\n`);
  }
  const client = createMandateClient(endpoint, tls, { apiKey });
  try {
    return await body(client);
  } catch (error) {
    throw toServerCallError(error, endpoint, tls !== undefined);
  } finally {
    client.close();
  }
}

// Plaintext stays on this machine only for loopback endpoints (`localhost`, 127.x.x.x, `[::1]`, unix sockets).
function isLoopback(endpoint: string): boolean {
  if (endpoint.startsWith("unix:")) return true;
  const host = endpoint.startsWith("[") ? endpoint.slice(1, endpoint.indexOf("]")) : endpoint.replace(/:\d+$/, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** callDeadline is the deadline given to each call a command makes. */
export function callDeadline(): Date {
  return new Date(Date.now() + 30_000);
}

function toServerCallError(error: unknown, endpoint: string, tls: boolean): unknown {
  if (error instanceof AuthzError) return error;
  if (!(error instanceof Error) || !("code" in error) || typeof error.code !== "number") return error;
  const status = error.code;
  const name = STATUS_NAMES[status] ?? `status ${status}`;
  const details = "details" in error && typeof error.details === "string" && error.details !== "" ? error.details : error.message;
  // A plaintext client meets a TLS server (or the reverse) as a dropped connection, nothing clearer.
  const hint =
    name === "UNAUTHENTICATED"
      ? " (pass an API key with --key or MANDATE_KEY)"
      : name === "UNAVAILABLE"
      ? ` (is "mandate serve" running at ${endpoint}? ${tls ? "does it serve TLS, with a certificate --tls-ca trusts, for this name?" : "if it serves TLS, pass --tls-ca CA.pem"})`
      : "";
  return new ServerCallError(`${endpoint}: ${name}: ${details}${hint}`, status, error);
}
