import { describe, expect, it } from "vitest";
import { compileSchema } from "../schema/index.ts";
import { BugError, objectIdHash, parseRelationship, parseSubjectRef } from "../tuple/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { BROKEN_REVISION, GraphIndex } from "./graph-index.ts";
import type { IdSet, Posting } from "./graph-types.ts";

const BUILT_AT = 10;

/** build loads `relationships` (SpiceDB text) into an index built at revision BUILT_AT. */
function build(schemaText: string, relationships: readonly string[] = []): GraphIndex {
  const index = new GraphIndex(BUILT_AT, compileSchema(schemaText));
  for (const text of relationships) index.addLoaded(parseRelationship(text));
  index.finishLoad(0);
  return index;
}

/** write applies one change set at the next revision: `+text` touches, `-text` deletes. */
function write(index: GraphIndex, ...changes: string[]): number {
  const revision = index.revision + 1;
  index.apply({
    revision,
    changes: changes.map((change) => ({
      operation: change.startsWith("-") ? ("delete" as const) : ("touch" as const),
      relationship: parseRelationship(change.slice(1)),
    })),
  });
  return revision;
}

// The plain walk: does `type:id#relation` hold the object `subject` through any chain of
// postings, a special relationship (unexpired here) counting as holding? `seen`: nodes already
// explored, so that cycles end (reachability needs each node once).
function walkHolds(index: GraphIndex, type: string, id: string, relation: string, subject: string, seen: Set<string>): boolean {
  const node = `${type}:${id}#${relation}`;
  if (seen.has(node)) return false;
  seen.add(node);
  const posting = postingOf(index, type, id, relation);
  if (posting === undefined) return false;
  if (holdsDirectly(index, posting, subject)) return true;
  return usersetsOf(index, posting).some(([t, i, r]) => walkHolds(index, t, i, r, subject, seen));
}

// What the engine's fast path does: a closed relation answers from the subject's memberships, an
// open one reads its posting and recurses into its usersets.
function fastHolds(index: GraphIndex, type: string, id: string, relation: string, subject: string): boolean {
  const n = index.numberOf(type, id);
  if (n === undefined) return false;
  if (index.isClosed(type, relation)) return index.memberships(parseSubjectRef(subject)).get(`${type}#${relation}`)?.has(n) ?? false;
  const posting = index.posting(type, n, relation);
  if (posting === undefined) return false;
  if (holdsDirectly(index, posting, subject)) return true;
  return usersetsOf(index, posting).some(([t, i, r]) => fastHolds(index, t, i, r, subject));
}

function postingOf(index: GraphIndex, type: string, id: string, relation: string): Posting | undefined {
  const n = index.numberOf(type, id);
  return n === undefined ? undefined : index.posting(type, n, relation);
}

function holdsDirectly(index: GraphIndex, posting: Posting, subject: string): boolean {
  const [type, id] = subject.split(":") as [string, string];
  const n = index.numberOf(type, id);
  if (n !== undefined && posting.groups.get(type)?.has(n)) return true;
  return posting.special.some((relationship) => relationship.subject.relation === undefined && `${relationship.subject.type}:${relationship.subject.id}` === subject);
}

// The userset subjects of a posting, plain and special, as [type, id, relation].
function usersetsOf(index: GraphIndex, posting: Posting): [string, string, string][] {
  const found: [string, string, string][] = [];
  for (const [groupKey, set] of posting.groups) {
    const [type, relation] = groupKey.split("#") as [string, string | undefined];
    if (relation !== undefined) for (const m of set.values()) found.push([type, index.idOf(type, m), relation]);
  }
  for (const { subject } of posting.special) if (subject.relation !== undefined) found.push([subject.type, subject.id, subject.relation]);
  return found;
}

function ids(index: GraphIndex, type: string, set: IdSet | undefined): string[] {
  return [...(set?.values() ?? [])].map((n) => index.idOf(type, n)).sort();
}

function subjectsOf(index: GraphIndex, resource: string, relation: string): Record<string, string[]> {
  const [type, id] = resource.split(":") as [string, string];
  const n = index.numberOf(type, id);
  const posting = n === undefined ? undefined : index.posting(type, n, relation);
  const result: Record<string, string[]> = {};
  for (const [groupKey, set] of posting?.groups ?? []) result[groupKey] = ids(index, groupKey.split("#")[0] as string, set);
  return result;
}

/** membershipsOf renders memberships(subject) as { "group#member": ["eng", ...] }. */
function membershipsOf(index: GraphIndex, subject: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [key, set] of index.memberships(parseSubjectRef(subject))) {
    if (set.size > 0) result[key] = ids(index, key.split("#")[0] as string, set);
  }
  return result;
}

const DOCS = `
use expiration
definition user {}
caveat only_if(flag bool) { flag }
definition group {
  relation member: user | group#member
}
definition doc {
  relation viewer: user | user:* | group#member | user with only_if | user with expiration
  relation owner: user
  permission view = viewer + owner
}
`;

describe("GraphIndex postings", () => {
  it("interns ids per type densely and never interns the wildcard", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann", "doc:b#viewer@user:*", "doc:b#owner@user:bob"]);
    expect(index.numberOf("doc", "a")).toBe(0);
    expect(index.numberOf("doc", "b")).toBe(1);
    expect(index.numberOf("user", "ann")).toBe(0);
    expect(index.numberOf("user", "bob")).toBe(1);
    expect(index.numberOf("user", "*")).toBeUndefined();
    expect(index.idOf("doc", 1)).toBe("b");
    expect(() => index.idOf("doc", 7)).toThrow(BugError);
    expect(index.stats()).toMatchObject({ revision: BUILT_AT, relationships: 3, specialRelationships: 0, objects: 4 });
  });

  it("groups plain subjects by subject type and relation, and keeps wildcards apart", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann", "doc:a#viewer@group:eng#member", "doc:a#viewer@user:*", "doc:a#viewer@user:bob"]);
    expect(subjectsOf(index, "doc:a", "viewer")).toEqual({ user: ["ann", "bob"], "group#member": ["eng"] });
    const posting = index.posting("doc", index.numberOf("doc", "a") as number, "viewer");
    expect([...(posting?.wildcards ?? [])]).toEqual(["user"]);
    expect(posting?.special).toEqual([]);
    expect(index.posting("doc", index.numberOf("doc", "a") as number, "owner")).toBeUndefined();
  });

  it("answers the reverse index for objects, usersets and literal wildcards", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann", "doc:b#viewer@user:ann", "doc:b#viewer@group:eng#member", "doc:c#viewer@user:*"]);
    expect(ids(index, "doc", index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "viewer"))).toEqual(["a", "b"]);
    expect(ids(index, "doc", index.resourcesWithSubject(parseSubjectRef("group:eng#member"), "doc", "viewer"))).toEqual(["b"]);
    expect(ids(index, "doc", index.resourcesWithSubject(parseSubjectRef("user:*"), "doc", "viewer"))).toEqual(["c"]);
    expect(index.resourcesWithSubject(parseSubjectRef("group:eng"), "doc", "viewer")).toBeUndefined();
    expect(index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "owner")).toBeUndefined();
    expect(index.resourcesWithSubject(parseSubjectRef("user:nobody"), "doc", "viewer")).toBeUndefined();
  });

  it("keeps caveated and expiring relationships as they are stored, out of the plain sets", () => {
    const index = build(DOCS, ['doc:a#viewer@user:ann[only_if:{"flag":true}]', "doc:a#viewer@user:bob[expiration:2030-01-01T00:00:00Z]"]);
    const posting = index.posting("doc", index.numberOf("doc", "a") as number, "viewer");
    expect(posting?.groups.size).toBe(0);
    expect(posting?.special.map((relationship) => relationship.subject.id)).toEqual(["ann", "bob"]);
    expect(posting?.special[0]?.caveat).toEqual({ name: "only_if", context: { flag: true } });
    expect(index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "viewer")).toBeUndefined();
    expect(index.stats()).toMatchObject({ relationships: 2, specialRelationships: 2 });
  });

  it("turns a plain relationship into a special one on touch, and back", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann"]);
    write(index, '+doc:a#viewer@user:ann[only_if:{"flag":false}]');
    const a = index.numberOf("doc", "a") as number;
    expect(index.posting("doc", a, "viewer")?.groups.size).toBe(0);
    expect(index.posting("doc", a, "viewer")?.special).toHaveLength(1);
    expect(index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "viewer")).toBeUndefined();
    expect(index.stats()).toMatchObject({ relationships: 1, specialRelationships: 1 });

    write(index, '+doc:a#viewer@user:ann[only_if:{"flag":true}]');
    expect(index.posting("doc", a, "viewer")?.special.map((relationship) => relationship.caveat?.context)).toEqual([{ flag: true }]);

    write(index, "+doc:a#viewer@user:ann");
    expect(subjectsOf(index, "doc:a", "viewer")).toEqual({ user: ["ann"] });
    expect(index.posting("doc", a, "viewer")?.special).toEqual([]);
    expect(ids(index, "doc", index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "viewer"))).toEqual(["a"]);
    expect(index.stats()).toMatchObject({ relationships: 1, specialRelationships: 0 });
  });

  it("knows which resources hold special relationships, per relation, as they come and go", () => {
    const index = build(DOCS, ['doc:a#viewer@user:ann[only_if:{"flag":true}]', "doc:b#viewer@user:bob[expiration:2030-01-01T00:00:00Z]", "doc:c#viewer@user:carl"]);
    expect(ids(index, "doc", index.resourcesWithSpecials("doc", "viewer"))).toEqual(["a", "b"]);
    expect(index.resourcesWithSpecials("doc", "owner")).toBeUndefined();
    write(index, '+doc:a#viewer@user:dora[only_if:{"flag":true}]', "-doc:a#viewer@user:ann");
    expect(ids(index, "doc", index.resourcesWithSpecials("doc", "viewer"))).toEqual(["a", "b"]);
    write(index, "-doc:a#viewer@user:dora", "+doc:b#viewer@user:bob");
    expect(index.resourcesWithSpecials("doc", "viewer")).toBeUndefined();
  });

  it("interns the subjects of special relationships and keeps every object's id hash", () => {
    const index = build(DOCS, ['doc:a#viewer@user:ann[only_if:{"flag":true}]']);
    const ann = index.numberOf("user", "ann");
    expect(ann).toBeDefined();
    const a = index.numberOf("doc", "a") as number;
    expect([...index.idHashes("doc", Uint32Array.of(a))]).toEqual([objectIdHash("a")]);
    expect([...index.idHashes("user", Uint32Array.of(ann as number))]).toEqual([objectIdHash("ann")]);
    expect(() => index.idHashes("doc", Uint32Array.of(99))).toThrow(BugError);
  });

  it("counts a relationship touched twice once", () => {
    const index = build(DOCS);
    write(index, "+doc:a#viewer@user:ann", "+doc:a#viewer@user:*");
    write(index, "+doc:a#viewer@user:ann", "+doc:a#viewer@user:*");
    expect(index.stats().relationships).toBe(2);
  });

  it("deletes plain, wildcard and special relationships, and forgets an emptied posting", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann", "doc:a#viewer@user:*", 'doc:a#viewer@user:bob[only_if:{"flag":true}]', "doc:b#viewer@user:ann"]);
    write(index, "-doc:a#viewer@user:ann", "-doc:a#viewer@user:*", "-doc:a#viewer@user:bob", "-doc:a#viewer@user:nobody", "-doc:zzz#viewer@user:ann");
    expect(index.posting("doc", index.numberOf("doc", "a") as number, "viewer")).toBeUndefined();
    expect(ids(index, "doc", index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "viewer"))).toEqual(["b"]);
    expect(index.resourcesWithSubject(parseSubjectRef("user:*"), "doc", "viewer")).toBeUndefined();
    expect(index.stats()).toMatchObject({ relationships: 1, specialRelationships: 0 });
    write(index, "-doc:b#viewer@user:ann");
    expect(index.resourcesWithSubject(parseSubjectRef("user:ann"), "doc", "viewer")).toBeUndefined();
  });

  it("records per relation the last revision that changed it, special relationships included", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann"]);
    expect(index.lastChangedAt("doc", "viewer")).toBe(BUILT_AT);
    const first = write(index, "+doc:a#owner@user:ann");
    expect(index.lastChangedAt("doc", "owner")).toBe(first);
    expect(index.lastChangedAt("doc", "viewer")).toBe(BUILT_AT);
    const second = write(index, '+doc:b#viewer@user:ann[only_if:{"flag":true}]');
    expect(index.lastChangedAt("doc", "viewer")).toBe(second);
    const third = write(index, "-doc:a#viewer@user:ann");
    expect(index.lastChangedAt("doc", "viewer")).toBe(third);
    expect(index.lastChangedAt("doc", "owner")).toBe(first);
    expect(index.lastChangedAt("group", "member")).toBe(BUILT_AT);
    expect(index.revision).toBe(third);
  });

  it("refuses a change set that is not newer than the index", () => {
    const index = build(DOCS);
    expect(() => index.apply({ revision: BUILT_AT, changes: [] })).toThrow(BugError);
  });

  it("stays at its revision when a schema change does not compile, before changing anything", () => {
    const index = build(DOCS, ["doc:1#viewer@user:ann"]);
    const change = { operation: "delete" as const, relationship: parseRelationship("doc:1#viewer@user:ann") };
    expect(() => index.apply({ revision: BUILT_AT + 1, changes: [change], schemaChanged: true, schema: "definition {" })).toThrow();
    expect(index.revision).toBe(BUILT_AT);
    expect(index.posting("doc", index.numberOf("doc", "1") ?? -1, "viewer")).toBeDefined();
  });

  it("answers no revision once an apply failed half-way", () => {
    const index = build(DOCS);
    const malformed = { resource: { type: "doc", id: "2" }, relation: "viewer" } as unknown as Relationship;
    const changes = [
      { operation: "touch" as const, relationship: parseRelationship("doc:1#viewer@user:ann") },
      { operation: "touch" as const, relationship: malformed },
    ];
    expect(() => index.apply({ revision: BUILT_AT + 1, changes })).toThrow();
    expect(index.revision).toBe(BROKEN_REVISION);
  });

  it("advances on a checkpoint without changes", () => {
    const index = build(DOCS);
    index.apply({ revision: BUILT_AT + 5, changes: [], checkpoint: true });
    expect(index.revision).toBe(BUILT_AT + 5);
  });
});

describe("GraphIndex.isClosed", () => {
  const SCHEMA = `
use expiration
definition user {}
caveat only_if(flag bool) { flag }
definition group {
  relation member: user | group#member
  relation admin: user
  permission everyone = member + admin
}
definition team {
  relation member: user | group#member | team#member
  relation lead: user with only_if
  relation deputy: team#lead
  relation guest: group#everyone
  relation temp: user with expiration
}
`;
  it.each([
    ["group", "member", true],
    ["group", "admin", true],
    ["group", "everyone", false],
    ["team", "member", true],
    ["team", "lead", false],
    ["team", "deputy", false],
    ["team", "guest", false],
    ["team", "temp", false],
    ["team", "nothing", false],
  ])("%s#%s is closed: %s", (type, relation, closed) => {
    const index = build(SCHEMA);
    expect(index.isClosed(type, relation)).toBe(closed);
    expect(index.stats().closedRelations).toBe(3);
  });

  it("knows no closed relation before a schema is written", () => {
    const index = new GraphIndex(0, undefined);
    index.finishLoad(0);
    expect(index.isClosed("group", "member")).toBe(false);
    expect(index.schema).toBeUndefined();
  });
});

const GROUPS = `
definition user {}
definition group {
  relation member: user | group#member
}
definition doc {
  relation viewer: user | group#member
}
`;

describe("GraphIndex.memberships", () => {
  it("flattens a chain", () => {
    const index = build(GROUPS, ["group:g0#member@group:g1#member", "group:g1#member@group:g2#member", "group:g2#member@user:alice"]);
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g0", "g1", "g2"] });
    expect(membershipsOf(index, "group:g1#member")).toEqual({ "group#member": ["g0", "g1"] });
    expect(membershipsOf(index, "user:nobody")).toEqual({});
  });

  it("flattens a diamond, and keeps a member reachable two ways when one goes", () => {
    const index = build(GROUPS, [
      "group:top#member@group:left#member",
      "group:top#member@group:right#member",
      "group:left#member@group:bottom#member",
      "group:right#member@group:bottom#member",
      "group:bottom#member@user:alice",
    ]);
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["bottom", "left", "right", "top"] });
    write(index, "-group:left#member@group:bottom#member");
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["bottom", "right", "top"] });
    write(index, "-group:right#member@group:bottom#member");
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["bottom"] });
  });

  it("follows a cycle to every group on it, and a deletion inside the cycle", () => {
    const index = build(GROUPS, [
      "group:g1#member@group:g2#member",
      "group:g2#member@group:g3#member",
      "group:g3#member@group:g1#member",
      "group:g2#member@user:alice",
      "group:g3#member@user:bob",
    ]);
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g1", "g2", "g3"] });
    expect(membershipsOf(index, "user:bob")).toEqual({ "group#member": ["g1", "g2", "g3"] });
    write(index, "-group:g3#member@group:g1#member");
    // g1 ⊇ g2 ⊇ g3 is left: alice (in g2) is in g1 and g2; bob (in g3) in all three.
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g1", "g2"] });
    expect(membershipsOf(index, "user:bob")).toEqual({ "group#member": ["g1", "g2", "g3"] });
    write(index, "+group:g3#member@group:g1#member");
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g1", "g2", "g3"] });
  });

  it("closes a cycle added edge by edge, and a group that contains itself", () => {
    const index = build(GROUPS, ["group:g1#member@user:alice"]);
    write(index, "+group:g2#member@group:g1#member");
    write(index, "+group:g1#member@group:g2#member", "+group:g1#member@group:g1#member");
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g1", "g2"] });
    write(index, "-group:g1#member@group:g1#member", "-group:g2#member@group:g1#member");
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g1"] });
    expect(membershipsOf(index, "group:g2#member")).toEqual({ "group#member": ["g1", "g2"] });
  });

  it("includes documents reached through nested groups, and a userset subject's own documents", () => {
    const index = build(GROUPS, [
      "doc:plan#viewer@group:eng#member",
      "doc:memo#viewer@user:alice",
      "group:eng#member@group:backend#member",
      "group:backend#member@user:alice",
    ]);
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["backend", "eng"], "doc#viewer": ["memo", "plan"] });
    expect(membershipsOf(index, "group:backend#member")).toEqual({ "group#member": ["backend", "eng"], "doc#viewer": ["plan"] });
    write(index, "-group:eng#member@group:backend#member");
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["backend"], "doc#viewer": ["memo"] });
  });

  it("leaves out relations that are not closed", () => {
    const index = build(
      `
definition user {}
caveat only_if(flag bool) { flag }
definition group {
  relation member: user | group#member | user with only_if
}
definition team {
  relation member: user | team#member
}`,
      ["group:g#member@user:alice", "team:t#member@user:alice", "team:u#member@team:t#member"],
    );
    expect(membershipsOf(index, "user:alice")).toEqual({ "team#member": ["t", "u"] });
  });

  it("matches a wildcard for any subject of its type, through nesting", () => {
    const index = build(
      `
definition user {}
definition group {
  relation member: user | user:* | group#member
}`,
      ["group:everyone#member@user:*", "group:all#member@group:everyone#member", "group:staff#member@user:alice"],
    );
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["all", "everyone", "staff"] });
    expect(membershipsOf(index, "user:stranger")).toEqual({ "group#member": ["all", "everyone"] });
  });

  it("matches a wildcard for a userset subject of its type, but not for what such a userset holds", () => {
    const index = build(
      `
definition user {}
definition team {
  relation member: user
}
definition group {
  relation member: user | team:* | group#member
}
definition org {
  relation member: user | team#member
}`,
      ["team:t#member@user:alice", "group:g#member@team:*", "group:h#member@group:g#member", "org:o#member@team:t#member"],
    );
    // The plain walk checks alice all the way down: team:* in group:g never matches her, although
    // it matches team:t#member, which holds her (the engine's indexed-evaluator.test.ts pins the same through an arrow).
    expect(membershipsOf(index, "user:alice")).toEqual({ "team#member": ["t"], "org#member": ["o"] });
    expect(membershipsOf(index, "team:t#member")).toEqual({ "team#member": ["t"], "group#member": ["g", "h"], "org#member": ["o"] });
    // A wildcard matches a plain object of its type too.
    expect(membershipsOf(index, "team:x")).toEqual({ "group#member": ["g", "h"] });
    write(index, "-group:g#member@team:*");
    expect(membershipsOf(index, "team:t#member")).toEqual({ "team#member": ["t"], "org#member": ["o"] });
  });

  it("rebuilds the closure when the schema changes", () => {
    const index = build(GROUPS, ["group:g0#member@group:g1#member", "group:g1#member@user:alice"]);
    index.apply({
      revision: BUILT_AT + 1,
      changes: [],
      schemaChanged: true,
      schema: `
definition user {}
caveat only_if(flag bool) { flag }
definition group {
  relation member: user | group#member | user with only_if
}`,
    });
    expect(index.isClosed("group", "member")).toBe(false);
    expect(membershipsOf(index, "user:alice")).toEqual({});
    index.apply({ revision: BUILT_AT + 2, changes: [], schemaChanged: true, schema: GROUPS });
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g0", "g1"] });
    expect(() => index.apply({ revision: BUILT_AT + 3, changes: [], schemaChanged: true })).toThrow(BugError);
  });

  // The schema forbids caveats and expiries, the data holds some (an index that paired a revision
  // with another's schema, say): the closure cannot see them, so every relation that holds one, or
  // names one that does, must be open, and answering through the closure where it is closed and
  // walking the postings elsewhere (what the engine's fast path does) must equal the plain walk.
  it("opens a relation while it holds a special relationship its schema forbids, and every relation naming it", () => {
    const later = "[expiration:2999-01-01T00:00:00.000Z]";
    const index = build(GROUPS, [
      `group:g1#member@user:alice${later}`,
      "group:g0#member@group:g1#member",
      "doc:d0#viewer@group:g0#member",
      "group:g2#member@user:bob",
      "doc:d1#viewer@group:g2#member",
    ]);
    const closedNow = (): string[] => ["group#member", "doc#viewer"].filter((key) => index.isClosed(...(key.split("#") as [string, string])));
    const agree = (): void => {
      for (const [type, id, relation] of [["doc", "d0", "viewer"], ["doc", "d1", "viewer"], ["group", "g0", "member"], ["group", "g1", "member"], ["group", "g2", "member"]] as const) {
        for (const subject of ["user:alice", "user:bob", "user:carol"]) {
          expect(fastHolds(index, type, id, relation, subject), `${type}:${id}#${relation}@${subject}`).toBe(walkHolds(index, type, id, relation, subject, new Set()));
        }
      }
    };
    expect(closedNow()).toEqual([]);
    expect(walkHolds(index, "doc", "d0", "viewer", "user:alice", new Set())).toBe(true);
    agree();

    write(index, `-group:g1#member@user:alice${later}`);
    expect(closedNow()).toEqual(["group#member", "doc#viewer"]);
    expect(membershipsOf(index, "user:bob")).toEqual({ "group#member": ["g2"], "doc#viewer": ["d1"] });
    agree();

    write(index, "+group:g1#member@user:alice", `+group:g2#member@user:carol${later}`);
    expect(closedNow()).toEqual([]);
    expect(membershipsOf(index, "user:alice")).toEqual({});
    agree();

    // Replaced by a plain one: closed again, and the closure rebuilt with the edges added meanwhile.
    write(index, "+group:g2#member@user:carol");
    expect(closedNow()).toEqual(["group#member", "doc#viewer"]);
    expect(membershipsOf(index, "user:alice")).toEqual({ "group#member": ["g0", "g1"], "doc#viewer": ["d0"] });
    expect(membershipsOf(index, "user:carol")).toEqual({ "group#member": ["g2"], "doc#viewer": ["d1"] });
    agree();
  });

  it("keeps a relation whose schema allows special relationships open, holding them or not", () => {
    const index = build(DOCS, ["doc:a#viewer@user:ann[only_if]"]);
    expect(index.isClosed("doc", "viewer")).toBe(false);
    write(index, "-doc:a#viewer@user:ann[only_if]");
    expect(index.isClosed("doc", "viewer")).toBe(false);
    expect(index.isClosed("group", "member")).toBe(true);
  });

  it("ends with the same closure whether built at once or kept up change by change", () => {
    const edges = [
      "group:a#member@group:b#member",
      "group:b#member@group:c#member",
      "group:c#member@group:a#member",
      "group:c#member@group:d#member",
      "group:e#member@group:d#member",
      "group:d#member@user:alice",
      "doc:x#viewer@group:e#member",
      "doc:y#viewer@group:a#member",
    ];
    const incremental = build(GROUPS);
    for (const edge of edges) write(incremental, `+${edge}`);
    write(incremental, "-group:b#member@group:c#member", "+group:b#member@group:e#member");
    const final = [...edges.filter((edge) => edge !== "group:b#member@group:c#member"), "group:b#member@group:e#member"];
    const rebuilt = build(GROUPS, final);
    for (const subject of ["user:alice", "group:a#member", "group:b#member", "group:c#member", "group:d#member", "group:e#member"]) {
      expect(membershipsOf(incremental, subject), subject).toEqual(membershipsOf(rebuilt, subject));
    }
    expect(membershipsOf(rebuilt, "user:alice")).toEqual({ "group#member": ["a", "b", "c", "d", "e"], "doc#viewer": ["x", "y"] });
  });
});
