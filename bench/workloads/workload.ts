// The shape every benchmark workload shares, the size knob, and the seeded PRNG the generators draw from.
import type { Relationship } from "../../src/tuple/index.ts";

/**
 * WorkloadSize scales a workload. `full` is the size issue 4 names (W1: 10k users, 1k roles, 100k
 * documents; about 150k–350k relationships for each workload); `small` is a tenth of it, `medium`
 * 40%, and `large` scales each workload to about 10M relationships (its factor is the generator's).
 */
export type WorkloadSize = "small" | "medium" | "full" | "large";

/** WORKLOAD_SIZES lists the accepted sizes, smallest first. */
export const WORKLOAD_SIZES: readonly WorkloadSize[] = ["small", "medium", "full", "large"];

/** LARGE_RELATIONSHIPS is about how many relationships the `large` size of every workload holds. */
export const LARGE_RELATIONSHIPS = 10_000_000;

/**
 * sizeFactor is the multiplier `size` applies to a generator's `full` counts; `largeFactor` is the
 * generator's own factor for `large` (its relationships at `full` divided into LARGE_RELATIONSHIPS).
 */
export function sizeFactor(size: WorkloadSize, largeFactor: number): number {
  switch (size) {
    case "small":
      return 0.1;
    case "medium":
      return 0.4;
    case "full":
      return 1;
    case "large":
      return largeFactor;
    default:
      throw new RangeError(`size: "${String(size)}" is not one of ${WORKLOAD_SIZES.join(", ")}`);
  }
}

/** scaled is `count` at `factor`, rounded, and at least 1. */
export function scaled(count: number, factor: number): number {
  return Math.max(1, Math.round(count * factor));
}

/** BenchAnswer is the answer a check must get; the generator knows it from how it built the data. */
export type BenchAnswer = "allowed" | "denied";

/**
 * BenchCheck is one check of a workload's mix. `expected` comes from the generator's own model of
 * what it built, never from an engine; `tag` groups checks for per-tag latency (e.g. "depth8").
 */
export interface BenchCheck {
  readonly resource: { readonly type: string; readonly id: string };
  readonly permission: string;
  readonly subject: { readonly type: string; readonly id: string; readonly relation?: string | undefined };
  readonly expected: BenchAnswer;
  readonly tag: string;
}

/**
 * FreshnessProbe is one write of the freshness phase and the check that must see it: the
 * relationship gives a subject that appears nowhere else (so no other check's answer changes) a
 * direct grant, and `check` (expected "allowed") asks for it.
 */
export interface FreshnessProbe {
  readonly relationship: Relationship;
  readonly check: BenchCheck;
}

/** Workload is a schema (SpiceDB DSL), the relationships to load, and the check mix to replay. */
export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly size: WorkloadSize;
  readonly schema: string;
  readonly relationships: readonly Relationship[];
  readonly checks: readonly BenchCheck[];
  /** freshnessProbe is probe number `n` (n >= 0); distinct n give distinct subjects. */
  freshnessProbe(n: number): FreshnessProbe;
}

/**
 * directGrantProbe builds the FreshnessProbe of a workload whose `resourceType#relation` accepts
 * plain `user` subjects and whose `permission` includes that relation outright (no exclusion can
 * remove user `fresh{n}`): it grants user `fresh{n}` on the `n`-th of `resourceIds`, cycling.
 */
export function directGrantProbe(resourceType: string, resourceIds: readonly string[], relation: string, permission: string): (n: number) => FreshnessProbe {
  return (n) => {
    const resourceId = resourceIds[n % resourceIds.length];
    if (resourceId === undefined) throw new RangeError("directGrantProbe: resourceIds is empty");
    const subjectId = `fresh${n}`;
    return {
      relationship: rel(resourceType, resourceId, relation, "user", subjectId),
      check: { resource: { type: resourceType, id: resourceId }, permission, subject: { type: "user", id: subjectId }, expected: "allowed", tag: "fresh" },
    };
  };
}

/**
 * Prng is a small deterministic generator (SplitMix32-style mixing of a 32-bit counter), so that
 * a workload is the same on every run for the same seed; Math.random is never used.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** next returns a uniform float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  }

  /** int returns a uniform integer in [0, bound); bound must be positive. */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** chance is true with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** pick returns a uniform element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new RangeError("Prng.pick: items is empty");
    return item;
  }
}

/** rel builds a relationship `type:id#relation@subjectType:subjectId[#subjectRelation]`. */
export function rel(type: string, id: string, relation: string, subjectType: string, subjectId: string, subjectRelation?: string): Relationship {
  return {
    resource: { type, id },
    relation,
    subject: subjectRelation === undefined ? { type: subjectType, id: subjectId } : { type: subjectType, id: subjectId, relation: subjectRelation },
  };
}

/** answer turns the generator's verdict into a BenchAnswer. */
export function answer(allowed: boolean): BenchAnswer {
  return allowed ? "allowed" : "denied";
}

/** ids returns `prefix0 … prefix{count-1}`. */
export function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
