import { InvalidArgumentError } from "./authz-error.ts";

/** InvalidRelationshipError reports a relationship, object or subject whose text or fields are malformed. */
export class InvalidRelationshipError extends InvalidArgumentError {
  override name = "InvalidRelationshipError";
}
