import { describe, expect, it } from "vitest";
import { objectIdHash } from "../tuple/index.ts";
import { compareLookupOrder, idList, inLookupOrder } from "./lookup-order.ts";

const ordered = (ids: readonly string[], after?: string): string[] => [...inLookupOrder(idList(ids), after)].map((i) => ids[i] as string);

describe("lookup order", () => {
  it("orders by id hash, then by id", () => {
    const ids = ["doc1", "doc2", "alpha", "zeta", "x"];
    const expected = [...ids].sort((a, b) => objectIdHash(a) - objectIdHash(b) || (a < b ? -1 : 1));
    expect([...ids].sort(compareLookupOrder)).toEqual(expected);
  });

  it.each([0, 1, 2, 63, 64, 65, 1_000, 20_000])("yields %i ids exactly in compareLookupOrder order", (count) => {
    const ids = Array.from({ length: count }, (_, i) => `obj${(i * 7919) % (count + 13)}_${i}`);
    expect(ordered(ids)).toEqual([...ids].sort(compareLookupOrder));
  });

  it("breaks ties of equal hashes by id", () => {
    // FNV-1a collides on these two strings (a published collision pair).
    const [a, b] = ["costarring", "liquid"];
    expect(objectIdHash(a!)).toBe(objectIdHash(b!));
    expect(ordered(["liquid", "x1", "costarring"]).filter((id) => id !== "x1")).toEqual(["costarring", "liquid"]);
  });

  it("resumes strictly after a given id, whether or not it is in the list", () => {
    const ids = Array.from({ length: 500 }, (_, i) => `d${i}`);
    const all = ordered(ids);
    const middle = all[250]!;
    expect(ordered(ids, middle)).toEqual(all.slice(251));
    const absent = "not-in-the-list";
    expect(ordered(ids, absent)).toEqual(all.filter((id) => compareLookupOrder(id, absent) > 0));
  });
});
