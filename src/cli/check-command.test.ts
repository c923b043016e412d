import { describe, expect, it } from "vitest";
import { formatCheckTrace, parseCheckTarget, parseContextFlag } from "./check-command.ts";
import { UsageError } from "./usage-error.ts";

describe("parseCheckTarget", () => {
  const expected = { resource: { type: "document", id: "readme" }, permission: "view", subject: { type: "user", id: "alice" } };

  it.each([
    ["three arguments", ["document:readme", "view", "user:alice"]],
    ["one SpiceDB-style string", ["document:readme#view@user:alice"]],
  ])("reads %s", (_name, positionals) => {
    expect(parseCheckTarget(positionals)).toEqual(expected);
  });

  it("reads a userset subject", () => {
    expect(parseCheckTarget(["document:readme#view@group:eng#member"]).subject).toEqual({ type: "group", id: "eng", relation: "member" });
  });

  it.each([
    [["document:readme", "view"], /got 2 arguments/],
    [["document", "view", "user:alice"], /resource: "document" is not of the form type:id/],
    [["document:readme", "View", "user:alice"], /permission: "View" is not a valid relation name/],
    [["document:readme#view@user:alice[cav]"], /pass --context instead/],
  ])("rejects %j as a usage error", (positionals, message) => {
    expect(() => parseCheckTarget(positionals)).toThrow(UsageError);
    expect(() => parseCheckTarget(positionals)).toThrow(message);
  });
});

describe("parseContextFlag", () => {
  it("parses a JSON object and rejects anything else", () => {
    expect(parseContextFlag('{"ip": "10.0.0.1"}')).toEqual({ ip: "10.0.0.1" });
    expect(parseContextFlag(undefined)).toBeUndefined();
    expect(() => parseContextFlag("[1]")).toThrow("--context: must be a JSON object");
    expect(() => parseContextFlag("{")).toThrow("--context: not valid JSON");
  });
});

describe("formatCheckTrace", () => {
  it("indents children under their parent and marks cycles", () => {
    const text = formatCheckTrace({
      resource: { objectType: "document", objectId: "1" },
      permission: "view",
      operation: "OPERATION_UNION",
      result: "PERMISSIONSHIP_HAS_PERMISSION",
      children: [
        {
          resource: { objectType: "document", objectId: "1" },
          permission: "viewer",
          operation: "OPERATION_RELATION",
          result: "PERMISSIONSHIP_NO_PERMISSION",
          cycle: true,
        },
      ],
    });
    expect(text).toBe("ALLOWED     document:1#view (union)\n  DENIED      document:1#viewer (relation) [cycle]\n");
  });

  it("names the arrow an arrow node followed", () => {
    const text = formatCheckTrace({
      resource: { objectType: "document", objectId: "1" },
      permission: "view",
      operation: "OPERATION_ARROW",
      label: "parent->view",
      result: "PERMISSIONSHIP_NO_PERMISSION",
    });
    expect(text).toBe("DENIED      document:1#view (arrow: parent->view)\n");
  });
});
