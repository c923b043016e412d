import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callErrorOf, createMandateClient } from "../../src/api/index.ts";
import type { MandateClient } from "../../src/api/index.ts";
import { startServe } from "./serve-process.ts";
import type { ServeProcess } from "./serve-process.ts";

// `mandate serve --metrics-port 0` with the drive example, scraped over HTTP as Prometheus would,
// before and after a few calls.

let serve: ServeProcess;
let client: MandateClient;
let metricsUrl: string;

beforeAll(async () => {
  serve = await startServe(
    ["--datastore", "memory", "--metrics-port", "0", "--schema", "schema/drive.zed", "--relationships", "schema/drive.relationships"],
    { MANDATE_AUTH: "none" },
  );
  const line = serve.logLines.find((candidate) => candidate.includes('"metricsAddress"'));
  if (line === undefined) throw new Error(`no metrics address logged:\n${serve.logLines.join("\n")}`);
  metricsUrl = `http://${(JSON.parse(line) as { metricsAddress: string }).metricsAddress}/metrics`;
  client = createMandateClient(serve.endpoint);
});

afterAll(async () => {
  client?.close();
  await serve?.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  return response.text();
}

// The value of one sample, 0 when absent (a counter not yet incremented for those labels).
function value(text: string, name: string, labels = ""): number {
  const prefix = labels === "" ? `${name} ` : `${name}{${labels}} `;
  const line = text.split("\n").find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length));
}

const CHECK = 'grpc_service="PermissionsService",grpc_method="CheckPermission"';

function check(permission: string) {
  return { resource: { objectType: "document", objectId: "readme" }, permission, subject: { object: { objectType: "user", objectId: "bob" } } };
}

describe("the metrics endpoint", () => {
  it("counts calls by method and status, and times them, as they succeed and fail", async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) await client.check(check("view"));
    for (let i = 0; i < 2; i++) {
      const failure = await client.check(check("no_such_permission")).then(
        () => undefined,
        (error: unknown) => callErrorOf(error),
      );
      expect(failure?.codeName).toBe("FAILED_PRECONDITION");
    }
    // The outcome is recorded when gRPC reports the call over, just after the client hears it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await scrape();

    const delta = (name: string, labels: string) => value(after, name, labels) - value(before, name, labels);
    expect(delta("mandate_grpc_server_handled_total", `${CHECK},grpc_code="OK"`)).toBe(3);
    expect(delta("mandate_grpc_server_handled_total", `${CHECK},grpc_code="FAILED_PRECONDITION"`)).toBe(2);
    expect(delta("mandate_grpc_server_handling_seconds_count", `${CHECK},grpc_code="OK"`)).toBe(3);
    expect(value(after, "mandate_grpc_server_handling_seconds_sum", `${CHECK},grpc_code="OK"`)).toBeGreaterThan(0);
    expect(value(after, "mandate_grpc_server_handling_seconds_bucket", `le="+Inf",${CHECK},grpc_code="OK"`)).toBe(3);
    // The start-up data went through the API too.
    expect(value(after, "mandate_grpc_server_handled_total", 'grpc_service="SchemaService",grpc_method="WriteSchema",grpc_code="OK"')).toBe(1);
    const checks = (text: string) => ["cache", "index", "store"].reduce((sum, path) => sum + value(text, "mandate_checks_total", `path="${path}"`), 0);
    expect(checks(after) - checks(before)).toBe(3);
  });

  it("reports the graph index's revision, the store's head and the lag between them", async () => {
    const text = await scrape();
    expect(text).toMatch(/^mandate_index_revision_lag \d+$/m);
    expect(value(text, "mandate_store_head_revision")).toBeGreaterThanOrEqual(2);
    expect(value(text, "mandate_index_revision")).toBeLessThanOrEqual(value(text, "mandate_store_head_revision"));
    expect(text).toMatch(/^mandate_check_cache_hit_ratio [\d.]+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it("answers 404 outside /metrics", async () => {
    expect((await fetch(metricsUrl.replace("/metrics", "/"))).status).toBe(404);
  });
});
