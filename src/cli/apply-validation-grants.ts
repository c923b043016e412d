import { planGrant } from "../engine/index.ts";
import type { BudgetCounter } from "../engine/index.ts";
import type { Schema } from "../schema/index.ts";
import type { BudgetCharge, BudgetOutcome, Store } from "../store/index.ts";
import { FailedPreconditionError, formatObjectRef, InvalidArgumentError, relationshipKey } from "../tuple/index.ts";
import type { Diagnostic, SourcePosition } from "./validation-file.ts";
import { grantFieldPosition } from "./validation-grants.ts";
import type { ValidationGrant } from "./validation-grants.ts";

/**
 * ValidationBudgets counts the uses of budgeted edges during a validation run: every check sees
 * each budget as the file sets it (`used:`, 0 by default) and what a check spends is forgotten,
 * so that assertions, like SpiceDB's, do not depend on their order. An edge whose `used` has
 * reached its budget is spent for every check.
 */
export class ValidationBudgets implements BudgetCounter {
  readonly #used = new Map<string, number>();

  /** setUsed records the uses already spent on the edge with id `grantId` when the run starts. */
  setUsed(grantId: string, used: number): void {
    this.#used.set(grantId, used);
  }

  async chargeBudgets(charges: readonly BudgetCharge[]): Promise<BudgetOutcome> {
    const exhausted = charges.find(({ grantId, limit }) => (this.#used.get(grantId) ?? 0) >= limit);
    if (exhausted !== undefined) return { exhausted: exhausted.grantId };
    return { used: charges.map(({ grantId }) => (this.#used.get(grantId) ?? 0) + 1) };
  }

  async budgetUsage(grantIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return new Map(grantIds.map((id) => [id, this.#used.get(id) ?? 0]));
  }
}

/**
 * applyValidationGrants writes `grants` to `store` in file order, each planned by planGrant (every
 * rule a server applies on GrantDelegation) at its `granted_at`, or at `at` without one:
 * `setClock` moves the store's clock there first, so that a parent edge is live, or not, as it
 * was then. Grant times may not go back from one grant to the next, nor pass `at`. Returns a
 * diagnostic for each grant refused, at the field the refusal names (a later grant through a
 * refused one is refused too), and records each `used:` in `budgets`.
 */
export async function applyValidationGrants(
  store: Store,
  schema: Schema,
  grants: readonly ValidationGrant[],
  at: Date,
  setClock: (time: Date) => void,
  budgets: ValidationBudgets,
): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const report = (position: SourcePosition, message: string) => diagnostics.push({ ...position, message });
  const seen = new Map<string, SourcePosition>();
  let previous: Date | undefined;
  for (const entry of grants) {
    const { request } = entry;
    const name = `grant ${formatObjectRef(request.actor)} for ${formatObjectRef(request.principal)}`;
    const grantedAt = entry.grantedAt ?? at;
    const timePosition = grantFieldPosition(entry, "granted_at");
    if (grantedAt > at) {
      report(timePosition, `${name}: granted_at ${grantedAt.toISOString()} is after the run's clock (at: ${at.toISOString()})`);
      continue;
    }
    if (previous !== undefined && grantedAt < previous) {
      report(timePosition, `${name}: granted_at ${grantedAt.toISOString()} is before the previous grant's (${previous.toISOString()}); grants are applied in file order`);
      continue;
    }
    previous = grantedAt;
    setClock(grantedAt);
    const planned = entry.expiresInMs === undefined ? request : { ...request, expiresAt: new Date(grantedAt.getTime() + entry.expiresInMs) };
    try {
      const plan = await planGrant(store.snapshot(await store.headRevision()), schema, planned, grantedAt);
      const key = relationshipKey(plan.relationship);
      const first = seen.get(key);
      if (first !== undefined) {
        report(entry.position, `${name}: a second grant of the edge ${key} (first at line ${first.line}) would replace the first`);
        continue;
      }
      seen.set(key, entry.position);
      await store.write([{ operation: "touch", relationship: plan.relationship }], plan.preconditions);
      budgets.setUsed(plan.grant.id, entry.used);
    } catch (error) {
      // A refusal is the file's fault; anything else (a BugError) is not.
      if (!(error instanceof InvalidArgumentError || error instanceof FailedPreconditionError)) throw error;
      report(grantFieldPosition(entry, error.field), `${name}: ${error.message}`);
    }
  }
  return diagnostics;
}
