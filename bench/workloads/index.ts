// Package bench/workloads: the seeded benchmark workloads W1–W4 and their registry, and the lookup workload.
import { agentsWorkload } from "./agents.ts";
import { driveWorkload } from "./drive.ts";
import { folderLookupsWorkload } from "./folder-lookups.ts";
import { nestedGroupsWorkload } from "./nested-groups.ts";
import { rbacWorkload } from "./rbac.ts";
import type { Workload, WorkloadSize } from "./workload.ts";

export { Prng, WORKLOAD_SIZES, LARGE_RELATIONSHIPS, sizeFactor } from "./workload.ts";
export type { Workload, WorkloadSize, BenchCheck, BenchAnswer, FreshnessProbe } from "./workload.ts";
export { rbacWorkload, nestedGroupsWorkload, driveWorkload, agentsWorkload, folderLookupsWorkload };
export type { LookupQuery, LookupWorkload } from "./folder-lookups.ts";

/** WORKLOADS maps each workload's command-line name (and its W-number) to its generator. */
export const WORKLOADS: Readonly<Record<string, (size: WorkloadSize, checks?: number) => Workload>> = {
  rbac: rbacWorkload,
  w1: rbacWorkload,
  "nested-groups": nestedGroupsWorkload,
  w2: nestedGroupsWorkload,
  drive: driveWorkload,
  w3: driveWorkload,
  agents: agentsWorkload,
  w4: agentsWorkload,
};
