import { describe, expect, it } from "vitest";
import { PostingEntry } from "./posting-entry.ts";

function groupsOf(entry: PostingEntry): Record<string, number[]> {
  return Object.fromEntries([...entry.groups].map(([key, set]) => [key, [...set.values()]]));
}

describe("PostingEntry groups", () => {
  it("acts as a map of its groups, in the order they appeared", () => {
    const entry = new PostingEntry();
    expect(entry.groups.size).toBe(0);
    entry.addPlain("user", 3);
    entry.addPlain("group#member", 1);
    entry.addPlain("team#member", 2);
    entry.addPlain("user", 1);
    expect(groupsOf(entry)).toEqual({ user: [1, 3], "group#member": [1], "team#member": [2] });
    expect(entry.groups.size).toBe(3);
    expect(entry.groups.has("team#member")).toBe(true);
    expect([...entry.groups.keys()]).toEqual(["user", "group#member", "team#member"]);
    const seen: string[] = [];
    entry.groups.forEach((set, key) => seen.push(`${key}:${set.size}`));
    expect(seen).toEqual(["user:2", "group#member:1", "team#member:1"]);
  });

  it.each([
    ["the first group", "user", { "group#member": [1], "team#member": [2] }],
    ["a middle group", "group#member", { user: [3], "team#member": [2] }],
    ["the last group", "team#member", { user: [3], "group#member": [1] }],
  ])("drops %s once it is empty", (_name, key, expected) => {
    const entry = new PostingEntry();
    entry.addPlain("user", 3);
    entry.addPlain("group#member", 1);
    entry.addPlain("team#member", 2);
    const [n] = [...(entry.groups.get(key)?.values() ?? [])];
    expect(entry.removePlain(key, n as number)).toBe(true);
    expect(groupsOf(entry)).toEqual(expected);
    expect(entry.groups.get(key)).toBeUndefined();
  });

  it("is empty once its last subject goes, and refuses to remove what it does not hold", () => {
    const entry = new PostingEntry();
    entry.addPlain("user", 3);
    expect(entry.removePlain("user", 4)).toBe(false);
    expect(entry.removePlain("group#member", 3)).toBe(false);
    expect(entry.removePlain("user", 3)).toBe(true);
    expect(entry.isEmpty).toBe(true);
    entry.addWildcard("user");
    expect(entry.isEmpty).toBe(false);
    expect(entry.removeWildcard("user")).toBe(true);
    expect(entry.isEmpty).toBe(true);
  });
});
