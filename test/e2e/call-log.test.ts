import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Harness } from "./harness.ts";
import { rejection, startHarness } from "./harness.ts";

// The "call finished" lines the server logged, parsed.
const lines: Array<Record<string, unknown>> = [];
const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });

function finished(method: string): Array<Record<string, unknown>> {
  return lines.filter((line) => line["msg"] === "call finished" && line["method"] === method);
}

// The line is written when gRPC reports the call over, just after the client hears the status.
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

function check(objectId: string, permission: string) {
  return { resource: { objectType: "document", objectId }, permission, subject: { object: { objectType: "user", objectId: "ann" } } };
}

describe("the call log", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ logger, limits: { maxMessageBytes: 4096 } });
    await h.client.writeSchema({ schema: "definition user {}\n\ndefinition document {\n  relation viewer: user\n}\n" });
  });
  afterAll(async () => {
    await h.close();
  });

  it("logs OK with the request id for a call that succeeded", async () => {
    await h.client.readSchema();
    await settle();
    const [line] = finished("ReadSchema");
    expect(line).toMatchObject({ code: "OK" });
    expect(line?.["requestId"]).toEqual(expect.any(String));
  });

  it("does not log OK when the response was refused for being larger than the maximum message size", async () => {
    // Each item's error message makes the response several times larger than the request.
    const items = Array.from({ length: 40 }, (_, i) => check(`d${i}`, "unknown_permission_name"));
    const failure = await rejection(h.client.checkBulk({ items }));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    await settle();
    const [line] = finished("CheckBulkPermissions");
    expect(line).toMatchObject({ code: "UNKNOWN", responseNotSent: true });
  });

  it("logs the status of a call that failed", async () => {
    await rejection(h.client.check(check("readme", "nope")));
    await settle();
    expect(finished("CheckPermission")).toEqual([expect.objectContaining({ code: "FAILED_PRECONDITION" })]);
  });
});
