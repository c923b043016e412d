import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigFile, readConfigFile } from "./config-file.ts";

const KEYS = ["port", "host", "tls-cert", "gc-window"];

describe("parseConfigFile", () => {
  it("reads flag names to the text the flags would carry, leaving keys without a value unset", () => {
    const text = "# mandate serve\nport: 50051\nhost: 0.0.0.0\ntls-cert: /etc/mandate/server.pem\ngc-window:\n";
    expect(parseConfigFile(text, "mandate.yaml", KEYS)).toEqual({ port: "50051", host: "0.0.0.0", "tls-cert": "/etc/mandate/server.pem" });
  });

  it.each(["", "# nothing set yet\n"])("reads %j as no settings", (text) => {
    expect(parseConfigFile(text, "mandate.yaml", KEYS)).toEqual({});
  });

  it.each([
    ["port: 50051\ntls-crt: server.pem\n", 'mandate.yaml:2: unknown key "tls-crt" (the keys are the long names of mandate serve\'s flags: gc-window, host, port, tls-cert)'],
    ["port: [1, 2]\n", 'mandate.yaml:1: "port" must be a single value'],
    ["host:\n  name: x\n", 'mandate.yaml:2: "host" must be a single value'],
    ["- port\n", "mandate.yaml:1: a configuration file is a mapping of flag names to values"],
    ["port: 1\nport: 2\n", "mandate.yaml:2: Map keys must be unique"],
  ])("rejects %j naming the file, the line and the key", (text, message) => {
    expect(() => parseConfigFile(text, "mandate.yaml", KEYS)).toThrow(message);
  });
});

describe("readConfigFile", () => {
  it("reads a file relative to the working directory", () => {
    const folder = mkdtempSync(join(tmpdir(), "mandate-config-"));
    writeFileSync(join(folder, "mandate.yaml"), "port: 6000\n");
    expect(readConfigFile("mandate.yaml", folder, KEYS)).toEqual({ port: "6000" });
  });

  it("names the flag when the file cannot be read", () => {
    expect(() => readConfigFile("missing.yaml", tmpdir(), KEYS)).toThrow("--config/MANDATE_CONFIG: cannot read missing.yaml");
  });
});
