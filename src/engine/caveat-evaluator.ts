import type { CelInput } from "@bufbuild/cel";
import { BugError, FailedPreconditionError, InvalidArgumentError, formatRelationship } from "../tuple/index.ts";
import type { CaveatRef, Relationship } from "../tuple/index.ts";
import { validateCaveatValue } from "../schema/index.ts";
import type { CaveatDefinition, Schema } from "../schema/index.ts";
import { compileCaveat } from "./caveat-program.ts";
import { toCelValue } from "./caveat-values.ts";
import { CaveatEvaluationError } from "./errors.ts";
import { ALLOWED, DENIED, conditional } from "./membership.ts";
import type { Membership } from "./membership.ts";

/**
 * CaveatEvaluator decides whether a relationship's caveat holds for a request: ALLOWED when the
 * relationship has no caveat or its caveat is true, DENIED when false, CONDITIONAL (with the
 * missing parameters) when the context lacks what the caveat needs.
 */
export interface CaveatEvaluator {
  evaluate(relationship: Relationship, requestContext: Readonly<Record<string, unknown>> | undefined): Membership;
}

/**
 * CelCaveatEvaluator evaluates caveats with CEL (see evaluateCaveat). Construct one per schema;
 * construction is free (compiled expressions are cached per caveat definition, across instances).
 */
export class CelCaveatEvaluator implements CaveatEvaluator {
  readonly #schema: Schema;

  constructor(schema: Schema) {
    this.#schema = schema;
  }

  evaluate(relationship: Relationship, requestContext: Readonly<Record<string, unknown>> | undefined): Membership {
    const caveat = relationship.caveat;
    if (caveat === undefined) return ALLOWED;
    if (!this.#schema.caveats.has(caveat.name)) {
      // Writes are validated against the schema, and a schema change may not orphan relationships.
      throw new BugError(`relationship ${formatRelationship(relationship)} names caveat \`${caveat.name}\`, which the schema does not define`);
    }
    return evaluateCaveat(this.#schema, caveat, requestContext);
  }
}

/**
 * evaluateCaveat evaluates the caveat `caveat` (a name and its stored context) for a request's
 * context, as SpiceDB does:
 * - the two contexts merge, the stored context winning for a parameter present in both
 *   ("the written context taking precedence", SpiceDB's caveat runner); request keys the caveat
 *   does not declare are ignored;
 * - each merged value must convert to its declared type, checked here at evaluation rather than
 *   when the request arrives (SpiceDB converts at evaluation too, so a badly typed value for a
 *   caveat the check never reaches is no error): InvalidArgumentError naming `context.<param>`;
 * - an absent parameter is unknown: CONDITIONAL on the absent parameters the result depends on
 *   (`flag && level > 2` with `flag` false is DENIED without `level`); see compileCaveat;
 * - a genuine evaluation error (division by zero, overflow, bad conversion) throws CaveatEvaluationError.
 * BugError when the schema lacks the caveat.
 */
export function evaluateCaveat(schema: Schema, caveat: CaveatRef, requestContext: Readonly<Record<string, unknown>> | undefined): Membership {
  const definition = schema.caveats.get(caveat.name);
  if (definition === undefined) throw new BugError(`caveat \`${caveat.name}\` is not defined by the schema`);
  const outcome = compileCaveat(definition).run(bindingsOf(definition, caveat.context, requestContext));
  switch (outcome.kind) {
    case "decided":
      return outcome.value ? ALLOWED : DENIED;
    case "missing":
      return conditional(outcome.parameters);
    case "error":
      throw new CaveatEvaluationError(caveat.name, outcome.message);
  }
}

// The declared parameters present in either context, as CEL values, the stored context first.
function bindingsOf(
  definition: CaveatDefinition,
  stored: Readonly<Record<string, unknown>>,
  requested: Readonly<Record<string, unknown>> | undefined,
): Map<string, CelInput> {
  const bindings = new Map<string, CelInput>();
  for (const [parameter, type] of definition.parameters) {
    if (Object.hasOwn(stored, parameter)) {
      const value = stored[parameter];
      try {
        validateCaveatValue(type, value, `caveat.context.${parameter}`);
      } catch (error) {
        // Stored contexts are validated when written; a later schema change retyped the parameter.
        throw new FailedPreconditionError(`the stored context of caveat \`${definition.name}\` no longer fits its parameters: ${(error as Error).message}`, {
          field: `caveat.context.${parameter}`,
          cause: error,
        });
      }
      bindings.set(parameter, toCelValue(type, value));
    } else if (requested !== undefined && Object.hasOwn(requested, parameter)) {
      const value = requested[parameter];
      try {
        validateCaveatValue(type, value, `context.${parameter}`);
      } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
        throw new InvalidArgumentError(`${error.message} (parameter of caveat \`${definition.name}\`)`, { field: error.field ?? "context", cause: error });
      }
      bindings.set(parameter, toCelValue(type, value));
    }
  }
  return bindings;
}
