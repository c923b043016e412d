// Caveats and expiry on top of a random schema, and random relationships drawn from any compiled schema.
import type { Schema } from "../../src/schema/index.ts";
import { relationshipKey, WILDCARD_ID } from "../../src/tuple/index.ts";
import type { Relationship, SubjectRef } from "../../src/tuple/index.ts";
import type { IdSpace } from "./random-relationships.ts";
import { formatExpression } from "./random-schema.ts";
import type { SchemaSpec, SubjectTypeSpec } from "./random-schema.ts";
import type { SeededRandom } from "./seeded-random.ts";

/**
 * CAVEAT_DEFINITIONS are the caveats a decorated schema may use. Each has two parameters, so that
 * a relationship can carry one of them and still leave the check CONDITIONAL on the other
 * (caveats-vs-spicedb.test.ts covers evaluation with every parameter known).
 */
const CAVEAT_DEFINITIONS = `caveat on_shift(day int, hour int) {
  day < 5 && hour > 8
}

caveat with_flag(flag bool, level int) {
  flag && level > 2
}`;

/** CAVEAT_PARAMETERS lists each caveat's parameters, for drawing contexts. */
export const CAVEAT_PARAMETERS: ReadonlyMap<string, readonly string[]> = new Map([
  ["on_shift", ["day", "hour"]],
  ["with_flag", ["flag", "level"]],
]);

/** DecoratedSubjectType is a subject type of a relation, possibly `with caveat`, `with expiration`, or both. */
interface DecoratedSubjectType extends SubjectTypeSpec {
  readonly caveat?: string | undefined;
  readonly expiration?: boolean | undefined;
}

/**
 * decoratedSchemaText prints `spec` with caveats and expiry added: some relations gain a caveated
 * (`user with on_shift`, `user:* with with_flag`, `group#member with on_shift`) or expiring
 * (`folder with expiration`, `group#member with on_shift and expiration`) alternative of a subject
 * type they already allow, tuplesets of arrows included. Only alternatives of existing types are
 * added, so every rule randomSchema keeps for SpiceDB still holds. With `probability` 0 it prints
 * the spec unchanged (plus nothing).
 */
export function decoratedSchemaText(spec: SchemaSpec, random: SeededRandom, probability = 0.35): string {
  let expiring = false;
  const caveatNames = [...CAVEAT_PARAMETERS.keys()];
  const definitions = spec.definitions.map((definition) => {
    const relations = definition.relations.map((relation) => {
      const allowed: DecoratedSubjectType[] = [...relation.allowed];
      if (random.chance(probability)) {
        const base = random.pick(relation.allowed);
        const withExpiry = random.chance(0.4);
        const withCaveat = !withExpiry || random.chance(0.3);
        expiring ||= withExpiry;
        allowed.push({ ...base, caveat: withCaveat ? random.pick(caveatNames) : undefined, expiration: withExpiry });
      }
      if (random.chance(probability / 2)) {
        expiring = true;
        allowed.push({ ...random.pick(relation.allowed), expiration: true });
      }
      return `  relation ${relation.name}: ${unique(allowed.map(formatDecorated)).join(" | ")}`;
    });
    const permissions = definition.permissions.map((p) => `  permission ${p.name} = ${formatExpression(p.expression)}`);
    const lines = [...relations, ...permissions];
    return lines.length === 0 ? `definition ${definition.name} {}` : `definition ${definition.name} {\n${lines.join("\n")}\n}`;
  });
  return [...(expiring ? ["use expiration"] : []), CAVEAT_DEFINITIONS, ...definitions].join("\n\n") + "\n";
}

function formatDecorated(subject: DecoratedSubjectType): string {
  const base = subject.wildcard ? `${subject.type}:*` : subject.relation === undefined ? subject.type : `${subject.type}#${subject.relation}`;
  const traits = [subject.caveat, subject.expiration ? "expiration" : undefined].filter((t) => t !== undefined);
  return traits.length === 0 ? base : `${base} with ${traits.join(" and ")}`;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/** ExpiryClock is the fake time a scenario's store reads; relationships expire against it. */
export interface ExpiryClock {
  now: number;
}

/** EXPIRY_STEP_MS is how far a scenario moves its clock to expire the relationships drawn "soon". */
export const EXPIRY_STEP_MS = 60_000;

/**
 * modelRelationships draws `count` relationships valid for the compiled `schema`, over `ids`,
 * only from the subject types `which` selects (e.g. only caveated or expiring ones). A caveated
 * relationship carries at most one of its caveat's two parameters. An expiring one expires in the
 * past (already gone when written), within EXPIRY_STEP_MS of `clock` (gone once the clock moves),
 * or far in the future. Edges into the resource's own type are rationed, as in randomRelationships.
 */
export function modelRelationships(
  schema: Schema,
  ids: IdSpace,
  random: SeededRandom,
  count: number,
  clock: ExpiryClock,
  which: (allowed: { caveat?: string | undefined; expiration: boolean }) => boolean = () => true,
): Relationship[] {
  const slots = [...schema.definitions.values()].flatMap((definition) =>
    [...definition.relations.values()].flatMap((relation) =>
      relation.allowedSubjects.filter(which).map((allowed) => ({ type: definition.name, relation: relation.name, allowed })),
    ),
  );
  const byKey = new Map<string, Relationship>();
  for (let i = 0; i < count && slots.length > 0; i++) {
    const slot = random.pick(slots);
    const resource = { type: slot.type, id: random.pick(ids.get(slot.type) ?? ["x1"]) };
    const subject: SubjectRef = slot.allowed.wildcard
      ? { type: slot.allowed.type, id: WILDCARD_ID }
      : { type: slot.allowed.type, id: random.pick(ids.get(slot.allowed.type) ?? ["x1"]), relation: slot.allowed.relation };
    if (subject.type === resource.type && (subject.id === resource.id || random.chance(0.5))) continue;
    const caveatName = slot.allowed.caveat;
    const relationship: Relationship = {
      resource,
      relation: slot.relation,
      subject,
      ...(caveatName === undefined ? {} : { caveat: { name: caveatName, context: partialContext(caveatName, random) } }),
      ...(slot.allowed.expiration ? { expiresAt: new Date(expiryOf(clock, random)) } : {}),
    };
    byKey.set(relationshipKey(relationship), relationship);
  }
  return [...byKey.values()];
}

/** isSpecial selects caveated and expiring subject types, for modelRelationships. */
export function isSpecial(allowed: { caveat?: string | undefined; expiration: boolean }): boolean {
  return allowed.caveat !== undefined || allowed.expiration;
}

function expiryOf(clock: ExpiryClock, random: SeededRandom): number {
  const roll = random.next();
  if (roll < 0.25) return clock.now - 1_000;
  if (roll < 0.65) return clock.now + random.int(1_000, EXPIRY_STEP_MS - 1_000);
  return clock.now + 1_000 * EXPIRY_STEP_MS;
}

// At most one of the caveat's two parameters: with both known, the engine must evaluate the caveat.
function partialContext(caveatName: string, random: SeededRandom): Record<string, unknown> {
  const parameters = CAVEAT_PARAMETERS.get(caveatName) ?? [];
  if (parameters.length === 0 || random.chance(0.6)) return {};
  const name = random.pick(parameters);
  return { [name]: valueOf(name, random) };
}

/**
 * randomRequestContext is a request's caveat context: none most of the time, otherwise one
 * parameter of one caveat (so that checks are mostly CONDITIONAL or decided, seldom failing on a
 * caveat that would need evaluating).
 */
export function randomRequestContext(random: SeededRandom): Record<string, unknown> | undefined {
  if (random.chance(0.7)) return undefined;
  const parameters = [...CAVEAT_PARAMETERS.values()].flat();
  const name = random.pick(parameters);
  return { [name]: valueOf(name, random) };
}

function valueOf(parameter: string, random: SeededRandom): unknown {
  return parameter === "flag" ? random.chance(0.5) : random.int(0, 10);
}
