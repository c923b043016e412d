import { CelScalar, celEnv, celError, celMethod, isCelError, parse, plan } from "@bufbuild/cel";
import type { CelError, CelInput, CelResult } from "@bufbuild/cel";
import { BugError } from "../tuple/index.ts";
import { ipInCidr, parseIpAddress } from "../schema/index.ts";
import type { CaveatDefinition } from "../schema/index.ts";

// The CEL syntax tree as @bufbuild/cel's parser returns it.
type Expr = NonNullable<ReturnType<typeof parse>["expr"]>;

/**
 * CaveatOutcome is what a caveat expression comes to for one context: a decided bool, or
 * `missing`, the parameters whose absence left it undecided (never empty), or `error`, a genuine
 * evaluation error (division by zero, overflow, a bad conversion, an invalid CIDR) with CEL's message.
 */
export type CaveatOutcome =
  | { readonly kind: "decided"; readonly value: boolean }
  | { readonly kind: "missing"; readonly parameters: ReadonlySet<string> }
  | { readonly kind: "error"; readonly message: string };

/**
 * CaveatProgram is a caveat expression planned once for evaluation: `run` evaluates it with the
 * parameters in `bindings` (CEL values, see toCelValue) and every other declared parameter unknown.
 */
export interface CaveatProgram {
  run(bindings: ReadonlyMap<string, CelInput>): CaveatOutcome;
}

/**
 * compileCaveat plans `caveat`'s expression (which the schema compiler has already parsed and
 * type-checked) for partial evaluation with the semantics of cel-go as SpiceDB runs it
 * (OptPartialEval, unknown = absent parameter):
 * - `a && b` is false if either side is false, whatever the other (unknown or error); otherwise
 *   unknown on the union of both sides' unknowns if any; otherwise the first error. `||` alike.
 * - `c ? x : y` with `c` unknown is unknown on `c`'s parameters only; `!x` passes unknowns through.
 * - any other operation is strict: its first unknown or erroneous operand (left to right) is its
 *   result; a genuine error is an `error` outcome, not a missing parameter.
 * The logical operators and `?:` are walked here; every maximal subtree without them is planned
 * with @bufbuild/cel, an absent parameter bound to a marker error that flows out of it (the
 * library merges the errors of `&&`/`||` inside macros, keeping the first error's message and the
 * rest as `cause`; markers are collected from both). Plans are kept per caveat definition object,
 * so compiling the same schema's caveat again is free.
 */
export function compileCaveat(caveat: CaveatDefinition): CaveatProgram {
  let program = PROGRAMS.get(caveat);
  if (program === undefined) {
    program = new PlannedCaveat(caveat);
    PROGRAMS.set(caveat, program);
  }
  return program;
}

const PROGRAMS = new WeakMap<CaveatDefinition, CaveatProgram>();

// SpiceDB's `ipaddress` type: the type checker keeps it apart from strings, so at run time it is
// its canonical text (formatIpAddress) and `in_cidr` is a method on that text.
const ENV = celEnv({
  funcs: [
    celMethod("in_cidr", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (this: string, cidr: string): boolean {
      const ip = parseIpAddress(this);
      const inside = ip === undefined ? undefined : ipInCidr(ip, cidr);
      if (inside === undefined) throw new Error(`invalid CIDR string: \`${cidr}\``);
      return inside;
    }),
  ],
});

const MARKER = "\u0000mandate-unknown-parameter:";

type Value = CelResult;
type Bindings = Record<string, CelInput | CelError>;
type Partial = { readonly kind: "value"; readonly value: Value } | { readonly kind: "unknown"; readonly parameters: Set<string> } | { readonly kind: "error"; readonly error: CelError };

// A node of the walked tree: the logical operators and `?:` here, everything else a planned leaf.
type Node =
  | { readonly kind: "and" | "or"; readonly left: Node; readonly right: Node }
  | { readonly kind: "not"; readonly operand: Node }
  | { readonly kind: "conditional"; readonly test: Node; readonly then: Node; readonly otherwise: Node }
  | { readonly kind: "leaf"; readonly evaluate: (bindings: Bindings) => CelResult };

class PlannedCaveat implements CaveatProgram {
  readonly #parameters: readonly string[];
  readonly #root: Node;

  constructor(caveat: CaveatDefinition) {
    this.#parameters = [...caveat.parameters.keys()];
    const parsed = parse(caveat.expression).expr;
    if (parsed === undefined) throw new BugError(`caveat \`${caveat.name}\` has an empty expression`);
    this.#root = nodeOf(parsed);
  }

  run(bindings: ReadonlyMap<string, CelInput>): CaveatOutcome {
    const activation: Bindings = {};
    for (const parameter of this.#parameters) {
      // `has`, not `??`: a JSON null is a value (of an `any` parameter), not an absence.
      activation[parameter] = bindings.has(parameter) ? (bindings.get(parameter) as CelInput) : celError(`${MARKER}${parameter}`);
    }
    const result = evaluate(this.#root, activation);
    switch (result.kind) {
      case "unknown":
        return { kind: "missing", parameters: result.parameters };
      case "error":
        return { kind: "error", message: result.error.message };
      case "value":
        if (typeof result.value === "boolean") return { kind: "decided", value: result.value };
        return { kind: "error", message: "the expression did not evaluate to a bool" };
    }
  }
}

function nodeOf(expr: Expr): Node {
  const kind = expr.exprKind;
  if (kind.case === "callExpr" && kind.value.target === undefined) {
    const [first, second, third] = kind.value.args;
    const fn = kind.value.function;
    if ((fn === "_&&_" || fn === "_||_") && first !== undefined && second !== undefined && third === undefined) {
      return { kind: fn === "_&&_" ? "and" : "or", left: nodeOf(first), right: nodeOf(second) };
    }
    if (fn === "!_" && first !== undefined && second === undefined) return { kind: "not", operand: nodeOf(first) };
    if (fn === "_?_:_" && first !== undefined && second !== undefined && third !== undefined) {
      return { kind: "conditional", test: nodeOf(first), then: nodeOf(second), otherwise: nodeOf(third) };
    }
  }
  const planned = plan(ENV, expr);
  return { kind: "leaf", evaluate: (bindings) => planned(bindings as never) };
}

function evaluate(node: Node, bindings: Bindings): Partial {
  switch (node.kind) {
    case "leaf":
      return classify(node.evaluate(bindings));
    case "not": {
      const operand = evaluate(node.operand, bindings);
      if (operand.kind !== "value") return operand;
      return typeof operand.value === "boolean" ? { kind: "value", value: !operand.value } : noOverload("!_");
    }
    case "conditional": {
      const test = evaluate(node.test, bindings);
      if (test.kind !== "value") return test;
      if (typeof test.value !== "boolean") return noOverload("_?_:_");
      return evaluate(test.value ? node.then : node.otherwise, bindings);
    }
    case "and":
    case "or": {
      // The value that decides the operator alone: false for `&&`, true for `||`.
      const decisive = node.kind === "or";
      const left = evaluate(node.left, bindings);
      if (left.kind === "value" && left.value === decisive) return left;
      const right = evaluate(node.right, bindings);
      if (right.kind === "value" && right.value === decisive) return right;
      const unknown = new Set<string>();
      for (const side of [left, right]) if (side.kind === "unknown") for (const parameter of side.parameters) unknown.add(parameter);
      if (unknown.size > 0) return { kind: "unknown", parameters: unknown };
      if (left.kind === "error") return left;
      if (right.kind === "error") return right;
      if (left.kind !== "value" || right.kind !== "value" || typeof left.value !== "boolean" || typeof right.value !== "boolean") {
        return noOverload(node.kind === "and" ? "_&&_" : "_||_");
      }
      return { kind: "value", value: !decisive };
    }
  }
}

// A leaf's result: a marker error (its message names an absent parameter) is an unknown, on every
// marker in its cause chain too; any other error is genuine.
function classify(result: CelResult): Partial {
  if (!isCelError(result)) return { kind: "value", value: result };
  if (!result.message.startsWith(MARKER)) return { kind: "error", error: result };
  const parameters = new Set<string>();
  const pending: unknown[] = [result];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (Array.isArray(next)) pending.push(...(next as unknown[]));
    else if (isCelError(next)) {
      if (next.message.startsWith(MARKER)) parameters.add(next.message.slice(MARKER.length));
      if (next.cause !== undefined) pending.push(next.cause);
    }
  }
  return { kind: "unknown", parameters };
}

function noOverload(operator: string): Partial {
  return { kind: "error", error: celError(`no such overload for ${operator}`) };
}
