import { describe, expect, it } from "vitest";
import { GIVE_UP } from "./fall-back.ts";
import { FixpointSolver } from "./fixpoint-solver.ts";

// A tiny recursive program over sets of strings: reach(x) = {x's direct successors} ∪ reach(each successor).
type Graph = Record<string, readonly string[]>;

function reachability(graph: Graph): (node: string) => ReadonlySet<string> {
  const solver = new FixpointSolver<ReadonlySet<string>>({ empty: new Set(), same: (a, b) => a.size === b.size, maxSolves: 10_000, maxHeight: 50 });
  const reach = (node: string): ReadonlySet<string> =>
    solver.solve(node, () => {
      const result = new Set<string>();
      for (const next of graph[node] ?? []) {
        result.add(next);
        for (const further of reach(next)) result.add(further);
      }
      return result;
    });
  return reach;
}

describe("FixpointSolver", () => {
  it("computes values without cycles directly", () => {
    const reach = reachability({ a: ["b"], b: ["c"], c: [] });
    expect([...reach("a")].sort()).toEqual(["b", "c"]);
  });

  it.each<[string, Graph, string, string[]]>([
    ["a self-loop", { a: ["a", "b"], b: [] }, "a", ["a", "b"]],
    ["a two-node cycle", { a: ["b"], b: ["a", "c"], c: [] }, "a", ["a", "b", "c"]],
    ["a cycle entered from outside", { x: ["a"], a: ["b"], b: ["c"], c: ["a", "d"], d: [] }, "x", ["a", "b", "c", "d"]],
    ["nested cycles", { a: ["b"], b: ["b", "c"], c: ["a", "e"], e: ["e", "f"], f: [] }, "a", ["a", "b", "c", "e", "f"]],
  ])("reaches the least fixpoint through %s", (_name, graph, start, expected) => {
    expect([...reachability(graph)(start)].sort()).toEqual(expected);
  });

  it("gives every member of a cycle its full value, whichever is asked first", () => {
    const graph: Graph = { a: ["b"], b: ["c"], c: ["a", "z"], z: [] };
    const reach = reachability(graph);
    reach("a");
    for (const node of ["a", "b", "c"]) expect([...reach(node)].sort()).toEqual(["a", "b", "c", "z"]);
  });

  it("gives up on a cycle that reaches across a subtracted side", () => {
    const solver = new FixpointSolver<number>({ empty: 0, same: (a, b) => a === b, maxSolves: 100, maxHeight: 50 });
    const value = (): number => solver.solve("p", () => 1 - solver.subtracting(() => value()));
    expect(() => value()).toThrow(expect.anything());
    try {
      value();
    } catch (error) {
      expect(error).toBe(GIVE_UP);
    }
  });

  it("allows a subtraction that no cycle crosses", () => {
    const solver = new FixpointSolver<number>({ empty: 0, same: (a, b) => a === b, maxSolves: 100, maxHeight: 50 });
    const leaf = (): number => solver.solve("leaf", () => 2);
    expect(solver.solve("root", () => 5 - solver.subtracting(leaf))).toBe(3);
  });

  it("gives up where values nest deeper than maxHeight, also when a deep value is reused higher up", () => {
    const solver = new FixpointSolver<number>({ empty: 0, same: (a, b) => a === b, maxSolves: 1_000, maxHeight: 5 });
    const chain = (n: number): number => solver.solve(`n${n}`, () => (n === 0 ? 0 : chain(n - 1) + 1));
    expect(chain(4)).toBe(4);
    const deeper = (): number => solver.solve("top", () => solver.solve("middle", () => chain(4)));
    expect(() => deeper()).toThrow();
  });

  it("gives up on a cycle that needs more rounds than maxHeight", () => {
    // x = min(10, x + 1): each round of the fixpoint adds one, so it settles after 11 rounds.
    const counter = (maxHeight: number): number => {
      const solver = new FixpointSolver<number>({ empty: 0, same: (a, b) => a === b, maxSolves: 1_000, maxHeight });
      const x = (): number => solver.solve("x", () => Math.min(10, x() + 1));
      return x();
    };
    expect(counter(50)).toBe(10);
    let thrown: unknown;
    try {
      counter(5);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(GIVE_UP);
  });

  it("gives up past its work bound", () => {
    const solver = new FixpointSolver<number>({ empty: 0, same: (a, b) => a === b, maxSolves: 3, maxHeight: 50 });
    const chain = (n: number): number => solver.solve(`n${n}`, () => (n === 0 ? 0 : chain(n - 1) + 1));
    let thrown: unknown;
    try {
      chain(10);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(GIVE_UP);
  });
});
