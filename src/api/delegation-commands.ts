import type { Revision } from "../tuple/index.ts";
import type { DelegationGrant } from "../schema/index.ts";
import { grantFromRelationship } from "../schema/index.ts";
import type { Store } from "../store/index.ts";
import type { DelegationListFilter, GrantRequest, ListedDelegation, RevokeSelector } from "../engine/index.ts";
import { listDelegations, planGrant, planRevoke } from "../engine/index.ts";
import type { ConsistencyRequirement } from "./consistency.ts";
import { grantFieldToWire } from "./delegation-fields.ts";
import { withRenamedField } from "./renamed-field.ts";
import type { MandateCommands } from "./mandate-commands.ts";

/** DelegationCommandsDeps are what the delegation commands need: the store (for budget counters) and the commands they write and read through. */
export interface DelegationCommandsDeps {
  readonly store: Pick<Store, "budgetUsage">;
  readonly commands: MandateCommands;
}

/**
 * DelegationCommands are the operations behind DelegationService, in domain terms. Grants and
 * revocations are planned at the head revision and written as one atomic write each, through
 * MandateCommands.writePlanned (the schema-revision guard and read-your-writes of
 * WriteRelationships); errors name the fields of the proto requests.
 */
export class DelegationCommands {
  readonly #store: Pick<Store, "budgetUsage">;
  readonly #commands: MandateCommands;

  constructor(deps: DelegationCommandsDeps) {
    this.#store = deps.store;
    this.#commands = deps.commands;
  }

  /**
   * grant validates `request` against the schema and the live edges at the head revision
   * (planGrant, with the store's clock for "now") and writes the edge with `touch`: granting the
   * same actor, principal and delegation again replaces the live edge but keeps its grant id (the
   * uses counted against its budget, the sub-delegations passed on from it). A sub-delegation
   * whose parent edge went away meanwhile fails
   * FAILED_PRECONDITION naming `via`.
   */
  async grant(request: GrantRequest): Promise<{ revision: Revision; grant: DelegationGrant }> {
    try {
      const { revision, result } = await this.#commands.writePlanned(async (schema, head) => {
        const plan = await planGrant(head, schema, request, head.now);
        return { updates: [{ operation: "touch", relationship: plan.relationship }], preconditions: plan.preconditions, result: plan.grant };
      });
      return { revision, grant: result };
    } catch (error) {
      throw withRenamedField(error, (field) => (field.startsWith("preconditions[") ? "via" : grantFieldToWire(field)));
    }
  }

  /** list returns the live edges `filter` selects at the revision `consistency` asks for, with their budgets' uses. */
  async list(consistency: ConsistencyRequirement, filter: DelegationListFilter): Promise<{ revision: Revision; delegations: ListedDelegation[] }> {
    const { revision, reader, schema } = await this.#commands.readSnapshot(consistency);
    try {
      return { revision, delegations: await listDelegations(reader, schema, filter, this.#store) };
    } catch (error) {
      throw withRenamedField(error, grantFieldToWire);
    }
  }

  /**
   * revoke deletes the edges `selector` picks at the head revision, with the sub-delegations that
   * hang off them (planRevoke), in one write; a check at least as fresh as the returned revision no
   * longer follows any of them. Revoking nothing succeeds, at the head revision.
   */
  async revoke(selector: RevokeSelector): Promise<{ revision: Revision; revoked: DelegationGrant[] }> {
    const prefix = selector.kind === "edge" ? "edge." : "";
    try {
      const { revision, result } = await this.#commands.writePlanned(async (schema, head) => {
        const doomed = await planRevoke(head, schema, selector);
        return {
          updates: doomed.map((relationship) => ({ operation: "delete" as const, relationship })),
          preconditions: [],
          result: doomed.flatMap((relationship) => {
            // An edge imported malformed is still deleted; it just cannot be described.
            try {
              return [grantFromRelationship(relationship)];
            } catch {
              return [];
            }
          }),
        };
      });
      return { revision, revoked: result };
    } catch (error) {
      throw withRenamedField(error, (field) => `${prefix}${grantFieldToWire(field)}`);
    }
  }
}
