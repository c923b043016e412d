import { BugError, formatRelationship } from "../tuple/index.ts";
import type { Relationship } from "../tuple/index.ts";
import type { Schema } from "../schema/index.ts";
import { CaveatEvaluationUnavailableError } from "./errors.ts";
import { ALLOWED, conditional } from "./membership.ts";
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
 * MissingParametersCaveatEvaluator is the evaluator until CEL evaluation lands: a caveat with any
 * declared parameter absent from both the relationship's context and the request's context is
 * CONDITIONAL on the absent ones. SpiceDB evaluates partially and may decide with fewer
 * parameters (`flag && level > 2` with `flag: false` is DENIED there, CONDITIONAL on `level` here).
 * A caveat whose parameters are all present needs its expression evaluated: that throws
 * CaveatEvaluationUnavailableError rather than guessing.
 */
export class MissingParametersCaveatEvaluator implements CaveatEvaluator {
  readonly #schema: Schema;

  constructor(schema: Schema) {
    this.#schema = schema;
  }

  evaluate(relationship: Relationship, requestContext: Readonly<Record<string, unknown>> | undefined): Membership {
    const caveat = relationship.caveat;
    if (caveat === undefined) return ALLOWED;
    const definition = this.#schema.caveats.get(caveat.name);
    if (definition === undefined) {
      // Writes are validated against the schema, and a schema change may not orphan relationships.
      throw new BugError(`relationship ${formatRelationship(relationship)} names caveat \`${caveat.name}\`, which the schema does not define`);
    }
    const missing = [...definition.parameters.keys()].filter(
      (parameter) => !Object.hasOwn(caveat.context, parameter) && (requestContext === undefined || !Object.hasOwn(requestContext, parameter)),
    );
    if (missing.length > 0) return conditional(missing);
    throw new CaveatEvaluationUnavailableError(
      `context: caveat \`${caveat.name}\` on relationship ${formatRelationship(relationship)} has all its parameters, ` +
        "but evaluating caveat expressions is not implemented yet",
      { field: "context" },
    );
  }
}
