import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./parse-command-line.ts";
import { resolveServeConfig, SERVE_OPTIONS } from "./serve-config.ts";

const resolveWith = (args: string[], env: Record<string, string> = {}) => resolveServeConfig(parseCommandLine(args, SERVE_OPTIONS), env);

describe("the metrics settings of mandate serve", () => {
  it.each<[string, string[], Record<string, string>, { metricsPort: number | undefined; metricsHost: string }]>([
    ["serves no metrics unless asked", [], {}, { metricsPort: undefined, metricsHost: "127.0.0.1" }],
    ["takes the port from --metrics-port", ["--metrics-port", "9464"], {}, { metricsPort: 9464, metricsHost: "127.0.0.1" }],
    ["takes the port from MANDATE_METRICS_PORT", [], { MANDATE_METRICS_PORT: "0" }, { metricsPort: 0, metricsHost: "127.0.0.1" }],
    ["binds 127.0.0.1 by default, whatever the gRPC server's host (the endpoint has no authentication)", ["--host", "0.0.0.0", "--metrics-port", "9464"], {}, { metricsPort: 9464, metricsHost: "127.0.0.1" }],
    ["lets --metrics-host win over the host", ["--host", "0.0.0.0", "--metrics-host", "127.0.0.1"], { MANDATE_METRICS_PORT: "9464" }, { metricsPort: 9464, metricsHost: "127.0.0.1" }],
    ["reads MANDATE_METRICS_HOST", [], { MANDATE_METRICS_HOST: "10.0.0.5" }, { metricsPort: undefined, metricsHost: "10.0.0.5" }],
  ])("%s", (_, args, env, expected) => {
    expect(resolveWith(args, env)).toMatchObject(expected);
  });

  it("refuses a port that is not one, naming the flag and the variable", () => {
    expect(() => resolveWith(["--metrics-port", "http"])).toThrow(/--metrics-port\/MANDATE_METRICS_PORT/);
    expect(() => resolveWith([], { MANDATE_METRICS_PORT: "70000" })).toThrow(/--metrics-port\/MANDATE_METRICS_PORT/);
  });
});
