import { InvalidArgumentError, relationshipKey } from "../tuple/index.ts";
import { MAX_BUDGET } from "../schema/index.ts";
import type { BudgetCharge, QueryOptions, RelationshipFilter, RelationshipUpdate, WatchOptions } from "./store.ts";

// Shared by every Store implementation so that they reject the same inputs with the same fields.

/** validateRelationshipFilter throws InvalidArgumentError naming `field` if the filter is contradictory. */
export function validateRelationshipFilter(filter: RelationshipFilter, field: string): void {
  if (filter.resourceId !== undefined && filter.resourceIdPrefix !== undefined) {
    throw new InvalidArgumentError(`${field}.resourceIdPrefix: cannot be combined with ${field}.resourceId`, {
      field: `${field}.resourceIdPrefix`,
    });
  }
}

/**
 * validateLimit throws InvalidArgumentError naming `field` unless `limit` is undefined (no limit)
 * or a positive integer. Zero is refused rather than read as "no limit" or "nothing": the API
 * layer decides what a proto default of 0 means and must say so explicitly.
 */
export function validateLimit(limit: number | undefined, field: string): void {
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
    throw new InvalidArgumentError(`${field}: must be a positive integer, got ${String(limit)}`, { field });
  }
}

/** validateQueryOptions checks QueryOptions; errors name `options.limit`. */
export function validateQueryOptions(options: QueryOptions): void {
  validateLimit(options.limit, "options.limit");
}

/**
 * validateWatchOptions throws InvalidArgumentError naming `options.maxChanges` unless it is
 * undefined, or a positive integer given together with `checkpoints` (a watch without checkpoints
 * yields only change sets that carry changes, and an oversized marker carries none).
 */
export function validateWatchOptions(options: WatchOptions): void {
  validateLimit(options.maxChanges, "options.maxChanges");
  if (options.maxChanges !== undefined && options.checkpoints !== true) {
    throw new InvalidArgumentError("options.maxChanges: only a watch with checkpoints may leave out oversized revisions", { field: "options.maxChanges" });
  }
}

/** validateRevision throws InvalidArgumentError naming `field` unless `revision` is a non-negative integer. */
export function validateRevision(revision: number, field: string): void {
  if (!(Number.isSafeInteger(revision) && revision >= 0)) {
    throw new InvalidArgumentError(`${field}: a revision is a non-negative integer, got ${String(revision)}`, { field });
  }
}

/**
 * validateUpdates throws InvalidArgumentError naming `updates[i]` for what no store state could make
 * valid: an unknown operation, or the same relationship twice in one write.
 */
export function validateUpdates(updates: readonly RelationshipUpdate[]): void {
  const firstIndex = new Map<string, number>();
  updates.forEach(({ operation, relationship }, i) => {
    if (operation !== "create" && operation !== "touch" && operation !== "delete") {
      throw new InvalidArgumentError(`updates[${i}].operation: "${String(operation)}" is not create, touch or delete`, {
        field: `updates[${i}].operation`,
      });
    }
    const key = relationshipKey(relationship);
    const first = firstIndex.get(key);
    if (first !== undefined) {
      throw new InvalidArgumentError(`updates[${i}]: ${key} is already updated by updates[${first}]; a write may update a relationship only once`, {
        field: `updates[${i}]`,
      });
    }
    firstIndex.set(key, i);
  });
}

/**
 * validateBudgetCharges throws InvalidArgumentError naming `charges[i].grantId` (empty, or the
 * same grant twice: a delegation path charges each edge once, so a repeat is a caller's bug)
 * or `charges[i].limit` (not an integer in 1..2^31-1).
 */
export function validateBudgetCharges(charges: readonly BudgetCharge[]): void {
  const firstIndex = new Map<string, number>();
  charges.forEach(({ grantId, limit }, i) => {
    if (typeof grantId !== "string" || grantId === "") {
      throw new InvalidArgumentError(`charges[${i}].grantId: must be a non-empty string`, { field: `charges[${i}].grantId` });
    }
    const first = firstIndex.get(grantId);
    if (first !== undefined) {
      throw new InvalidArgumentError(`charges[${i}].grantId: "${grantId}" is already charged by charges[${first}]; charge each grant once`, {
        field: `charges[${i}].grantId`,
      });
    }
    firstIndex.set(grantId, i);
    if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= MAX_BUDGET)) {
      throw new InvalidArgumentError(`charges[${i}].limit: must be an integer from 1 to ${MAX_BUDGET}, got ${String(limit)}`, { field: `charges[${i}].limit` });
    }
  });
}
