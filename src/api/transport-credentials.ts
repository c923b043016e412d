import * as grpc from "@grpc/grpc-js";

/**
 * ServerTls is the PEM material of a TLS server: its certificate chain and private key, and with
 * `clientCa` mutual TLS, where every client must present a certificate signed by that CA.
 */
export interface ServerTls {
  readonly certChain: Buffer;
  readonly privateKey: Buffer;
  readonly clientCa?: Buffer | undefined;
}

/**
 * ClientTls is the PEM material of a TLS client: the CA it trusts (undefined: the system's
 * roots), a certificate and key to present for mutual TLS, and the name to expect in the server's
 * certificate when it differs from the endpoint's host.
 */
export interface ClientTls {
  readonly ca?: Buffer | undefined;
  readonly certChain?: Buffer | undefined;
  readonly privateKey?: Buffer | undefined;
  readonly serverName?: string | undefined;
}

/** ServerTransport is what MandateServer.listen binds with (see serverCredentials). */
export type ServerTransport = grpc.ServerCredentials;

/** serverCredentials is TLS (mutual with `tls.clientCa`) for `tls`, plaintext for undefined. */
export function serverCredentials(tls: ServerTls | undefined): ServerTransport {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  // checkClientCertificate: with a client CA, a client without a certificate is refused in the handshake.
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.certChain, private_key: tls.privateKey }], tls.clientCa !== undefined);
}

/**
 * channelCredentials is TLS for `tls`, plaintext for undefined. `serverName` overrides the name
 * checked against the server's certificate (and sent as SNI), as grpc's
 * `grpc.ssl_target_name_override` does; see channelOptions.
 */
export function channelCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca ?? null, tls.privateKey ?? null, tls.certChain ?? null);
}

/** channelOptions are the channel settings `tls` needs: the target name override of `serverName`. */
export function channelOptions(tls: ClientTls | undefined): grpc.ChannelOptions {
  return tls?.serverName === undefined ? {} : { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName };
}
