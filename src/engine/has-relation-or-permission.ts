import type { Schema } from "../schema/index.ts";

/**
 * hasRelationOrPermission reports whether definition `type` exists and has a relation or
 * permission called `name`. The engine's one yes-or-no lookup: request validation turns a "no"
 * into an error naming the field, check and expand skip (or, under `.all()`, fail) an arrow's
 * subject whose type lacks the target, as SpiceDB does.
 */
export function hasRelationOrPermission(schema: Schema, type: string, name: string): boolean {
  const definition = schema.definitions.get(type);
  return definition !== undefined && (definition.relations.has(name) || definition.permissions.has(name));
}
