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
          reason: "subject type `group#member` was removed from relation `document#viewer`",
        },
      ],
    ],
    [
      "a removed wildcard",
      BEFORE.replace("user | user:* | group#member | robot", "user | group#member | robot"),
      [{ resourceType: "document", relation: "viewer", subjectType: "user", subjectRelation: null, wildcard: true, reason: "wildcard `user:*` was removed from relation `document#viewer`" }],
    ],
    [
      "a removed subject definition, through each relation that allowed it",
      BEFORE.replace("definition robot {}\n", "").replace(" | robot", ""),
      [{ resourceType: "document", relation: "viewer", subjectType: "robot", subjectRelation: null, wildcard: false, reason: "subject type `robot` was removed from relation `document#viewer`" }],
    ],
  ])("reports %s", (_, after, expected) => {
    expect(removedSubjectPatterns(compileSchema(BEFORE), compileSchema(after))).toEqual(expected);
  });

  it("leaves out a change of caveat or expiration on a subject type that stays allowed, which a pattern cannot select", () => {
    const before = compileSchema("use expiration\ndefinition user {}\ndefinition doc {\n  relation viewer: user | user with expiration\n}");
    const after = compileSchema("use expiration\ndefinition user {}\ndefinition doc {\n  relation viewer: user with expiration\n}");
    expect(removedSubjectPatterns(before, after)).toEqual([]);
  });
});
