import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { describe, expect, it, vi } from "vitest";
import type { ErrorCode } from "../tuple/index.ts";
import { BugError, FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from "../tuple/index.ts";
import { AbortedError, AlreadyExistsError, StoreUnavailableError } from "../store/index.ts";
import { grpcStatusFor, toGrpcStatus } from "./errors.ts";

// A stand-in for a per-call pino logger: toGrpcStatus only calls `error` and `bindings`.
function silentLogger() {
  const error = vi.fn();
  const bindings = () => ({ requestId: "req-7" });
  return { logger: { error, bindings } as unknown as Logger, error };
}

describe("grpcStatusFor", () => {
  it.each<[ErrorCode, status]>([
    ["invalid_argument", status.INVALID_ARGUMENT],
    ["failed_precondition", status.FAILED_PRECONDITION],
    ["not_found", status.NOT_FOUND],
    ["already_exists", status.ALREADY_EXISTS],
    ["resource_exhausted", status.RESOURCE_EXHAUSTED],
    ["unavailable", status.UNAVAILABLE],
    ["aborted", status.ABORTED],
    ["unauthenticated", status.UNAUTHENTICATED],
    ["permission_denied", status.PERMISSION_DENIED],
    ["internal", status.INTERNAL],
  ])("maps %s to gRPC status %d", (code, expected) => {
    expect(grpcStatusFor(code)).toBe(expected);
  });
});

describe("toGrpcStatus", () => {
  it.each([
    [new InvalidArgumentError("resource.object_id: is empty"), status.INVALID_ARGUMENT],
    [new FailedPreconditionError("permission: not found"), status.FAILED_PRECONDITION],
    [new NotFoundError("no schema has been written"), status.NOT_FOUND],
    [new AlreadyExistsError("updates[0]: already exists"), status.ALREADY_EXISTS],
    [new ResourceExhaustedError("items: too many"), status.RESOURCE_EXHAUSTED],
    [new StoreUnavailableError("store: unreachable"), status.UNAVAILABLE],
    [new AbortedError("schema changed"), status.ABORTED],
  ])("keeps the message of %s and sends its status", (error, expected) => {
    const { logger, error: logged } = silentLogger();
    expect(toGrpcStatus(error, logger)).toEqual({ code: expected, details: error.message });
    expect(logged).not.toHaveBeenCalled();
  });

  it.each([new Error("connection refused at 10.0.0.3:5432"), "a thrown string", new TypeError("x is undefined")])(
    "turns the unexpected %s into INTERNAL without revealing it, and logs it",
    (thrown) => {
      const { logger, error: logged } = silentLogger();
      expect(toGrpcStatus(thrown, logger)).toEqual({ code: status.INTERNAL, details: "internal error (request id req-7)" });
      expect(logged).toHaveBeenCalledWith({ err: thrown }, "internal error");
    },
  );

  it("sends a BugError as a bare INTERNAL naming the request id, and logs its message only", () => {
    const { logger, error: logged } = silentLogger();
    const bug = new BugError("unhandled caveat result for context {\"secret\":\"s3\"}");
    const sent = toGrpcStatus(bug, logger);
    expect(sent).toEqual({ code: status.INTERNAL, details: "internal error (request id req-7)" });
    expect(sent.details).not.toContain("s3");
    expect(logged).toHaveBeenCalledWith({ err: bug }, "internal error");
  });
});

describe("toGrpcStatus with a real per-call logger", () => {
  it("logs the hidden cause on a line that carries the request id the client was given", async () => {
    const { pino } = await import("pino");
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (line: string) => void lines.push(line) }).child({ requestId: "req-9" });
    const sent = toGrpcStatus(new BugError("context was {\"token\":\"t0p\"}"), logger);
    expect(sent.details).toBe("internal error (request id req-9)");
    const logged = JSON.parse(lines[0] ?? "{}") as { requestId?: string; err?: { message?: string } };
    expect(logged.requestId).toBe("req-9");
    expect(logged.err?.message).toContain("t0p");
  });
});
