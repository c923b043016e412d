import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMandate } from "./run-mandate.ts";
import { startServe } from "./serve-process.ts";
import type { ServeProcess } from "./serve-process.ts";
import { makeTestCertificates } from "./test-certificates.ts";
import type { TestCertificates } from "./test-certificates.ts";

// `mandate serve` with TLS and mutual TLS, and the client commands against it, as processes.
// The certificates are generated with openssl into a temporary folder for this run.

let certs: TestCertificates;
let tls: ServeProcess;
let mutual: ServeProcess;

// Auth is off: these tests are about the transport (API keys have their own tests).
const DRIVE = ["--auth", "none", "--datastore", "memory", "--schema", "schema/drive.zed", "--relationships", "schema/drive.relationships"];
const CHECK = ["check", "document:readme", "view", "user:bob"];

beforeAll(async () => {
  certs = makeTestCertificates();
  // The mutual TLS server takes its settings from a configuration file, to show one at work.
  const config = join(certs.folder, "mandate.yaml");
  writeFileSync(
    config,
    [
      "auth: none",
      "datastore: memory",
      "schema: schema/drive.zed",
      "relationships: schema/drive.relationships",
      `tls-cert: ${certs.serverCert}`,
      `tls-key: ${certs.serverKey}`,
      `tls-client-ca: ${certs.caCert}`,
      "",
    ].join("\n"),
  );
  [tls, mutual] = await Promise.all([
    startServe([...DRIVE, "--tls-cert", certs.serverCert, "--tls-key", certs.serverKey]),
    startServe(["--config", config]),
  ]);
});

afterAll(async () => {
  await Promise.all([tls?.stop(), mutual?.stop()]);
});

describe("mandate serve with TLS", () => {
  it("answers a check from a client that trusts its CA, and reports SERVING to mandate health", async () => {
    expect(await runMandate([...CHECK, "--endpoint", tls.endpoint, "--tls-ca", certs.caCert])).toEqual({ code: 0, stdout: "ALLOWED\n", stderr: "" });
    expect(await runMandate(["health", "--endpoint", tls.endpoint, "--tls-ca", certs.caCert])).toMatchObject({ code: 0, stdout: "SERVING\n" });
  });

  it("takes the client's TLS settings from the environment too", async () => {
    const run = await runMandate([...CHECK, "--endpoint", tls.endpoint], { env: { MANDATE_TLS_CA: certs.caCert } });
    expect(run).toMatchObject({ code: 0, stdout: "ALLOWED\n" });
  });

  it("logs that it serves TLS", () => {
    expect(tls.logLines.some((line) => line.includes('"transport":"tls"'))).toBe(true);
    expect(mutual.logLines.some((line) => line.includes('"transport":"mutual tls"'))).toBe(true);
  });

  it("fails a plaintext client clearly, pointing at --tls-ca", async () => {
    const run = await runMandate([...CHECK, "--endpoint", tls.endpoint]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("UNAVAILABLE");
    expect(run.stderr).toContain("if it serves TLS, pass --tls-ca CA.pem");
  });

  it("fails a client that does not trust the server's certificate, or expects another name", async () => {
    const untrusted = await runMandate([...CHECK, "--endpoint", tls.endpoint, "--tls"]);
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toContain("UNAVAILABLE");
    const misnamed = await runMandate([...CHECK, "--endpoint", tls.endpoint, "--tls-ca", certs.caCert, "--tls-server-name", "mandate.example"]);
    expect(misnamed.code).toBe(4);
    expect(misnamed.stderr).toContain("UNAVAILABLE");
  });
});

describe("mandate serve with mutual TLS", () => {
  it("answers a client that presents a certificate signed by the client CA", async () => {
    const run = await runMandate([...CHECK, "--endpoint", mutual.endpoint, "--tls-ca", certs.caCert, "--tls-cert", certs.clientCert, "--tls-key", certs.clientKey]);
    expect(run).toEqual({ code: 0, stdout: "ALLOWED\n", stderr: "" });
  });

  it("refuses a client without a certificate in the handshake", async () => {
    const run = await runMandate([...CHECK, "--endpoint", mutual.endpoint, "--tls-ca", certs.caCert]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("UNAVAILABLE");
    expect(run.stdout).toBe("");
  });
});

describe("mandate serve refuses TLS files it cannot use, before it binds", () => {
  it.each([
    ["a missing certificate", () => ["--tls-cert", join(certs.folder, "missing.pem"), "--tls-key", certs.serverKey], "--tls-cert/MANDATE_TLS_CERT: cannot read"],
    ["a key that is not the certificate's", () => ["--tls-cert", certs.serverCert, "--tls-key", certs.otherKey], "--tls-key/MANDATE_TLS_KEY: the key does not match the certificate of --tls-cert/MANDATE_TLS_CERT"],
    ["a key given as the certificate", () => ["--tls-cert", certs.serverKey, "--tls-key", certs.serverKey], "--tls-cert/MANDATE_TLS_CERT: not a PEM certificate"],
    ["a client CA that is not a certificate", () => ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey, "--tls-client-ca", certs.clientKey], "--tls-client-ca/MANDATE_TLS_CLIENT_CA: not a PEM certificate"],
  ])("with %s, naming the flag (exit 2)", async (_case, flags, message) => {
    const run = await runMandate(["serve", "--datastore", "memory", "--port", "0", ...flags()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("refuses an unknown key in the configuration file, naming it (exit 2)", async () => {
    const config = join(certs.folder, "typo.yaml");
    writeFileSync(config, "datastore: memory\ntls-crt: server.pem\n");
    const run = await runMandate(["serve", "--config", config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${config}:2: unknown key "tls-crt"`);
  });

  it("refuses a client key that is not its certificate's, naming the flag (exit 2)", async () => {
    const run = await runMandate([...CHECK, "--endpoint", mutual.endpoint, "--tls-ca", certs.caCert, "--tls-cert", certs.clientCert, "--tls-key", certs.otherKey]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--tls-key/MANDATE_CLIENT_TLS_KEY: the key does not match the certificate of --tls-cert/MANDATE_CLIENT_TLS_CERT");
  });
});
