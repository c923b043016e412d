import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../../tuple/index.ts";
import { AbortedError, StoreUnavailableError } from "../errors.ts";
import { translateSqlError } from "./sql-errors.ts";

// Driver errors as node-postgres and PGlite raise them: an Error with a `code`, the SQL nearby.
function driverError(message: string, code?: string): Error {
  return Object.assign(new Error(message), { code, query: "UPDATE relationships SET deleted_revision = $1" });
}

describe("translateSqlError", () => {
  it.each([
    ["connection refused", driverError("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"), StoreUnavailableError],
    ["a terminated backend", driverError("terminating connection due to administrator command", "57P01"), StoreUnavailableError],
    ["a connection exception (class 08)", driverError("connection failure", "08006"), StoreUnavailableError],
    ["too many connections", driverError("sorry, too many clients already", "53300"), StoreUnavailableError],
    ["a connection lost without a code", driverError("Connection terminated unexpectedly"), StoreUnavailableError],
    ["a serialization failure", driverError("could not serialize access", "40001"), AbortedError],
    ["a deadlock", driverError("deadlock detected", "40P01"), AbortedError],
  ])("maps %s to a retryable store error that carries no SQL", (_, error, expected) => {
    const translated = translateSqlError(error);
    expect(translated).toBeInstanceOf(expected);
    expect((translated as Error).message).not.toMatch(/relationships|UPDATE|\$1/);
    expect((translated as Error).cause).toBe(error);
  });

  it("passes AuthzErrors and unknown driver errors through unchanged", () => {
    const authz = new FailedPreconditionError("preconditions[0]: must_match failed", { field: "preconditions[0]" });
    const syntax = driverError("syntax error at or near", "42601");
    expect(translateSqlError(authz)).toBe(authz);
    expect(translateSqlError(syntax)).toBe(syntax);
  });
});
