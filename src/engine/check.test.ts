import { describe, expect, it } from "vitest";
import { FailedPreconditionError, InvalidArgumentError } from "../tuple/index.ts";
import { Engine } from "./engine.ts";
import type { CheckTrace } from "./engine-types.ts";
import { DepthExceededError } from "./errors.ts";
import type { PermissionExpression } from "../schema/index.ts";
import { CountingReader, SHARED_CASES, SHARED_RELATIONSHIPS, SHARED_SCHEMA, WILDCARD_CASES, WILDCARD_RELATIONSHIPS, WILDCARD_SCHEMA, checkRequest, fixture, withPermission } from "./test-fixtures.ts";

const engine = new Engine();

describe.each(Object.entries(SHARED_CASES))("check agrees with SpiceDB on %s", (_group, cases) => {
  const table = cases.map(([resource, permission, subject, expected, missing, context]) => ({ resource, permission, subject, expected, missing, context }));
  it.each(table)("$resource#$permission@$subject is $expected", async ({ resource, permission, subject, expected, missing, context }) => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    const result = await engine.check(reader, schema, checkRequest(resource, permission, subject, context));
    expect(result.permissionship).toBe(expected);
    expect(result.missingParameters).toEqual(expected === "conditional" ? missing : undefined);
    expect(result.trace).toBeUndefined();
  });
});

const GROUPS = `
definition user {}
definition group {
  relation member: user | group#member
  permission view = member
}
definition doc {
  relation viewer: group#member
  permission view = viewer
}
`;

/** chain nests group:g0 <- g1 <- ... <- g{length-1}: each group's member includes the next one's. */
function chain(length: number): string[] {
  return Array.from({ length: length - 1 }, (_, i) => `group:g${i}#member@group:g${i + 1}#member`);
}

describe("check over nested groups", () => {
  it("allows a member 50 groups deep and refuses one 51 deep, as SpiceDB does", async () => {
    const { reader, schema } = await fixture(GROUPS, [...chain(51), "group:g50#member@user:alice"]);
    await expect(engine.check(reader, schema, checkRequest("group:g1", "member", "user:alice"))).resolves.toMatchObject({
      permissionship: "allowed",
    });
    await expect(engine.check(reader, schema, checkRequest("group:g0", "member", "user:alice"))).rejects.toThrow(DepthExceededError);
  });

  it("does not count a computed permission on the same object as a hop", async () => {
    const { reader, schema } = await fixture(GROUPS, [...chain(51), "group:g50#member@user:alice"]);
    const result = await engine.check(reader, schema, checkRequest("group:g1", "view", "user:alice"));
    expect(result.permissionship).toBe("allowed");
  });

  it("fails a deep acyclic chain of 60 groups with an error naming the limit", async () => {
    const { reader, schema } = await fixture(GROUPS, [...chain(60), "group:g59#member@user:alice"]);
    const failure = engine.check(reader, schema, checkRequest("group:g0", "member", "user:alice"));
    await expect(failure).rejects.toThrow(DepthExceededError);
    await expect(failure).rejects.toThrow(/^check exceeded the maximum depth of 50 /);
    await expect(failure).rejects.toMatchObject({ code: "resource_exhausted", maxDepth: 50 });
  });

  it("honours a configured maxDepth", async () => {
    const { reader, schema } = await fixture(GROUPS, [...chain(5), "group:g4#member@user:alice"]);
    await expect(new Engine({ maxDepth: 5 }).check(reader, schema, checkRequest("group:g0", "member", "user:alice"))).resolves.toMatchObject({
      permissionship: "allowed",
    });
    await expect(new Engine({ maxDepth: 4 }).check(reader, schema, checkRequest("group:g0", "member", "user:alice"))).rejects.toThrow(
      /maximum depth of 4/,
    );
  });

  it.each([0, -1, 2.5])("rejects maxDepth %s", (maxDepth) => {
    expect(() => new Engine({ maxDepth })).toThrow(InvalidArgumentError);
  });

  it.each([
    ["a two-group cycle", ["group:a#member@group:b#member", "group:b#member@group:a#member"]],
    ["a self-loop", ["group:a#member@group:a#member"]],
    ["a ten-group cycle", Array.from({ length: 10 }, (_, i) => `group:${i === 0 ? "a" : `c${i}`}#member@group:${i === 9 ? "a" : `c${i + 1}`}#member`)],
  ])("answers a definite denial across %s", async (_name, relationships) => {
    const { reader, schema } = await fixture(GROUPS, [...relationships, "doc:d#viewer@group:a#member"]);
    await expect(engine.check(reader, schema, checkRequest("doc:d", "view", "user:alice"))).resolves.toMatchObject({ permissionship: "denied" });
    await expect(engine.check(reader, schema, checkRequest("group:a", "member", "user:alice"))).resolves.toMatchObject({ permissionship: "denied" });
  });

  it("finds a member reachable only through the other side of a cycle", async () => {
    const { reader, schema } = await fixture(GROUPS, [
      "group:a#member@group:b#member",
      "group:b#member@group:a#member",
      "group:b#member@user:alice",
      "doc:d#viewer@group:a#member",
    ]);
    for (const [resource, permission] of [["group:a", "member"], ["group:b", "member"], ["doc:d", "view"]] as const) {
      await expect(engine.check(reader, schema, checkRequest(resource, permission, "user:alice"))).resolves.toMatchObject({
        permissionship: "allowed",
      });
    }
  });

  it("does not remember an answer that a cycle cut made, so later items still find the member", async () => {
    // Answering g0 visits g1 -> g2 -> g0 (cut: g1 and g2 look empty on that path) before g3, which
    // holds alice. Remembering "g1 denied" then would be wrong: g1 contains g2, g0 and so g3.
    const { reader, schema } = await fixture(GROUPS, [
      "group:g0#member@group:g1#member",
      "group:g1#member@group:g2#member",
      "group:g2#member@group:g0#member",
      "group:g0#member@group:g3#member",
      "group:g3#member@user:alice",
    ]);
    const answers = await engine.checkBatch(reader, schema, [
      checkRequest("group:g0", "member", "user:alice"),
      checkRequest("group:g1", "member", "user:alice"),
      checkRequest("group:g2", "member", "user:alice"),
      checkRequest("group:g1", "member", "user:bob"),
    ]);
    expect(answers.map((answer) => ("result" in answer ? answer.result.permissionship : answer.error.message))).toEqual([
      "allowed",
      "allowed",
      "allowed",
      "denied",
    ]);
  });

  it("stops a cycle through an arrow", async () => {
    const { reader, schema } = await fixture(
      `
definition user {}
definition folder {
  relation parent: folder
  relation viewer: user
  permission view = viewer + parent->view
}`,
      ["folder:a#parent@folder:b", "folder:b#parent@folder:a", "folder:b#viewer@user:ann"],
    );
    await expect(engine.check(reader, schema, checkRequest("folder:a", "view", "user:ann"))).resolves.toMatchObject({ permissionship: "allowed" });
    await expect(engine.check(reader, schema, checkRequest("folder:a", "view", "user:bob"))).resolves.toMatchObject({ permissionship: "denied" });
  });
});

describe("check when one branch is too deep", () => {
  const SCHEMA = `
definition user {}
definition group {
  relation member: user | group#member
}
definition doc {
  relation viewer: user | group#member
  relation owner: user
  relation banned: user
  permission view = viewer + owner
  permission both = viewer & owner
  permission unbanned = viewer - banned
  permission viewer_unless_owner = viewer - owner
}`;
  // doc:1's viewers lead into a chain of 60 nested groups, which is explored first.
  const DEEP = ["doc:1#viewer@group:g0#member", ...chain(61), "doc:1#owner@user:alice", "doc:1#banned@user:bob"];

  it.each([
    ["a union with a definitely allowed operand is allowed", "view", "user:alice", "allowed"],
    ["an intersection with a definitely denied operand is denied", "both", "user:bob", "denied"],
    ["an exclusion whose subtracted side is allowed is denied", "viewer_unless_owner", "user:alice", "denied"],
  ])("%s", async (_name, permission, subject, expected) => {
    const { reader, schema } = await fixture(SCHEMA, DEEP);
    await expect(engine.check(reader, schema, checkRequest("doc:1", permission, subject))).resolves.toMatchObject({ permissionship: expected });
  });

  it.each([
    ["view", "user:bob"],
    ["both", "user:alice"],
    ["unbanned", "user:alice"],
  ])("still fails %s for %s, which only the deep branch could decide", async (permission, subject) => {
    const { reader, schema } = await fixture(SCHEMA, DEEP);
    await expect(engine.check(reader, schema, checkRequest("doc:1", permission, subject))).rejects.toThrow(DepthExceededError);
  });

  it("lets a later userset allow past a nested group that is too deep", async () => {
    const { reader, schema } = await fixture(SCHEMA, [...DEEP, "doc:1#viewer@group:near#member", "group:near#member@user:carol"]);
    await expect(engine.check(reader, schema, checkRequest("doc:1", "viewer", "user:carol"))).resolves.toMatchObject({ permissionship: "allowed" });
  });
});

describe("check over very long operand lists", () => {
  const SCHEMA = `
definition user {}
definition doc {
  relation viewer: user
  relation banned: user
  permission view = viewer
}`;
  const viewer: PermissionExpression = { kind: "computed", name: "viewer" };
  const banned: PermissionExpression = { kind: "computed", name: "banned" };

  it("evaluates an exclusion chain of 3,000 operands without overflowing the stack", async () => {
    let expression: PermissionExpression = viewer;
    for (let i = 0; i < 3_000; i++) expression = { kind: "exclusion", base: expression, subtract: i === 2_999 ? banned : { kind: "nil" } };
    const { reader, schema } = await fixture(SCHEMA, ["doc:d#viewer@user:ann", "doc:d#viewer@user:bob", "doc:d#banned@user:bob"]);
    const deep = withPermission(schema, "doc", "view", expression);
    await expect(engine.check(reader, deep, checkRequest("doc:d", "view", "user:ann"))).resolves.toMatchObject({ permissionship: "allowed" });
    await expect(engine.check(reader, deep, checkRequest("doc:d", "view", "user:bob"))).resolves.toMatchObject({ permissionship: "denied" });
    await expect(engine.expand(reader, deep, { type: "doc", id: "d" }, "view")).resolves.toMatchObject({ kind: "exclusion" });
  });

  it.each(["union", "intersection"] as const)("evaluates a flattened %s of 5,000 operands", async (kind) => {
    const children = Array.from({ length: 5_000 }, (): PermissionExpression => viewer);
    const { reader, schema } = await fixture(SCHEMA, ["doc:d#viewer@user:ann"]);
    const wide = withPermission(schema, "doc", "view", { kind, children });
    await expect(engine.check(reader, wide, checkRequest("doc:d", "view", "user:ann"))).resolves.toMatchObject({ permissionship: "allowed" });
    await expect(engine.check(reader, wide, checkRequest("doc:d", "view", "user:bob"))).resolves.toMatchObject({ permissionship: "denied" });
  });
});

describe("check with wildcards", () => {
  it.each(WILDCARD_CASES)("matches %s#%s@%s: %s (a wildcard stands for usersets of its type too)", async (resource, permission, subject, expected) => {
    const { reader, schema } = await fixture(WILDCARD_SCHEMA, WILDCARD_RELATIONSHIPS);
    await expect(engine.check(reader, schema, checkRequest(resource, permission, subject))).resolves.toMatchObject({
      permissionship: expected,
    });
  });
});

describe("check short-circuits", () => {
  it("does not read usersets once a direct relationship allows", async () => {
    const { reader, schema } = await fixture(GROUPS, ["group:a#member@user:alice", "group:a#member@group:b#member"]);
    const counting = new CountingReader(reader);
    await engine.check(counting, schema, checkRequest("group:a", "member", "user:alice"));
    expect(counting.queries).toHaveLength(1);
  });

  it("does not compute the subtracted side when the base is denied", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, []);
    const counting = new CountingReader(reader);
    await engine.check(counting, schema, checkRequest("doc:none", "view", "user:ann"));
    expect(counting.queries.every((filter) => filter.relation === "viewer")).toBe(true);
  });

  it("computes a subproblem shared by two branches once", async () => {
    const { reader, schema } = await fixture(
      `
definition user {}
definition group {
  relation member: user
}
definition doc {
  relation viewer: group#member
  relation editor: group#member
  permission both = viewer & editor
}`,
      ["doc:d#viewer@group:g#member", "doc:d#editor@group:g#member", "group:g#member@user:ann"],
    );
    const counting = new CountingReader(reader);
    await expect(engine.check(counting, schema, checkRequest("doc:d", "both", "user:ann"))).resolves.toMatchObject({ permissionship: "allowed" });
    expect(counting.queries.filter((filter) => filter.resourceType === "group")).toHaveLength(1);
  });
});

describe("check validates the request first", () => {
  it.each([
    ["nope:d", "view", "user:ann", "resource.type", FailedPreconditionError],
    ["doc:d", "nope", "user:ann", "permission", FailedPreconditionError],
    ["doc:d", "view", "nope:ann", "subject.type", FailedPreconditionError],
    ["doc:d", "view", "user:ann#member", "subject.relation", FailedPreconditionError],
    ["doc:d", "view", "group:eng#nope", "subject.relation", FailedPreconditionError],
    ["doc:d", "view", "user:*", "subject.id", InvalidArgumentError],
  ])("rejects %s#%s@%s naming %s", async (resource, permission, subject, field, errorClass) => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    const failure = engine.check(reader, schema, checkRequest(resource, permission, subject));
    await expect(failure).rejects.toThrow(errorClass);
    await expect(failure).rejects.toMatchObject({ field, message: expect.stringMatching(new RegExp(`^${field.replace(".", "\\.")}: `)) });
  });

  it("accepts a permission as the subject relation", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    await expect(engine.check(reader, schema, checkRequest("doc:grp", "view", "group:eng#is_admin"))).resolves.toMatchObject({
      permissionship: "denied",
    });
  });
});

describe("check with caveats", () => {
  it.each([
    [{ level: 5 }, "allowed"],
    [{ level: 1 }, "denied"],
  ])("evaluates the caveat once every parameter is supplied (%j)", async (context, permissionship) => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    await expect(engine.check(reader, schema, checkRequest("doc:c5", "viewer", "user:bob", context))).resolves.toMatchObject({ permissionship });
  });

  it("rejects a request context value of the wrong type naming context.<param>", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    await expect(engine.check(reader, schema, checkRequest("doc:c5", "viewer", "user:bob", { level: "high" }))).rejects.toMatchObject({
      name: "InvalidArgumentError",
      field: "context.level",
    });
  });
});

/** shape keeps what a reader of a trace looks at: node, operation, label, result, cycle, children. */
function shape(trace: CheckTrace | undefined): unknown {
  if (trace === undefined) return undefined;
  return {
    node: `${trace.resource.type}:${trace.resource.id}#${trace.permission}`,
    operation: trace.operation,
    ...(trace.label === undefined ? {} : { label: trace.label }),
    result: trace.result,
    ...(trace.cycle === true ? { cycle: true } : {}),
    ...(trace.children.length > 0 ? { children: trace.children.map(shape) } : {}),
  };
}

describe("check traces", () => {
  it("explains an exclusion over a wildcard and a userset", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    const result = await engine.check(reader, schema, checkRequest("doc:grp", "view", "user:omar"), { trace: true });
    expect(result.permissionship).toBe("allowed");
    expect(result.trace?.subject).toEqual({ type: "user", id: "omar" });
    expect(shape(result.trace)).toEqual({
      node: "doc:grp#view",
      operation: "exclusion",
      result: "allowed",
      children: [
        {
          node: "doc:grp#viewer",
          operation: "relation",
          result: "allowed",
          children: [
            {
              node: "group:eng#member",
              operation: "relation",
              result: "allowed",
              children: [{ node: "group:ops#member", operation: "direct", result: "allowed" }],
            },
          ],
        },
        { node: "doc:grp#banned", operation: "relation", result: "denied" },
      ],
    });
  });

  it("marks the node where a cycle was cut", async () => {
    const { reader, schema } = await fixture(GROUPS, ["group:a#member@group:b#member", "group:b#member@group:a#member"]);
    const result = await engine.check(reader, schema, checkRequest("group:a", "view", "user:alice"), { trace: true });
    expect(shape(result.trace)).toEqual({
      node: "group:a#view",
      operation: "union",
      label: "member",
      result: "denied",
      children: [
        {
          node: "group:a#member",
          operation: "relation",
          result: "denied",
          children: [
            {
              node: "group:b#member",
              operation: "relation",
              result: "denied",
              children: [{ node: "group:a#member", operation: "relation", result: "denied", cycle: true }],
            },
          ],
        },
      ],
    });
  });

  it("explains arrows and nil", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    const arrow = await engine.check(reader, schema, checkRequest("doc:d4", "pview", "user:carol"), { trace: true });
    expect(shape(arrow.trace)).toEqual({
      node: "doc:d4#pview",
      operation: "arrow",
      label: "parent->view",
      result: "allowed",
      children: [
        {
          node: "folder:f1#view",
          operation: "union",
          result: "allowed",
          children: [
            { node: "folder:f1#viewer", operation: "relation", result: "denied" },
            { node: "folder:f1#owner", operation: "direct", result: "allowed" },
          ],
        },
      ],
    });
    const nil = await engine.check(reader, schema, checkRequest("doc:d4", "nothing", "user:carol"), { trace: true });
    expect(shape(nil.trace)).toEqual({ node: "doc:d4#nothing", operation: "nil", result: "denied" });
  });

  it("labels an .all() arrow and a permission that is another name with their schema text", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    const all = await engine.check(reader, schema, checkRequest("doc:d4", "pall", "user:bob"), { trace: true });
    expect(shape(all.trace)).toMatchObject({ node: "doc:d4#pall", operation: "arrow", label: "parent.all(view)", result: "allowed" });
    const computed = await engine.check(reader, schema, checkRequest("doc:plain", "via_view", "user:ann"), { trace: true });
    expect(shape(computed.trace)).toMatchObject({
      node: "doc:plain#via_view",
      operation: "union",
      label: "view",
      result: "allowed",
      children: [{ node: "doc:plain#view", operation: "exclusion", result: "allowed" }],
    });
  });

  it("lists every computed subtracted side of an exclusion chain under one node", async () => {
    const { reader, schema } = await fixture(
      `
definition user {}
definition doc {
  relation viewer: user
  relation banned: user
  relation muted: user
  permission view = viewer - banned - muted
}`,
      ["doc:d#viewer@user:ann", "doc:d#muted@user:ann"],
    );
    const result = await engine.check(reader, schema, checkRequest("doc:d", "view", "user:ann"), { trace: true });
    expect(shape(result.trace)).toEqual({
      node: "doc:d#view",
      operation: "exclusion",
      result: "denied",
      children: [
        { node: "doc:d#viewer", operation: "direct", result: "allowed" },
        { node: "doc:d#banned", operation: "relation", result: "denied" },
        { node: "doc:d#muted", operation: "direct", result: "allowed" },
      ],
    });
  });
});

describe("checkBatch", () => {
  it("answers every item in order and isolates a bad one", async () => {
    const { reader, schema } = await fixture(SHARED_SCHEMA, SHARED_RELATIONSHIPS);
    const answers = await engine.checkBatch(reader, schema, [
      checkRequest("doc:plain", "view", "user:ann"),
      checkRequest("doc:plain", "nope", "user:ann"),
      checkRequest("doc:plain", "view", "user:bob"),
      checkRequest("doc:c3", "view", "user:bob"),
    ]);
    expect(answers).toHaveLength(4);
    expect(answers[0]).toEqual({ result: { permissionship: "allowed" } });
    expect(answers[1]).toMatchObject({ error: { field: "permission" } });
    expect((answers[1] as { error: Error }).error).toBeInstanceOf(FailedPreconditionError);
    expect(answers[2]).toEqual({ result: { permissionship: "denied" } });
    expect(answers[3]).toEqual({ result: { permissionship: "conditional", missingParameters: ["x"] } });
  });

  it("isolates a depth failure to its item", async () => {
    const { reader, schema } = await fixture(GROUPS, [...chain(60), "group:g59#member@user:alice", "group:g58#member@user:bob"]);
    const answers = await engine.checkBatch(reader, schema, [
      checkRequest("group:g0", "member", "user:alice"),
      checkRequest("group:g20", "member", "user:alice"),
    ]);
    expect((answers[0] as { error: Error }).error).toBeInstanceOf(DepthExceededError);
    expect(answers[1]).toEqual({ result: { permissionship: "allowed" } });
  });

  it("does not let a memoized answer hide a depth failure", async () => {
    // Item 1 computes g20's membership shallowly; item 2 reaches g20 at depth 21, where the same
    // computation needs 40 more levels than remain.
    const { reader, schema } = await fixture(GROUPS, [...chain(60), "group:g59#member@user:alice"]);
    const answers = await engine.checkBatch(reader, schema, [
      checkRequest("group:g20", "member", "user:alice"),
      checkRequest("group:g0", "member", "user:alice"),
    ]);
    expect(answers[0]).toEqual({ result: { permissionship: "allowed" } });
    expect((answers[1] as { error: Error }).error).toBeInstanceOf(DepthExceededError);
  });
});
