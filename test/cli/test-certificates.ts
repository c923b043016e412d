import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * TestCertificates are PEM files in a fresh temporary folder: a CA, a server certificate it signed
 * for 127.0.0.1 and localhost, a client certificate it signed, and a key that matches neither.
 */
export interface TestCertificates {
  readonly folder: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly otherKey: string;
}

/**
 * makeTestCertificates generates TestCertificates with the `openssl` command (EC P-256, valid one
 * day), so that no key is ever committed.
 */
export function makeTestCertificates(): TestCertificates {
  const folder = mkdtempSync(join(tmpdir(), "mandate-tls-"));
  const file = (name: string) => join(folder, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: folder, stdio: ["ignore", "ignore", "pipe"] });
  const newKey = (name: string) => openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file(name));
  newKey("ca.key");
  openssl("req", "-x509", "-new", "-key", file("ca.key"), "-subj", "/CN=Mandate test CA", "-days", "1", "-out", file("ca.pem"));
  const issue = (name: string, subject: string, extensions: string) => {
    newKey(`${name}.key`);
    openssl("req", "-new", "-key", file(`${name}.key`), "-subj", subject, "-out", file(`${name}.csr`));
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      "x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
      "-days", "1", "-extfile", file(`${name}.ext`), "-out", file(`${name}.pem`),
    );
  };
  issue("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  issue("client", "/CN=mandate-test-client", "extendedKeyUsage=clientAuth\n");
  newKey("other.key");
  return {
    folder,
    caCert: file("ca.pem"),
    serverCert: file("server.pem"),
    serverKey: file("server.key"),
    clientCert: file("client.pem"),
    clientKey: file("client.key"),
    otherKey: file("other.key"),
  };
}
