// Seeded random relationships and checks over a random schema, in small id spaces so paths connect.
import { relationshipKey, WILDCARD_ID } from "../../src/tuple/index.ts";
import type { ObjectRef, Relationship, SubjectRef } from "../../src/tuple/index.ts";
import type { SchemaSpec, SubjectTypeSpec } from "./random-schema.ts";
import type { SeededRandom } from "./seeded-random.ts";

/** IdSpace maps each type to the few object ids drawn for it (3–6), e.g. `group` -> g1..g4. */
export type IdSpace = ReadonlyMap<string, readonly string[]>;

/** CheckCase is one question put to both systems: does `subject` have `permission` on `resource`? */
export interface CheckCase {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

/** randomIdSpace draws 3–6 ids per definition, named after the type's first letter: `g1`, `g2`... */
export function randomIdSpace(schema: SchemaSpec, random: SeededRandom): IdSpace {
  return new Map(schema.definitions.map((d) => [d.name, Array.from({ length: random.int(3, 6) }, (_, i) => `${d.name.slice(0, 1)}${i + 1}`)]));
}

/**
 * randomRelationships draws 6–24 relationships valid for `schema` (every subject is of a type its
 * relation allows), including wildcards and usersets, and with probability one half a deliberate
 * loop (`group:g1#member@group:g2#member`, `group:g2#member@group:g1#member`) so that cyclic data
 * is common. No duplicates; no caveats or expiry.
 */
export function randomRelationships(schema: SchemaSpec, ids: IdSpace, random: SeededRandom): Relationship[] {
  const slots = schema.definitions.flatMap((d) => d.relations.flatMap((r) => r.allowed.map((allowed) => ({ type: d.name, relation: r.name, allowed }))));
  const byKey = new Map<string, Relationship>();
  const add = (relationship: Relationship): void => {
    byKey.set(relationshipKey(relationship), relationship);
  };
  if (slots.length === 0) return [];
  for (let i = random.int(6, 24); i > 0; i--) {
    const slot = random.pick(slots);
    const resource = { type: slot.type, id: random.pick(idsOf(ids, slot.type)) };
    const subject = randomSubjectOf(slot.allowed, ids, random);
    // Edges back into the resource's own type are rationed, and never loop on one object: SpiceDB
    // explores every path of cyclic data up to its depth limit, and dense cycles make one check
    // take seconds. The deliberate loop below keeps cyclic data in most cases.
    if (subject.type === resource.type && (subject.id === resource.id || random.chance(0.6))) continue;
    add({ resource, relation: slot.relation, subject });
  }
  const loopSlots = slots.filter((s) => s.allowed.type === s.type && !s.allowed.wildcard);
  if (loopSlots.length > 0 && random.chance(0.5)) {
    const slot = random.pick(loopSlots);
    const members = random.shuffled(idsOf(ids, slot.type)).slice(0, random.int(2, 3));
    members.forEach((id, i) => {
      const next = members[(i + 1) % members.length] ?? id;
      add({ resource: { type: slot.type, id }, relation: slot.relation, subject: { type: slot.type, id: next, relation: slot.allowed.relation } });
    });
  }
  return [...byKey.values()];
}

function idsOf(ids: IdSpace, type: string): readonly string[] {
  const list = ids.get(type);
  if (!list || list.length === 0) throw new RangeError(`idsOf: no ids drawn for type "${type}"`);
  return list;
}

function randomSubjectOf(allowed: SubjectTypeSpec, ids: IdSpace, random: SeededRandom): SubjectRef {
  if (allowed.wildcard) return { type: allowed.type, id: WILDCARD_ID };
  return { type: allowed.type, id: random.pick(idsOf(ids, allowed.type)), relation: allowed.relation };
}

/**
 * randomChecks draws `count` checks: a resource with one of its relations or permissions, and a
 * subject that is mostly a user (sometimes one that no relationship names, to exercise wildcards),
 * sometimes another object, a userset such as `group:g1#member`, or the resource's own userset.
 * Half of the checks take their resource and subject from `relationships`, so that a good share
 * of answers is "allowed" rather than the "denied" of unconnected objects.
 */
export function randomChecks(schema: SchemaSpec, ids: IdSpace, relationships: readonly Relationship[], random: SeededRandom, count: number): CheckCase[] {
  const resources = schema.definitions.filter((d) => d.relations.length + d.permissions.length > 0);
  const namesOf = (type: string): string[] => {
    const definition = schema.definitions.find((d) => d.name === type);
    return definition ? [...definition.relations.map((r) => r.name), ...definition.permissions.map((p) => p.name)] : [];
  };
  const checks: CheckCase[] = [];
  for (let i = 0; i < count && resources.length > 0; i++) {
    const anchor = relationships.length > 0 && random.chance(0.5) ? random.pick(relationships) : undefined;
    const definition = (anchor && schema.definitions.find((d) => d.name === anchor.resource.type)) || random.pick(resources);
    const resource = anchor ? anchor.resource : { type: definition.name, id: random.chance(0.05) ? "zz9" : random.pick(idsOf(ids, definition.name)) };
    const permission = random.pick(namesOf(definition.name));
    const roll = random.next();
    let subject: SubjectRef;
    if (anchor && roll >= 0.05) {
      // The anchor's subject or another relationship's; a wildcard stands for any id of its type.
      const named = random.chance(0.5) ? anchor.subject : random.pick(relationships).subject;
      subject = named.id === WILDCARD_ID ? { type: named.type, id: random.pick(idsOf(ids, named.type)) } : named;
      if (subject.relation === undefined && random.chance(0.3)) subject = { type: "user", id: random.pick(idsOf(ids, "user")) };
    } else if (roll < 0.05) {
      subject = { type: resource.type, id: resource.id, relation: permission };
    } else if (roll < 0.6) {
      subject = { type: "user", id: random.chance(0.1) ? "nobody" : random.pick(idsOf(ids, "user")) };
    } else if (roll < 0.75) {
      const type = random.pick(schema.definitions).name;
      subject = { type, id: random.pick(idsOf(ids, type)) };
    } else {
      const target = random.pick(resources);
      subject = { type: target.name, id: random.pick(idsOf(ids, target.name)), relation: random.pick(namesOf(target.name)) };
    }
    checks.push({ resource, permission, subject });
  }
  return checks;
}
