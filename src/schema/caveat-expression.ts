import { parse } from "@bufbuild/cel";
import { assertNever } from "../tuple/index.ts";
import type { CaveatParameterType } from "./model.ts";

// The CEL syntax tree as @bufbuild/cel's parser returns it (the cel.expr.Expr message).
type Expr = ReturnType<typeof parse>["expr"];

/**
 * CaveatExpressionProblem is one problem in a caveat's CEL expression: `offset` is the index (in
 * UTF-16 code units) in the expression text of the token at fault, `message` a sentence.
 */
export interface CaveatExpressionProblem {
  readonly offset: number;
  readonly message: string;
}

/**
 * CaveatExpressionCheck is the outcome of checkCaveatExpression: every problem found (empty when
 * the expression is valid) and the parameters the expression refers to (undefined when it does
 * not parse, so that nothing can be said about them).
 */
export interface CaveatExpressionCheck {
  readonly problems: readonly CaveatExpressionProblem[];
  readonly usedParameters: ReadonlySet<string> | undefined;
}

/**
 * MAX_CEL_NESTING bounds how deeply brackets nest in a caveat expression and MAX_CEL_DEPTH the
 * depth of its syntax tree (`a + b + c ...` is as deep as it is long): the CEL parser, this checker
 * and the evaluator all recurse once per level.
 */
export const MAX_CEL_NESTING = 100;
export const MAX_CEL_DEPTH = 250;

// CEL types as this checker sees them. `free` is the unknown element type of an empty literal
// (`[]`, `{}`): it takes the type of whatever it is combined with, where `dyn` stays `dyn`.
type CelType =
  | { readonly kind: "int" | "uint" | "double" | "bool" | "string" | "bytes" | "null" | "duration" | "timestamp" | "ipaddress" | "type" | "dyn" | "free" }
  | { readonly kind: "list"; readonly element: CelType }
  | { readonly kind: "map"; readonly key: CelType; readonly value: CelType };

const INT: CelType = { kind: "int" };
const UINT: CelType = { kind: "uint" };
const DOUBLE: CelType = { kind: "double" };
const BOOL: CelType = { kind: "bool" };
const STRING: CelType = { kind: "string" };
const BYTES: CelType = { kind: "bytes" };
const NULL: CelType = { kind: "null" };
const DURATION: CelType = { kind: "duration" };
const TIMESTAMP: CelType = { kind: "timestamp" };
const IPADDRESS: CelType = { kind: "ipaddress" };
const TYPE: CelType = { kind: "type" };
const DYN: CelType = { kind: "dyn" };
const FREE: CelType = { kind: "free" };

/** An overload: parameter types (the receiver first, for a method) and the result type. */
type Overload = readonly [readonly CelType[], CelType];

const NUMBERS = [INT, UINT, DOUBLE];
const ORDERED = [INT, UINT, DOUBLE, STRING, BYTES, BOOL, TIMESTAMP, DURATION];
const same = (types: readonly CelType[], arity: number, result?: CelType): Overload[] =>
  types.map((type) => [Array<CelType>(arity).fill(type), result ?? type]);
const from = (types: readonly CelType[], result: CelType): Overload[] => types.map((type) => [[type], result]);
const comparison = same(ORDERED, 2, BOOL);
const TIME_GETTERS: Overload[] = [
  [[TIMESTAMP], INT],
  [[TIMESTAMP, STRING], INT],
];

// CEL's standard functions with fixed types (cel-go's declarations, as SpiceDB uses them). The
// generic ones (equality, `?:`, indexing, `in`, `size`, list `+`, `dyn`, `type`) are handled in code.
const FUNCTIONS: ReadonlyMap<string, readonly Overload[]> = new Map<string, Overload[]>([
  ["_+_", [...same([INT, UINT, DOUBLE, STRING, BYTES, DURATION], 2), [[TIMESTAMP, DURATION], TIMESTAMP], [[DURATION, TIMESTAMP], TIMESTAMP]]],
  ["_-_", [...same([INT, UINT, DOUBLE, DURATION], 2), [[TIMESTAMP, TIMESTAMP], DURATION], [[TIMESTAMP, DURATION], TIMESTAMP]]],
  ["_*_", same(NUMBERS, 2)],
  ["_/_", same(NUMBERS, 2)],
  ["_%_", same([INT, UINT], 2)],
  ["-_", same([INT, DOUBLE], 1)],
  ["!_", same([BOOL], 1)],
  ["_&&_", same([BOOL], 2)],
  ["_||_", same([BOOL], 2)],
  ["@not_strictly_false", same([BOOL], 1)],
  ["_<_", comparison],
  ["_<=_", comparison],
  ["_>_", comparison],
  ["_>=_", comparison],
  ["matches", [[[STRING, STRING], BOOL]]],
  ["int", from([INT, UINT, DOUBLE, STRING, TIMESTAMP], INT)],
  ["uint", from([INT, UINT, DOUBLE, STRING], UINT)],
  ["double", from([INT, UINT, DOUBLE, STRING], DOUBLE)],
  ["string", from([INT, UINT, DOUBLE, BOOL, STRING, BYTES, TIMESTAMP, DURATION], STRING)],
  ["bytes", from([BYTES, STRING], BYTES)],
  ["bool", from([BOOL, STRING], BOOL)],
  ["duration", from([DURATION, STRING], DURATION)],
  ["timestamp", from([TIMESTAMP, STRING, INT], TIMESTAMP)],
]);

// Methods (`receiver.name(args)`), with the receiver as first parameter. `in_cidr` is SpiceDB's
// method on its `ipaddress` type.
const METHODS: ReadonlyMap<string, readonly Overload[]> = new Map<string, Overload[]>([
  ["contains", [[[STRING, STRING], BOOL]]],
  ["startsWith", [[[STRING, STRING], BOOL]]],
  ["endsWith", [[[STRING, STRING], BOOL]]],
  ["matches", [[[STRING, STRING], BOOL]]],
  ["in_cidr", [[[IPADDRESS, STRING], BOOL]]],
  ...["getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek"].map((name): [string, Overload[]] => [name, TIME_GETTERS]),
  ...["getHours", "getMinutes", "getSeconds", "getMilliseconds"].map((name): [string, Overload[]] => [name, [...TIME_GETTERS, [[DURATION], INT]]]),
]);

// Names that denote types when no parameter has them (`type(x) == int`).
const TYPE_NAMES = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"]);

/**
 * checkCaveatExpression parses `expression` with @bufbuild/cel's CEL parser and type-checks it
 * against the caveat's parameters, the way SpiceDB does with cel-go (compared case by case with
 * SpiceDB v1.54): every identifier must be a parameter (or a variable of a macro such as
 * `list.exists(x, ...)`), every operator and function must have an overload for its argument
 * types, with no implicit conversion between int, uint and double, and the whole expression must
 * be a `bool`. Parameter types map to CEL as SpiceDB maps them: `any` is `dyn`, `map<T>` is
 * `map(string, T)`, `ipaddress` is an opaque type whose only method is `in_cidr(string)`, and
 * `uint` is CEL's `int` (a quirk of SpiceDB that makes `u == 1` valid and `u == 1u` not).
 * It never throws; an expression too deep to parse safely is a problem like any other.
 */
export function checkCaveatExpression(expression: string, parameters: ReadonlyMap<string, CaveatParameterType>): CaveatExpressionCheck {
  const tooDeep = deepBracket(expression);
  if (tooDeep !== undefined) {
    return { problems: [{ offset: tooDeep, message: `expression nests deeper than ${MAX_CEL_NESTING} levels of brackets` }], usedParameters: undefined };
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (error) {
    return { problems: [syntaxProblem(error)], usedParameters: undefined };
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const offsetOf = (expr: Expr): number => skipSpace(expression, positions[String(expr.id)] ?? 0);
  if (treeDepth(parsed.expr) > MAX_CEL_DEPTH) {
    return { problems: [{ offset: 0, message: `expression is nested deeper than ${MAX_CEL_DEPTH} levels (a chain of that many operators)` }], usedParameters: undefined };
  }
  const declared = new Map<string, CelType>();
  for (const [name, type] of parameters) declared.set(name, celTypeOf(type));
  const checker = new TypeChecker(declared, offsetOf);
  const result = checker.check(parsed.expr, new Map());
  if (checker.problems.length === 0 && result.kind !== "bool") {
    checker.problems.push({ offset: 0, message: `the expression must be a bool, but it is ${formatType(result)}` });
  }
  return { problems: checker.problems, usedParameters: checker.used };
}

class TypeChecker {
  readonly problems: CaveatExpressionProblem[] = [];
  readonly used = new Set<string>();
  readonly #parameters: ReadonlyMap<string, CelType>;
  readonly #offsetOf: (expr: Expr) => number;

  constructor(parameters: ReadonlyMap<string, CelType>, offsetOf: (expr: Expr) => number) {
    this.#parameters = parameters;
    this.#offsetOf = offsetOf;
  }

  // Returns the type of `expr`; after a problem it returns `dyn`, so that one mistake is reported once.
  check(expr: Expr, scope: ReadonlyMap<string, CelType>): CelType {
    const kind = expr.exprKind;
    switch (kind.case) {
      case "constExpr":
        return constantType(kind.value.constantKind.case);
      case "identExpr":
        return this.#identifier(expr, kind.value.name, scope);
      case "selectExpr": {
        const operand = this.check(kind.value.operand ?? expr, scope);
        const fieldType = this.#field(expr, operand, kind.value.field);
        return kind.value.testOnly ? BOOL : fieldType;
      }
      case "callExpr": {
        const target = kind.value.target === undefined ? undefined : this.check(kind.value.target, scope);
        const args = kind.value.args.map((arg) => this.check(arg, scope));
        return this.#call(expr, kind.value.function, target, args);
      }
      case "listExpr":
        return { kind: "list", element: join(kind.value.elements.map((element) => this.check(element, scope))) };
      case "structExpr": {
        const keys: CelType[] = [];
        const values: CelType[] = [];
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") keys.push(this.check(entry.keyKind.value, scope));
          if (entry.value !== undefined) values.push(this.check(entry.value, scope));
        }
        const message = kind.value.messageName;
        if (message === "") return { kind: "map", key: join(keys), value: join(values) };
        if (message === "google.protobuf.Timestamp") return TIMESTAMP;
        if (message === "google.protobuf.Duration") return DURATION;
        if (message.startsWith("google.protobuf.")) return DYN;
        return this.#fail(expr, `unknown message type "${message}"`);
      }
      case "comprehensionExpr": {
        const comprehension = kind.value;
        const range = this.check(comprehension.iterRange ?? expr, scope);
        let element: CelType = DYN;
        if (range.kind === "list") element = range.element;
        else if (range.kind === "map") element = range.key;
        else if (range.kind !== "dyn" && range.kind !== "free") {
          return this.#fail(comprehension.iterRange ?? expr, `a macro cannot iterate over ${formatType(range)}; it needs a list or a map`);
        }
        const initial = this.check(comprehension.accuInit ?? expr, scope);
        const inner = new Map(scope).set(comprehension.accuVar, initial).set(comprehension.iterVar, element);
        if (comprehension.loopCondition !== undefined) this.check(comprehension.loopCondition, inner);
        const step = comprehension.loopStep === undefined ? initial : this.check(comprehension.loopStep, inner);
        const accumulator = unify(initial, step) ?? DYN;
        return this.check(comprehension.result ?? expr, new Map(scope).set(comprehension.accuVar, accumulator));
      }
      case undefined:
        return this.#fail(expr, "empty expression");
      default:
        return assertNever(kind, "CEL expression");
    }
  }

  #identifier(expr: Expr, name: string, scope: ReadonlyMap<string, CelType>): CelType {
    const local = scope.get(name);
    if (local !== undefined) return local;
    const parameter = this.#parameters.get(name);
    if (parameter !== undefined) {
      this.used.add(name);
      return parameter;
    }
    if (TYPE_NAMES.has(name)) return TYPE;
    const known = [...this.#parameters.keys()].map((candidate) => `"${candidate}"`).join(", ");
    return this.#fail(expr, `"${name}" is not a parameter of the caveat (its parameters: ${known})`);
  }

  #field(expr: Expr, operand: CelType, field: string): CelType {
    switch (operand.kind) {
      case "map":
        if (operand.key.kind === "string" || operand.key.kind === "dyn" || operand.key.kind === "free") return operand.value;
        return this.#fail(expr, `\`.${field}\` selects a string key, but the map's keys are ${formatType(operand.key)}`);
      case "dyn":
      case "free":
        return DYN;
      default:
        return this.#fail(expr, `${formatType(operand)} has no fields (\`.${field}\`)`);
    }
  }

  #call(expr: Expr, name: string, target: CelType | undefined, args: CelType[]): CelType {
    const all = target === undefined ? args : [target, ...args];
    const generic = this.#generic(name, target, args);
    if (generic !== undefined) return generic === "none" ? this.#noOverload(expr, name, target, args) : generic;
    const overloads = (target === undefined ? FUNCTIONS : METHODS).get(name);
    if (overloads === undefined) {
      const kind = target === undefined ? "function" : "method";
      return this.#fail(expr, `unknown ${kind} \`${name}\``);
    }
    const results = overloads
      .filter(([parameters]) => parameters.length === all.length && parameters.every((parameter, i) => unify(all[i] ?? DYN, parameter) !== undefined))
      .map(([, result]) => result);
    if (results.length === 0) return this.#noOverload(expr, name, target, args);
    const [first] = results;
    return first !== undefined && results.every((result) => formatType(result) === formatType(first)) ? first : DYN;
  }

  // The functions whose result depends on their argument types; "none" when no form applies,
  // undefined when `name` is not one of them.
  #generic(name: string, target: CelType | undefined, args: readonly CelType[]): CelType | "none" | undefined {
    const [a, b, c] = args;
    if (target === undefined) {
      switch (name) {
        case "_==_":
        case "_!=_":
          return args.length === 2 && unify(a ?? DYN, b ?? DYN) !== undefined ? BOOL : "none";
        case "_?_:_":
          if (args.length !== 3 || unify(a ?? DYN, BOOL) === undefined) return "none";
          return unify(b ?? DYN, c ?? DYN) ?? "none";
        case "_[_]":
          return args.length === 2 ? index(a ?? DYN, b ?? DYN) : "none";
        case "@in":
          return args.length === 2 && contains(b ?? DYN, a ?? DYN) ? BOOL : "none";
        case "_+_":
          if (a?.kind === "list" || b?.kind === "list") {
            const joined = unify(a ?? DYN, b ?? DYN);
            return joined?.kind === "list" || joined?.kind === "dyn" ? joined : "none";
          }
          return undefined;
        case "size":
          return args.length === 1 && sized(a ?? DYN) ? INT : "none";
        case "dyn":
          return args.length === 1 ? DYN : "none";
        case "type":
          return args.length === 1 ? TYPE : "none";
        default:
          return undefined;
      }
    }
    if (name === "size") return args.length === 0 && sized(target) ? INT : "none";
    return undefined;
  }

  #noOverload(expr: Expr, name: string, target: CelType | undefined, args: readonly CelType[]): CelType {
    const types = args.map(formatType).join(", ");
    const applied = target === undefined ? `(${types})` : `${formatType(target)}.${name}(${types})`;
    return this.#fail(expr, `${describeFunction(name)} cannot be applied to ${applied}`);
  }

  #fail(expr: Expr, message: string): CelType {
    this.problems.push({ offset: this.#offsetOf(expr), message });
    return DYN;
  }
}

// The common type of two types that must be the same (`A` in `A == A`), or undefined if they cannot be.
function unify(a: CelType, b: CelType): CelType | undefined {
  if (a.kind === "free") return b;
  if (b.kind === "free") return a;
  if (a.kind === "dyn" || b.kind === "dyn") return DYN;
  // As in cel-go, null compares with the object types (timestamp, duration, ipaddress) but not with values.
  if (a.kind === "null" || b.kind === "null") {
    const other = a.kind === "null" ? b : a;
    return ["null", "timestamp", "duration", "ipaddress"].includes(other.kind) ? other : undefined;
  }
  if (a.kind === "list" && b.kind === "list") {
    const element = unify(a.element, b.element);
    return element === undefined ? undefined : { kind: "list", element };
  }
  if (a.kind === "map" && b.kind === "map") {
    const key = unify(a.key, b.key);
    const value = unify(a.value, b.value);
    return key === undefined || value === undefined ? undefined : { kind: "map", key, value };
  }
  return a.kind === b.kind ? a : undefined;
}

// The element type of a list or map literal: mixed elements make it `dyn`, as in CEL.
function join(types: readonly CelType[]): CelType {
  let joined: CelType = FREE;
  for (const type of types) joined = unify(joined, type) ?? DYN;
  return joined;
}

function index(container: CelType, key: CelType): CelType | "none" {
  if (container.kind === "list") return unify(key, INT) === undefined ? "none" : container.element;
  if (container.kind === "map") return unify(key, container.key) === undefined ? "none" : container.value;
  return container.kind === "dyn" || container.kind === "free" ? DYN : "none";
}

function contains(container: CelType, element: CelType): boolean {
  if (container.kind === "list") return unify(element, container.element) !== undefined;
  if (container.kind === "map") return unify(element, container.key) !== undefined;
  return container.kind === "dyn" || container.kind === "free";
}

function sized(type: CelType): boolean {
  return ["string", "bytes", "list", "map", "dyn", "free"].includes(type.kind);
}

function constantType(kind: string | undefined): CelType {
  switch (kind) {
    case "int64Value":
      return INT;
    case "uint64Value":
      return UINT;
    case "doubleValue":
      return DOUBLE;
    case "boolValue":
      return BOOL;
    case "stringValue":
      return STRING;
    case "bytesValue":
      return BYTES;
    case "nullValue":
      return NULL;
    case "durationValue":
      return DURATION;
    case "timestampValue":
      return TIMESTAMP;
    default:
      return DYN;
  }
}

function celTypeOf(type: CaveatParameterType): CelType {
  switch (type.kind) {
    case "list":
      return { kind: "list", element: celTypeOf(type.element) };
    case "map":
      return { kind: "map", key: STRING, value: celTypeOf(type.value) };
    case "any":
      return DYN;
    case "uint":
      // SpiceDB declares its `uint` parameter type as CEL's int (measured with v1.54).
      return INT;
    default:
      return { kind: type.kind };
  }
}

function formatType(type: CelType): string {
  switch (type.kind) {
    case "list":
      return `list(${formatType(type.element)})`;
    case "map":
      return `map(${formatType(type.key)}, ${formatType(type.value)})`;
    case "free":
      return "dyn";
    default:
      return type.kind;
  }
}

// `_+_` -> "operator `+`", `@in` -> "operator `in`", `size` -> "function `size`".
function describeFunction(name: string): string {
  if (name === "@in") return "operator `in`";
  if (name === "_[_]") return "indexing `[]`";
  if (name === "_?_:_") return "the conditional `? :`";
  const operator = /^_?([^_\w@]+)_?$/.exec(name.replace(/^@/, ""));
  if (operator !== null && operator[1] !== undefined) return `operator \`${operator[1]}\``;
  return `function \`${name}\``;
}

function syntaxProblem(error: unknown): CaveatExpressionProblem {
  if (error instanceof RangeError) return { offset: 0, message: "expression is too deeply nested to parse" };
  const located = error as { rawMessage?: unknown; location?: { start?: { offset?: unknown } } };
  const offset = typeof located.location?.start?.offset === "number" ? located.location.start.offset : 0;
  const raw = typeof located.rawMessage === "string" ? located.rawMessage : error instanceof Error ? error.message : String(error);
  return { offset, message: `syntax error: ${raw}` };
}

function skipSpace(text: string, offset: number): number {
  let at = offset;
  while (at < text.length && /\s/.test(text[at] ?? "")) at++;
  return at < text.length ? at : offset;
}

// The offset of the first bracket nested deeper than MAX_CEL_NESTING, outside string literals.
function deepBracket(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? "";
    if (char === '"' || char === "'") {
      const close = text.startsWith(char.repeat(3), i) ? char.repeat(3) : char;
      i += close.length;
      while (i < text.length && !text.startsWith(close, i)) i += text[i] === "\\" ? 2 : 1;
      i += close.length - 1;
    } else if (char === "(" || char === "[" || char === "{") {
      if (++depth > MAX_CEL_NESTING) return i;
    } else if (char === ")" || char === "]" || char === "}") {
      depth--;
    }
  }
  return undefined;
}

// The depth of the syntax tree, measured without recursion so that any tree can be measured.
function treeDepth(root: Expr): number {
  let deepest = 0;
  const pending: [Expr, number][] = [[root, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [expr, depth] = next;
    deepest = Math.max(deepest, depth);
    for (const child of children(expr)) pending.push([child, depth + 1]);
  }
  return deepest;
}

function children(expr: Expr): Expr[] {
  const kind = expr.exprKind;
  switch (kind.case) {
    case "selectExpr":
      return kind.value.operand === undefined ? [] : [kind.value.operand];
    case "callExpr":
      return kind.value.target === undefined ? kind.value.args : [kind.value.target, ...kind.value.args];
    case "listExpr":
      return kind.value.elements;
    case "structExpr":
      return kind.value.entries.flatMap((entry) => [...(entry.keyKind.case === "mapKey" ? [entry.keyKind.value] : []), ...(entry.value === undefined ? [] : [entry.value])]);
    case "comprehensionExpr": {
      const c = kind.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].filter((child): child is Expr => child !== undefined);
    }
    default:
      return [];
  }
}
