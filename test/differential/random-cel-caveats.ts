// Random CEL caveats over many parameter types, with random stored and request contexts.
import type { SeededRandom } from "./seeded-random.ts";

/** ParameterType is a caveat parameter type this generator draws, as written in a schema. */
export type ParameterType =
  | "bool"
  | "int"
  | "uint"
  | "double"
  | "string"
  | "bytes"
  | "duration"
  | "timestamp"
  | "ipaddress"
  | "list<int>"
  | "list<string>"
  | "map<int>"
  | "any";

const TYPES: readonly ParameterType[] = ["bool", "int", "uint", "double", "string", "bytes", "duration", "timestamp", "ipaddress", "list<int>", "list<string>", "map<int>", "any"];

/** Parameters maps each parameter name of a scenario to its type; caveats sharing a name share its type. */
export type Parameters = ReadonlyMap<string, ParameterType>;

/** RandomCaveat is one caveat: its name, its parameters (a subset of the scenario's) and its CEL expression. */
export interface RandomCaveat {
  readonly name: string;
  readonly parameters: readonly string[];
  readonly expression: string;
}

/** randomParameters draws `count` parameter names (`p0`, `p1`, ...) with random types, bool and int always among them. */
export function randomParameters(random: SeededRandom, count: number): Parameters {
  const types: ParameterType[] = ["bool", "int", ...Array.from({ length: Math.max(0, count - 2) }, () => random.pick(TYPES))];
  return new Map(random.shuffled(types).map((type, i) => [`p${i}`, type]));
}

/**
 * randomCaveat draws a caveat named `name` over 2 to 4 of `parameters`: a bool expression of
 * atoms (a comparison, method or macro on one parameter, some on two) joined by `&&`, `||`, `!`
 * and `? :`, each parameter used at least once (SpiceDB and Mandate reject unused parameters).
 * Some atoms can fail at run time (`10 / p`, `p.k` on a map without `k`, `p[0]` on an empty list,
 * int overflow), so that evaluation errors are compared too.
 */
export function randomCaveat(random: SeededRandom, name: string, parameters: Parameters): RandomCaveat {
  const chosen = random.shuffled([...parameters.keys()]).slice(0, random.int(2, Math.min(4, parameters.size)));
  const used = new Set<string>();
  const atom = (parameter?: string): string => {
    const p = parameter ?? random.pick(chosen);
    used.add(p);
    return atomOf(random, p, parameters.get(p) ?? "bool", chosen, parameters, used);
  };
  const expression = (depth: number): string => {
    if (depth === 0 || random.chance(0.3)) return atom();
    const roll = random.next();
    if (roll < 0.35) return `(${expression(depth - 1)} && ${expression(depth - 1)})`;
    if (roll < 0.7) return `(${expression(depth - 1)} || ${expression(depth - 1)})`;
    if (roll < 0.8) return `!(${expression(depth - 1)})`;
    return `(${expression(depth - 1)} ? ${expression(depth - 1)} : ${expression(depth - 1)})`;
  };
  let text = expression(random.int(1, 3));
  for (const parameter of chosen) {
    if (!used.has(parameter)) text = `(${text} ${random.chance(0.5) ? "&&" : "||"} ${atom(parameter)})`;
  }
  return { name, parameters: chosen, expression: text };
}

function atomOf(random: SeededRandom, p: string, type: ParameterType, chosen: readonly string[], parameters: Parameters, used: Set<string>): string {
  const other = (wanted: ParameterType): string | undefined => {
    const candidates = chosen.filter((c) => c !== p && parameters.get(c) === wanted);
    if (candidates.length === 0) return undefined;
    const picked = random.pick(candidates);
    used.add(picked);
    return picked;
  };
  const k = random.int(0, 6);
  switch (type) {
    case "bool":
      return random.chance(0.5) ? p : `!${p}`;
    case "int": {
      const q = random.chance(0.3) ? other("int") : undefined;
      if (q !== undefined) return random.pick([`${p} + ${q} > ${k}`, `${p} < ${q}`]);
      return random.pick([`${p} > ${k}`, `${p} == ${k}`, `${p} % 2 == 0`, `10 / ${p} > 2`, `${p} * 1000000000000 > 5`]);
    }
    case "uint":
      return random.pick([`${p} > ${k}`, `${p} == ${k}`]);
    case "double":
      return random.pick([`${p} > 1.5`, `${p} * 2.0 <= 5.0`, `${p} == 2.0`]);
    case "string":
      return random.pick([`${p} == "a"`, `${p}.startsWith("a")`, `${p} in ["a", "bc"]`, `size(${p}) > 1`, `${p}.matches("^[ab]+$")`]);
    case "bytes":
      return random.pick([`${p} == b"hi"`, `size(${p}) > 1`]);
    case "duration":
      return random.pick([`${p} > duration("1h")`, `${p} < duration("-1s")`, `${p}.getMinutes() > 30`]);
    case "timestamp":
      return random.pick([
        `${p} < timestamp("2026-06-01T00:00:00Z")`,
        `${p}.getHours() >= 12`,
        `${p} + duration("24h") > timestamp("2026-06-02T00:00:00Z")`,
      ]);
    case "ipaddress":
      return random.pick([`${p}.in_cidr("10.0.0.0/8")`, `${p}.in_cidr("2001:db8::/32")`, `${p}.in_cidr("192.168.1.0/24")`]);
    case "list<int>": {
      const q = random.chance(0.3) ? other("int") : undefined;
      if (q !== undefined) return random.pick([`${p}.all(e, e < ${q})`, `${q} in ${p}`]);
      return random.pick([`${k} in ${p}`, `${p}.exists(e, e > ${k})`, `size(${p}) > 1`, `${p}[0] == ${k}`]);
    }
    case "list<string>":
      return random.pick([`"a" in ${p}`, `${p}.exists(s, s.startsWith("b"))`, `size(${p}) == 0`]);
    case "map<int>":
      return random.pick([`"k" in ${p}`, `${p}.k > 2`, `has(${p}.k)`, `${p}.exists(key, ${p}[key] > 3)`]);
    case "any":
      return random.pick([`${p} == 1`, `${p} == "a"`, `${p} != null`]);
  }
}

/** randomValue draws a JSON value of `type`, as a client would send it (ints sometimes as numeric strings). */
export function randomValue(random: SeededRandom, type: ParameterType): unknown {
  switch (type) {
    case "bool":
      return random.chance(0.5);
    case "int": {
      const value = random.chance(0.1) ? 2 ** 40 : random.int(-2, 8);
      return random.chance(0.1) ? String(value) : value;
    }
    case "uint":
      return random.int(0, 8);
    case "double":
      return random.pick([0, 1.5, 2, 2.5, -1, 3.25]);
    case "string":
      return random.pick(["a", "b", "ab", "bc", ""]);
    case "bytes":
      return random.pick(["aGk=", "aA==", ""]);
    case "duration":
      return random.pick(["90m", "30m", "1h", "-2s", "0", "1h45m", "1.5s"]);
    case "timestamp":
      return random.pick(["2026-05-31T13:00:00Z", "2026-06-02T08:00:00Z", "2026-06-01T00:00:00+02:00", "2026-05-31T23:59:59.5Z"]);
    case "ipaddress":
      return random.pick(["10.1.2.3", "192.168.1.1", "2001:db8::1", "::ffff:10.1.2.3", "172.16.0.1"]);
    case "list<int>":
      return Array.from({ length: random.int(0, 3) }, () => random.int(0, 6));
    case "list<string>":
      return Array.from({ length: random.int(0, 2) }, () => random.pick(["a", "b", "ba"]));
    case "map<int>":
      return Object.fromEntries(["k", "j"].filter(() => random.chance(0.5)).map((key) => [key, random.int(0, 6)]));
    case "any":
      return random.pick([1, "a", 2.5, true, null, [1], { k: 1 }]);
  }
}

/** wrongValue is a JSON value that does not convert to `type`. */
export function wrongValue(random: SeededRandom, type: ParameterType): unknown {
  switch (type) {
    case "string":
    case "bytes":
    case "duration":
    case "timestamp":
    case "ipaddress":
      return type === "string" ? 5 : random.pick([true, "not-a-value!"]);
    case "list<int>":
    case "list<string>":
      return "x";
    case "map<int>":
      return [1];
    case "any":
      return randomValue(random, "any");
    default:
      return random.pick(["x", 1.5, [1]].filter((v) => !(type === "double" && v === 1.5)));
  }
}

/**
 * randomContext draws a context over `names`: each present with probability `presence`, with a
 * value of its type (or, with probability `wrong`, of another type).
 */
export function randomContext(random: SeededRandom, names: readonly string[], parameters: Parameters, presence: number, wrong = 0): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const name of names) {
    if (!random.chance(presence)) continue;
    const type = parameters.get(name) ?? "bool";
    context[name] = random.chance(wrong) ? wrongValue(random, type) : randomValue(random, type);
  }
  return context;
}
