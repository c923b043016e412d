// A seeded property test of the membership closure as the follower keeps it: random schemas of
// nesting group-like types, random interleaved writes and deletes through a real MemoryStore, and
// after each write, for every subject, memberships(subject) equals a naive fixpoint computed from
// the relationships the store returns at that revision.
import { afterEach, describe, expect, it } from "vitest";
import { SchemaError, compileSchema } from "../schema/index.ts";
import type { Relation, Schema } from "../schema/index.ts";
import { MemoryStore } from "../store/index.ts";
import type { RelationshipUpdate } from "../store/index.ts";
import { formatSubjectRef, relationshipKey } from "../tuple/index.ts";
import type { Relationship, SubjectRef } from "../tuple/index.ts";
import { startGraphIndexFollower } from "./graph-index-follower.ts";
import type { GraphIndexFollower } from "./graph-follower-types.ts";
import type { GraphIndexView } from "./graph-types.ts";

const GROUP_TYPES = ["group", "team", "org"] as const;
const USERS = ["u0", "u1", "u2", "u3", "u4"];
const GROUP_IDS = ["x0", "x1", "x2", "x3"];
const DOC_IDS = ["d0", "d1", "d2"];
const SEEDS = Array.from({ length: 16 }, (_, i) => 1000 + i);
const STEPS = 50;

type Random = () => number;

function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** randomSchema draws schemas until one compiles (some draws include a wildcard through a userset). */
function randomSchema(random: Random): Schema {
  for (;;) {
    const lines = ["caveat only_if(flag bool) { flag }", "definition user {}"];
    for (const type of GROUP_TYPES) {
      const allowed = ["user"];
      if (random() < 0.25) allowed.push("user:*");
      if (random() < 0.15) allowed.push("user with only_if");
      for (const other of GROUP_TYPES) {
        if (random() < 0.5) allowed.push(`${other}#member`);
        if (random() < 0.15) allowed.push(`${other}:*`);
        if (random() < 0.15) allowed.push(other);
      }
      lines.push(`definition ${type} {\n  relation member: ${allowed.join(" | ")}\n}`);
    }
    const viewers = ["user", ...GROUP_TYPES.filter(() => random() < 0.6).map((type) => `${type}#member`)];
    if (random() < 0.2) viewers.push("user:*");
    lines.push(`definition doc {\n  relation viewer: ${viewers.join(" | ")}\n}`);
    try {
      return compileSchema(lines.join("\n"));
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
    }
  }
}

function relationOf(schema: Schema, type: string, relation: string): Relation | undefined {
  return schema.definitions.get(type)?.relations.get(relation);
}

function randomRelationship(random: Random, schema: Schema): Relationship {
  const type = pick(random, [...GROUP_TYPES, "doc"]);
  const relation = type === "doc" ? "viewer" : "member";
  const resource = { type, id: pick(random, type === "doc" ? DOC_IDS : GROUP_IDS) };
  const allowed = pick(random, (relationOf(schema, type, relation) as Relation).allowedSubjects);
  const id = allowed.wildcard ? "*" : pick(random, allowed.type === "user" ? USERS : GROUP_IDS);
  const subject: SubjectRef = { type: allowed.type, id, relation: allowed.relation };
  return allowed.caveat === undefined
    ? { resource, relation, subject }
    : { resource, relation, subject, caveat: { name: allowed.caveat, context: { flag: true } } };
}

/** naiveClosed is the definition of a closed relation, computed the obvious way. */
function naiveClosed(schema: Schema): Set<string> {
  const closed = new Set<string>();
  for (const definition of schema.definitions.values()) {
    for (const relation of definition.relations.values()) {
      if (relation.allowedSubjects.every((allowed) => allowed.caveat === undefined && !allowed.expiration)) closed.add(`${definition.name}#${relation.name}`);
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const key of closed) {
      const [type, name] = key.split("#") as [string, string];
      const relation = relationOf(schema, type, name) as Relation;
      if (relation.allowedSubjects.some((allowed) => allowed.relation !== undefined && !closed.has(`${allowed.type}#${allowed.relation}`))) {
        closed.delete(key);
        changed = true;
      }
    }
  }
  return closed;
}

/**
 * naiveMemberships: the usersets `T:x#R` of closed relations that hold `subject`, by fixpoint over
 * every plain relationship, as the plain walk decides it (checking the same subject at every
 * level): the exact subject, an allowed wildcard of the subject's type, an allowed userset already
 * found to hold it, or the subject itself.
 */
function naiveMemberships(schema: Schema, relationships: readonly Relationship[], subject: SubjectRef): Record<string, string[]> {
  const closed = naiveClosed(schema);
  const found = new Set<string>();
  if (subject.relation !== undefined && closed.has(`${subject.type}#${subject.relation}`)) found.add(formatSubjectRef(subject));
  for (let changed = true; changed; ) {
    changed = false;
    for (const relationship of relationships) {
      const { resource, relation, subject: held } = relationship;
      if (relationship.caveat !== undefined || relationship.expiresAt !== undefined) continue;
      if (!closed.has(`${resource.type}#${relation}`)) continue;
      const node = `${resource.type}:${resource.id}#${relation}`;
      if (found.has(node)) continue;
      const allowedSubjects = (relationOf(schema, resource.type, relation) as Relation).allowedSubjects;
      const exact = held.type === subject.type && held.id === subject.id && held.relation === subject.relation;
      const wildcard = held.id === "*" && held.type === subject.type && allowedSubjects.some((allowed) => allowed.wildcard && allowed.type === held.type);
      const nested =
        held.relation !== undefined &&
        found.has(formatSubjectRef(held)) &&
        allowedSubjects.some((allowed) => allowed.type === held.type && allowed.relation === held.relation);
      if (exact || wildcard || nested) {
        found.add(node);
        changed = true;
      }
    }
  }
  const result: Record<string, string[]> = {};
  for (const node of found) {
    const [object, relation] = node.split("#") as [string, string];
    const [type, id] = object.split(":") as [string, string];
    (result[`${type}#${relation}`] ??= []).push(id);
  }
  for (const ids of Object.values(result)) ids.sort();
  return result;
}

function indexMemberships(index: GraphIndexView, subject: SubjectRef): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [key, set] of index.memberships(subject)) {
    const type = key.split("#")[0] as string;
    if (set.size > 0) result[key] = [...set.values()].map((n) => index.idOf(type, n)).sort();
  }
  return result;
}

function subjects(): SubjectRef[] {
  const all: SubjectRef[] = [...USERS, "u9"].map((id) => ({ type: "user", id }));
  for (const type of GROUP_TYPES) {
    for (const id of GROUP_IDS) all.push({ type, id, relation: "member" }, { type, id });
  }
  return all;
}

const running: { store: MemoryStore; follower: GraphIndexFollower }[] = [];
afterEach(async () => {
  for (const { store, follower } of running.splice(0)) {
    await follower.stop();
    await store.close();
  }
});

describe("the membership closure kept by the follower", () => {
  it.each(SEEDS)("equals a naive fixpoint after every write (seed %i)", async (seed) => {
    const random = seeded(seed);
    const schema = randomSchema(random);
    const store = new MemoryStore();
    await store.writeSchema(schema.source, async () => {});
    // Some relationships exist before the load, the rest arrive through the watch.
    const initial = new Map<string, Relationship>();
    for (let i = 0; i < 12; i++) {
      const relationship = randomRelationship(random, schema);
      initial.set(relationshipKey(relationship), relationship);
    }
    await store.write([...initial.values()].map((relationship) => ({ operation: "touch", relationship })));
    const follower = await startGraphIndexFollower(store, { pageSize: 5 });
    running.push({ store, follower });

    for (let step = 0; step < STEPS; step++) {
      const live = await store.snapshot(await store.headRevision()).queryRelationships({});
      const updates = new Map<string, RelationshipUpdate>();
      const count = 1 + Math.floor(random() * 3);
      for (let i = 0; i < count; i++) {
        const deleting = live.length > 0 && random() < 0.4;
        const relationship = deleting ? pick(random, live) : randomRelationship(random, schema);
        updates.set(relationshipKey(relationship), { operation: deleting ? "delete" : "touch", relationship });
      }
      const revision = await store.write([...updates.values()]);
      expect(await follower.waitFor(revision, 5_000)).toBe(true);

      const relationships = await store.snapshot(revision).queryRelationships({});
      const index = follower.index;
      expect(index.revision).toBe(revision);
      for (const subject of subjects()) {
        const expected = naiveMemberships(schema, relationships, subject);
        // A userset no relationship ever named has no number: the index cannot list it (see memberships).
        if (subject.relation !== undefined && index.numberOf(subject.type, subject.id) === undefined) {
          const key = `${subject.type}#${subject.relation}`;
          expected[key] = (expected[key] ?? []).filter((id) => id !== subject.id);
          if (expected[key].length === 0) delete expected[key];
        }
        expect(indexMemberships(index, subject), `seed ${seed}, step ${step}, subject ${formatSubjectRef(subject)}\n${schema.source}`).toEqual(expected);
      }
    }
  });
});
