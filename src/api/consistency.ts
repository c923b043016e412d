import type { Revision } from "../tuple/index.ts";
import { FailedPreconditionError, assertNever } from "../tuple/index.ts";
import type { Store } from "../store/index.ts";

/**
 * ConsistencyRequirement is a request's decoded `consistency` field. `field` on the token-bearing
 * kinds names the request field the token came from, for error messages.
 */
export type ConsistencyRequirement =
  | { readonly kind: "minimize_latency" }
  | { readonly kind: "fully_consistent" }
  | { readonly kind: "at_least_as_fresh"; readonly revision: Revision; readonly field: string }
  | { readonly kind: "at_exact_snapshot"; readonly revision: Revision; readonly field: string };

/**
 * resolveRevision picks the revision a read runs at:
 * - minimize_latency: the head (no snapshot cache exists yet, so the freshest is also the cheapest);
 * - fully_consistent: the head, read now;
 * - at_least_as_fresh(t): max(head, t), which is the head once t is known not to be ahead of it;
 * - at_exact_snapshot(t): exactly t (the store refuses it if its history is gone).
 * A token ahead of the head cannot have been issued by this store: FailedPreconditionError.
 */
export async function resolveRevision(store: Store, requirement: ConsistencyRequirement): Promise<Revision> {
  switch (requirement.kind) {
    case "minimize_latency":
    case "fully_consistent":
      return store.headRevision();
    case "at_least_as_fresh":
    case "at_exact_snapshot": {
      const head = await store.headRevision();
      if (requirement.revision > head) {
        throw new FailedPreconditionError(
          `${requirement.field}: token is from the future or from another datastore (it names revision ${requirement.revision}, the newest is ${head})`,
          { field: requirement.field },
        );
      }
      return requirement.kind === "at_exact_snapshot" ? requirement.revision : head;
    }
    default:
      return assertNever(requirement, "consistency requirement");
  }
}
