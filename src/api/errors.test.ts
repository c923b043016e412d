import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { describe, expect, it, vi } from "vitest";
import type { ErrorCode } from "../tuple/index.ts";
import { BugError, FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from "../tuple/index.ts";
import { AbortedError, AlreadyExistsError, StoreUnavailableError } from "../store/index.ts";
import { grpcStatusFor, toGrpcStatus } from "./errors.ts";

// A stand-in for pino: toGrpcStatus only ever calls `error`.
function silentLogger() {
  const error = vi.fn();
  return { logger: { error } as unknown as Logger, error };
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
      expect(toGrpcStatus(thrown, logger)).toEqual({ code: status.INTERNAL, details: "internal error" });
      expect(logged).toHaveBeenCalledWith({ err: thrown }, "internal error");
    },
  );

  it("sends a BugError as INTERNAL with its BUG: message and logs it", () => {
    const { logger, error: logged } = silentLogger();
    const bug = new BugError("unhandled node");
    expect(toGrpcStatus(bug, logger)).toEqual({ code: status.INTERNAL, details: "BUG: unhandled node" });
    expect(logged).toHaveBeenCalledOnce();
  });
});
