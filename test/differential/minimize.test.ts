import { describe, expect, it } from "vitest";
import { parseRelationship } from "../../src/tuple/index.ts";
import type { ReproCase } from "./differential-run.ts";
import { formatReproduction, minimizeCase } from "./minimize.ts";
import { formatSchema } from "./random-schema.ts";
import type { SchemaSpec } from "./random-schema.ts";

const schema: SchemaSpec = {
  definitions: [
    { name: "user", relations: [], permissions: [] },
    {
      name: "group",
      relations: [{ name: "member", allowed: [{ type: "user", wildcard: false }, { type: "group", relation: "member", wildcard: false }] }],
      permissions: [],
    },
    {
      name: "document",
      relations: [
        { name: "viewer", allowed: [{ type: "user", wildcard: false }, { type: "group", relation: "member", wildcard: false }] },
        { name: "banned", allowed: [{ type: "user", wildcard: false }] },
      ],
      permissions: [
        {
          name: "view",
          expression: { kind: "exclusion", base: { kind: "computed", name: "viewer" }, subtract: { kind: "computed", name: "banned" }, parenthesized: false },
        },
      ],
    },
  ],
};

const failing: ReproCase = {
  schema,
  relationships: ["document:d1#viewer@group:g1#member", "group:g1#member@user:u1", "document:d1#banned@user:u2", "group:g2#member@group:g1#member"].map((t) =>
    parseRelationship(t),
  ),
  check: { resource: { type: "document", id: "d1" }, permission: "view", subject: { type: "user", id: "u1" } },
};

// A stand-in for "the difference persists": the case fails while user:u1 reaches d1's viewers
// and the permission `view` still reads the relation `viewer`.
const reachesViewer = async (candidate: ReproCase): Promise<boolean> => {
  const texts = candidate.relationships.map((r) => `${r.resource.type}:${r.resource.id}#${r.relation}@${r.subject.type}:${r.subject.id}`);
  return texts.includes("document:d1#viewer@group:g1") && texts.includes("group:g1#member@user:u1") && /permission view = .*viewer/.test(formatSchema(candidate.schema));
};

describe("minimizeCase", () => {
  it("drops every relationship the failure does not need", async () => {
    const minimized = await minimizeCase(failing, reachesViewer);
    expect(minimized.relationships.map((r) => `${r.resource.id}#${r.relation}`)).toEqual(["d1#viewer", "g1#member"]);
  });

  it("simplifies the schema while the failure persists", async () => {
    const minimized = await minimizeCase(failing, reachesViewer);
    const text = formatSchema(minimized.schema);
    expect(text).not.toContain("banned");
    expect(text).toContain("permission view = viewer");
  });

  it("returns the case unchanged when nothing smaller still fails", async () => {
    const minimized = await minimizeCase(failing, async (candidate) => candidate === failing);
    expect(minimized).toBe(failing);
  });
});

describe("formatReproduction", () => {
  it("prints a playground validation file asserting SpiceDB's answer", () => {
    const text = formatReproduction(failing, { difference: "mismatch", reference: "allowed", subject: "denied" });
    expect(text).toContain("# check document:d1#view@user:u1: SpiceDB says allowed, Mandate says denied");
    expect(text).toContain("schema: |-\n  definition user {}");
    expect(text).toContain("relationships: |-\n  document:d1#viewer@group:g1#member\n");
    expect(text).toContain('assertTrue:\n    - "document:d1#view@user:u1"');
  });

  it("prints Mandate's error and no assertion when Mandate refused the schema", () => {
    const text = formatReproduction(failing, { difference: "schema-rejected", reference: "loaded", subject: "schema: SchemaError: bad" });
    expect(text).toContain("Mandate refuses them: schema: SchemaError: bad");
    expect(text).not.toContain("assertions:");
  });
});
