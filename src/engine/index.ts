// Package engine: the algorithms over relationships and a schema: check, batch check, expand.
export { Engine } from "./engine.ts";
export {
  DepthExceededError,
  DispatchLimitExceededError,
  ExpandLimitExceededError,
  RequestAbortedError,
  CaveatEvaluationError,
} from "./errors.ts";
export type {
  Permissionship,
  CheckRequest,
  CheckTrace,
  CheckResult,
  ExpandTree,
  EngineOptions,
  EngineStats,
  LookupStats,
  EngineDependencies,
  RequestOptions,
  BudgetCounter,
  DelegationHop,
  DelegationExplanation,
} from "./engine-types.ts";
export { planGrant, planRevoke, listDelegations } from "./delegation-grants.ts";
export type { GrantRequest, GrantPlan, RevokeSelector, DelegationListFilter, ListedDelegation } from "./delegation-types.ts";
export type { LookupResourcesRequest, LookupSubjectsRequest, LookupResult, LookupSubjectsResult, LookupOptions } from "./lookup-types.ts";
export { compareLookupOrder } from "./lookup-order.ts";
