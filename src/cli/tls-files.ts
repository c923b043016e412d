import { X509Certificate, createPrivateKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { ClientTls, ServerTls } from "../api/index.ts";
import { booleanOption, settingOf, stringOption } from "./parse-command-line.ts";
import type { OptionSpec, ParsedCommandLine } from "./parse-command-line.ts";
import type { ServerTlsFiles } from "./serve-config.ts";
import { readFlagFile } from "./read-flag-file.ts";
import { UsageError } from "./usage-error.ts";

/**
 * readServerTls reads and checks the PEM files of `mandate serve`'s TLS flags (relative to `cwd`):
 * each must be readable and hold what its flag says, and the key must be the certificate's.
 * Throws UsageError naming the flag at fault, so that a mistake stops the server before it binds.
 */
export function readServerTls(files: ServerTlsFiles, cwd: string): ServerTls {
  const certChain = readFlagFile(files.certFile, "--tls-cert/MANDATE_TLS_CERT", cwd);
  const privateKey = readFlagFile(files.keyFile, "--tls-key/MANDATE_TLS_KEY", cwd);
  checkKeyPair(certChain, privateKey, "--tls-cert/MANDATE_TLS_CERT", "--tls-key/MANDATE_TLS_KEY");
  const clientCa = files.clientCaFile === undefined ? undefined : readFlagFile(files.clientCaFile, "--tls-client-ca/MANDATE_TLS_CLIENT_CA", cwd);
  if (clientCa !== undefined) certificateOf(clientCa, "--tls-client-ca/MANDATE_TLS_CLIENT_CA");
  return { certChain, privateKey, clientCa };
}

/** CLIENT_TLS_OPTIONS are the TLS flags every client command accepts (see readClientTls). */
export const CLIENT_TLS_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  tls: { type: "boolean" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-server-name": { type: "string" },
};

/** CLIENT_TLS_HELP documents CLIENT_TLS_OPTIONS, for each client command's help text. */
export const CLIENT_TLS_HELP = `TLS (plaintext unless one of these is given):
  --tls                  connect with TLS, trusting the system's CAs (env MANDATE_TLS=1)
  --tls-ca FILE          connect with TLS, trusting this PEM CA (env MANDATE_TLS_CA)
  --tls-cert FILE        client certificate for mutual TLS (env MANDATE_CLIENT_TLS_CERT) ...
  --tls-key FILE         ... and its private key (env MANDATE_CLIENT_TLS_KEY)
  --tls-server-name NAME the name to expect in the server's certificate, when it is not the
                         endpoint's host (env MANDATE_TLS_SERVER_NAME)
`;

/**
 * readClientTls reads the TLS flags of a client command and their environment variables (the flag
 * wins), relative to `cwd`. Undefined (plaintext) unless one of them is given. The client's own
 * certificate variables are MANDATE_CLIENT_TLS_*, not the server's MANDATE_TLS_CERT/KEY, so that
 * `mandate health` beside a TLS server does not present the server's certificate as its own.
 * Throws UsageError naming the flag at fault (unreadable file, a certificate without its key, a
 * key that is not the certificate's).
 */
export function readClientTls(parsed: ParsedCommandLine, env: Readonly<Record<string, string | undefined>>, cwd: string): ClientTls | undefined {
  const caFile = settingOf(stringOption(parsed, "tls-ca"), env["MANDATE_TLS_CA"]);
  const certFile = settingOf(stringOption(parsed, "tls-cert"), env["MANDATE_CLIENT_TLS_CERT"]);
  const keyFile = settingOf(stringOption(parsed, "tls-key"), env["MANDATE_CLIENT_TLS_KEY"]);
  const serverName = settingOf(stringOption(parsed, "tls-server-name"), env["MANDATE_TLS_SERVER_NAME"]);
  const tls = booleanOption(parsed, "tls") || ["1", "true"].includes(env["MANDATE_TLS"] ?? "");
  if (!tls && [caFile, certFile, keyFile, serverName].every((value) => value === undefined)) return undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(certFile === undefined ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key", { field: certFile === undefined ? "--tls-cert" : "--tls-key" });
  }
  const ca = caFile === undefined ? undefined : readFlagFile(caFile, "--tls-ca/MANDATE_TLS_CA", cwd);
  if (ca !== undefined) certificateOf(ca, "--tls-ca/MANDATE_TLS_CA");
  const certChain = certFile === undefined ? undefined : readFlagFile(certFile, "--tls-cert/MANDATE_CLIENT_TLS_CERT", cwd);
  const privateKey = keyFile === undefined ? undefined : readFlagFile(keyFile, "--tls-key/MANDATE_CLIENT_TLS_KEY", cwd);
  if (certChain !== undefined && privateKey !== undefined) {
    checkKeyPair(certChain, privateKey, "--tls-cert/MANDATE_CLIENT_TLS_CERT", "--tls-key/MANDATE_CLIENT_TLS_KEY");
  }
  return { ca, certChain, privateKey, serverName };
}

function certificateOf(pem: Buffer, flag: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new UsageError(`${flag}: not a PEM certificate (${error instanceof Error ? error.message : String(error)})`, { field: flag, cause: error });
  }
}

function privateKeyOf(pem: Buffer, flag: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new UsageError(`${flag}: not a PEM private key (${error instanceof Error ? error.message : String(error)})`, { field: flag, cause: error });
  }
}

// The handshake would fail later with an OpenSSL message naming neither file.
function checkKeyPair(certPem: Buffer, keyPem: Buffer, certFlag: string, keyFlag: string): void {
  const certificate = certificateOf(certPem, certFlag);
  if (!certificate.checkPrivateKey(privateKeyOf(keyPem, keyFlag))) {
    throw new UsageError(`${keyFlag}: the key does not match the certificate of ${certFlag} (${certificate.subject.replaceAll("\n", ", ")})`, { field: keyFlag });
  }
}

/**
 * quietIpServerNameWarning stops Node's DEP0123 warning ("Setting the TLS ServerName to an IP
 * address ...") from being printed by this process: grpc-js sends the endpoint's host as the TLS
 * server name even when it is an IP address (grpc/grpc-node#1919), so every TLS command against
 * `127.0.0.1:50051` would print it though nothing is wrong (the certificate is still checked
 * against the IP). Other warnings pass through. The CLI is the only caller: it owns its process.
 */
export function quietIpServerNameWarning(): void {
  if (ipWarningQuieted) return;
  ipWarningQuieted = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: unknown }).code : rest[1];
    if (code === "DEP0123") return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}

let ipWarningQuieted = false;
