import { afterEach, describe, expect, it } from "vitest";
import { indexedFixture } from "./indexed-fixture.ts";
import type { IndexedFixture } from "./indexed-fixture.ts";
import { MembershipsMemo } from "./memberships-memo.ts";

const GROUPS = `
definition user {}
definition group {
  relation member: user | group#member
}`;

let fixture: IndexedFixture | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe("MembershipsMemo", () => {
  it("computes a subject's closure once per revision, and again after a write", async () => {
    fixture = await indexedFixture(GROUPS, ["group:a#member@group:b#member", "group:b#member@user:ann"]);
    const memo = new MembershipsMemo(10);
    const ann = { type: "user", id: "ann" };
    const first = memo.of(fixture.follower.index, ann);
    expect(memo.of(fixture.follower.index, ann)).toBe(first);
    expect(first.get("group#member")?.size).toBe(2);
    await fixture.remove("group:a#member@group:b#member");
    const second = memo.of(fixture.follower.index, ann);
    expect(second).not.toBe(first);
    expect(second.get("group#member")?.size).toBe(1);
  });

  it("starts over past its bound", async () => {
    fixture = await indexedFixture(GROUPS, ["group:b#member@user:ann", "group:b#member@user:bob"]);
    const memo = new MembershipsMemo(1);
    const index = fixture.follower.index;
    const ann = memo.of(index, { type: "user", id: "ann" });
    memo.of(index, { type: "user", id: "bob" });
    expect(memo.of(index, { type: "user", id: "ann" })).not.toBe(ann);
  });
});
