import { describe, expect, it } from "vitest";
import { DepthExceededError } from "./errors.ts";
import { ALLOWED, DENIED, conditional, exclusionOf, intersectionOf, unionOf } from "./membership.ts";
import type { Membership } from "./membership.ts";
import { exclusion, intersection, union } from "./set-operations.ts";
import type { StepHandler } from "./set-operations.ts";

const A = ALLOWED;
const D = DENIED;
const C = conditional(["p"]);
const Q = conditional(["q"]);
// A: allowed, D: denied, C and Q: conditional on parameters p and q.
const BY_LETTER = { A, D, C, Q };

function name(membership: Membership): string {
  return membership.permissionship === "conditional" ? `conditional[${[...membership.missingParameters].sort().join(",")}]` : membership.permissionship;
}

describe("membership combinators", () => {
  it.each([
    ["A", "D", "allowed", "denied", "allowed"],
    ["D", "A", "allowed", "denied", "denied"],
    ["D", "D", "denied", "denied", "denied"],
    ["A", "A", "allowed", "allowed", "denied"],
    ["A", "C", "allowed", "conditional[p]", "conditional[p]"],
    ["C", "A", "allowed", "conditional[p]", "denied"],
    ["C", "D", "conditional[p]", "denied", "conditional[p]"],
    ["D", "C", "conditional[p]", "denied", "denied"],
    ["C", "Q", "conditional[p,q]", "conditional[p,q]", "conditional[p,q]"],
  ] as const)("combines %s and %s as union %s, intersection %s, exclusion %s", (a, b, unionName, intersectionName, exclusionName) => {
    expect(name(unionOf(BY_LETTER[a], BY_LETTER[b]))).toBe(unionName);
    expect(name(intersectionOf(BY_LETTER[a], BY_LETTER[b]))).toBe(intersectionName);
    expect(name(exclusionOf(BY_LETTER[a], BY_LETTER[b]))).toBe(exclusionName);
  });
});

/** handlers returns lazy operands and the list of operands actually run. */
function handlers(...memberships: Membership[]): { handlers: StepHandler[]; ran: number[] } {
  const ran: number[] = [];
  return {
    ran,
    handlers: memberships.map((membership, index) => async () => {
      ran.push(index);
      return { membership, trace: undefined };
    }),
  };
}

describe("set operation reducers", () => {
  it("union stops at the first allowed operand", async () => {
    const operands = handlers(D, C, A, D);
    const reduction = await union(operands.handlers);
    expect(name(reduction.membership)).toBe("allowed");
    expect(operands.ran).toEqual([0, 1, 2]);
    expect(reduction.steps).toHaveLength(3);
  });

  it("intersection stops at the first denied operand", async () => {
    const operands = handlers(A, C, D, A);
    expect(name((await intersection(operands.handlers)).membership)).toBe("denied");
    expect(operands.ran).toEqual([0, 1, 2]);
  });

  it("exclusion skips the subtracted side when the base is denied", async () => {
    const operands = handlers(D, A);
    const [base, subtract] = operands.handlers as [StepHandler, StepHandler];
    expect(name((await exclusion(base, [subtract])).membership)).toBe("denied");
    expect(operands.ran).toEqual([0]);
  });

  it.each([
    ["union", union, "denied"],
    ["intersection", intersection, "denied"],
  ] as const)("an empty %s is %s", async (_name, reducer, expected) => {
    expect(name((await reducer([])).membership)).toBe(expected);
  });

  it("reports conditional results with every missing parameter", async () => {
    expect(name((await union(handlers(C, D, Q).handlers)).membership)).toBe("conditional[p,q]");
    expect(name((await intersection(handlers(C, A, Q).handlers)).membership)).toBe("conditional[p,q]");
  });

  it("exclusion evaluates a chain in order and stops once denied", async () => {
    const operands = handlers(A, D, A, D);
    const [base, ...subtracts] = operands.handlers as [StepHandler, ...StepHandler[]];
    expect(name((await exclusion(base, subtracts)).membership)).toBe("denied");
    expect(operands.ran).toEqual([0, 1, 2]);
  });
});

const TOO_DEEP = new DepthExceededError("check", 50, { type: "group", id: "g49" }, "member");
const FAILS: StepHandler = async () => {
  throw TOO_DEEP;
};

describe("set operation reducers with an operand too deep to evaluate", () => {
  it.each([
    ["a union is allowed by a later allowed operand", () => union([FAILS, ...handlers(D, A).handlers]), "allowed"],
    ["an intersection is denied by a later denied operand", () => intersection([FAILS, ...handlers(A, D).handlers]), "denied"],
    ["an exclusion with a failed base is denied by an allowed subtracted side", () => exclusion(FAILS, handlers(A).handlers), "denied"],
    ["an exclusion with a denied base never computes the failing side", () => exclusion(handlers(D).handlers[0] as StepHandler, [FAILS]), "denied"],
  ] as const)("%s", async (_name, reduce, expected) => {
    expect(name((await reduce()).membership)).toBe(expected);
  });

  it.each([
    ["a union with no allowed operand", () => union([...handlers(D, C).handlers, FAILS])],
    ["an intersection with no denied operand", () => intersection([...handlers(A).handlers, FAILS, ...handlers(C).handlers])],
    ["an exclusion whose subtracted side fails", () => exclusion(handlers(A).handlers[0] as StepHandler, [FAILS])],
    ["an exclusion whose base fails and subtracted side is denied", () => exclusion(FAILS, handlers(D).handlers)],
  ] as const)("rethrows the failure from %s", async (_name, reduce) => {
    await expect(reduce()).rejects.toBe(TOO_DEEP);
  });
});
