import { describe, expect, it } from "vitest";
import { compileSchema, removedSubjectPatterns } from "./index.ts";

const BEFORE = `definition user {}
definition robot {}
definition group {
  relation member: user | group#member
}
definition folder {
  relation viewer: user
}
definition document {
  relation owner: user
  relation viewer: user | user:* | group#member | robot
  relation editor: user
  permission view = viewer + owner
}`;

describe("removedSubjectPatterns", () => {
  it("finds nothing when there was no previous schema", () => {
    expect(removedSubjectPatterns(undefined, compileSchema(BEFORE))).toEqual([]);
  });

  it("finds nothing when the schema is unchanged or only grows", () => {
    const grown = `${BEFORE.replace("relation editor: user", "relation editor: user | group#member")}\ndefinition extra {\n  relation viewer: user\n}`;
    expect(removedSubjectPatterns(compileSchema(BEFORE), compileSchema(BEFORE))).toEqual([]);
    expect(removedSubjectPatterns(compileSchema(BEFORE), compileSchema(grown))).toEqual([]);
  });

  it("ignores permissions, which store nothing", () => {
    const after = BEFORE.replace("  permission view = viewer + owner\n", "");
    expect(removedSubjectPatterns(compileSchema(BEFORE), compileSchema(after))).toEqual([]);
  });

  it.each<[string, string, object[]]>([
    [
      "a removed definition covers each of its relations",
      BEFORE.replace("definition folder {\n  relation viewer: user\n}\n", ""),
      [{ resourceType: "folder", relation: "viewer", reason: "definition `folder` was removed (it had relation `viewer`)" }],
    ],
    [
      "a removed relation",
      BEFORE.replace("  relation editor: user\n", ""),
      [{ resourceType: "document", relation: "editor", reason: "relation `document#editor` was removed" }],
    ],
    [
      "a relation turned into a permission",
      BEFORE.replace("relation editor: user", "permission editor = owner"),
      [{ resourceType: "document", relation: "editor", reason: "relation `document#editor` became a permission" }],
    ],
    [
      "a removed subject type",
      BEFORE.replace("user | user:* | group#member | robot", "user | user:* | robot"),
      [
        {
          resourceType: "document",
          relation: "viewer",
          subjectType: "group",
          subjectRelation: "member",
          wildcard: false,
          caveat: null,
          expiration: false,
          reason: "subject type `group#member` was removed from relation `document#viewer`",
        },
      ],
    ],
    [
      "a removed wildcard",
      BEFORE.replace("user | user:* | group#member | robot", "user | group#member | robot"),
      [{ resourceType: "document", relation: "viewer", subjectType: "user", subjectRelation: null, wildcard: true, caveat: null, expiration: false, reason: "wildcard `user:*` was removed from relation `document#viewer`" }],
    ],
    [
      "a removed subject definition, through each relation that allowed it",
      BEFORE.replace("definition robot {}\n", "").replace(" | robot", ""),
      [{ resourceType: "document", relation: "viewer", subjectType: "robot", subjectRelation: null, wildcard: false, caveat: null, expiration: false, reason: "subject type `robot` was removed from relation `document#viewer`" }],
    ],
  ])("reports %s", (_, after, expected) => {
    expect(removedSubjectPatterns(compileSchema(BEFORE), compileSchema(after))).toEqual(expected);
  });

  // SpiceDB treats `user with cv` and `user` as different subject types: each is its own pattern.
  const CAVEATED = `use expiration
caveat cv(flag bool) { flag }
caveat cw(level int) { level > 2 }
definition user {}
definition doc {
  relation viewer: user | user with cv | user with expiration
  relation editor: user with cw and expiration
}`;

  function userPattern(relation: string, caveat: string | null, expiration: boolean, reason: string): object {
    return { resourceType: "doc", relation, subjectType: "user", subjectRelation: null, wildcard: false, caveat, expiration, reason };
  }

  it.each<[string, string, object[]]>([
    [
      "a caveated subject type removed while the plain one stays",
      CAVEATED.replace("user | user with cv | user with expiration", "user | user with expiration"),
      [userPattern("viewer", "cv", false, "subject type `user with cv` was removed from relation `doc#viewer`")],
    ],
    [
      "a plain subject type turned into a caveated one",
      CAVEATED.replace("user | user with cv | user with expiration", "user with cv | user with expiration"),
      [userPattern("viewer", null, false, "subject type `user` was removed from relation `doc#viewer`")],
    ],
    [
      "an expiring subject type removed while the plain one stays",
      CAVEATED.replace("user | user with cv | user with expiration", "user | user with cv"),
      [userPattern("viewer", null, true, "subject type `user with expiration` was removed from relation `doc#viewer`")],
    ],
    [
      "a caveat swapped for another",
      CAVEATED.replace("relation editor: user with cw and expiration", "relation editor: user with cv and expiration"),
      [userPattern("editor", "cw", true, "subject type `user with cw and expiration` was removed from relation `doc#editor`")],
    ],
    [
      "a removed caveat definition, through each relation that allowed it",
      CAVEATED.replace("caveat cw(level int) { level > 2 }\n", "").replace("user with cw and expiration", "user with expiration"),
      [userPattern("editor", "cw", true, "subject type `user with cw and expiration` was removed from relation `doc#editor` (caveat `cw` was removed)")],
    ],
  ])("reports %s", (_, after, expected) => {
    expect(removedSubjectPatterns(compileSchema(CAVEATED), compileSchema(after))).toEqual(expected);
  });

  it("finds nothing when caveated subject types only move around or are added", () => {
    const after = CAVEATED.replace("user | user with cv | user with expiration", "user with expiration | user with cw | user | user with cv");
    expect(removedSubjectPatterns(compileSchema(CAVEATED), compileSchema(after))).toEqual([]);
  });
});

describe("removedSubjectPatterns on delegations", () => {
  const DELEGATING = `caveat on_ticket(ticket string) { ticket != "" }
definition user {}
definition document {
  relation viewer: user
}
definition agent {
  relation operator: user
  delegation acts_for: user | user with on_ticket | agent {
    scope document#viewer
  }
}`;

  function principalPattern(subjectType: string, reason: string): object {
    return { resourceType: "agent", relation: "acts_for", subjectType, subjectRelation: null, wildcard: false, reason };
  }

  it.each<[string, string, object[]]>([
    ["a removed delegation", DELEGATING.replace(/ {2}delegation acts_for[^}]*}\n/, ""), [{ resourceType: "agent", relation: "acts_for", reason: "delegation `agent#acts_for` was removed" }]],
    ["a delegation turned into a relation", DELEGATING.replace(/delegation acts_for[^}]*}/, "relation acts_for: user"), [{ resourceType: "agent", relation: "acts_for", reason: "delegation `agent#acts_for` became a relation" }]],
    ["a relation turned into a delegation", DELEGATING.replace("relation operator: user", "delegation operator: user { scope * }"), [{ resourceType: "agent", relation: "operator", reason: "relation `agent#operator` became a delegation" }]],
    [
      "a removed actor definition, for its relations and delegations",
      DELEGATING.replace(/definition agent {[\s\S]*$/, ""),
      [
        { resourceType: "agent", relation: "operator", reason: "definition `agent` was removed (it had relation `operator`)" },
        { resourceType: "agent", relation: "acts_for", reason: "definition `agent` was removed (it had delegation `acts_for`)" },
      ],
    ],
    ["a removed principal type", DELEGATING.replace(" | agent {", " {"), [principalPattern("agent", "principal type `agent` was removed from delegation `agent#acts_for`")]],
    [
      "a caveated principal type removed while the plain one stays, covering every edge of the type",
      DELEGATING.replace("user | user with on_ticket | agent", "user | agent"),
      [principalPattern("user", "principal type `user with on_ticket` was removed from delegation `agent#acts_for` (every edge of principal type `user` counts: an edge's caveat is not visible to the check)")],
    ],
    ["both alternatives of a principal type removed, once", DELEGATING.replace("user | user with on_ticket | agent", "agent"), [principalPattern("user", "principal type `user` was removed from delegation `agent#acts_for`")]],
  ])("reports %s", (_, after, expected) => {
    expect(removedSubjectPatterns(compileSchema(DELEGATING), compileSchema(after))).toEqual(expected);
  });

  it("finds nothing when a delegation only gains principal types or changes its options", () => {
    const after = DELEGATING.replace("| agent {", "| agent | document {").replace("scope document#viewer", "scope *\n    max_chain 3\n    ceiling");
    expect(removedSubjectPatterns(compileSchema(DELEGATING), compileSchema(after))).toEqual([]);
  });
});
