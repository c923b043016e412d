import { FailedPreconditionError } from "../tuple/index.ts";
import type { Definition, Schema } from "./model.ts";

/**
 * lookupDefinition returns the definition named `typeName`, or throws FailedPreconditionError
 * naming `field` ("definition `x` not found"): the name is well formed but not in the schema.
 */
export function lookupDefinition(schema: Schema, typeName: string, field: string): Definition {
  const definition = schema.definitions.get(typeName);
  if (definition === undefined) {
    throw new FailedPreconditionError(`${field}: definition \`${typeName}\` not found in the schema`, { field });
  }
  return definition;
}
