// The shape every benchmark workload shares, the size knob, and the seeded PRNG the generators draw from.
import type { Relationship } from "../../src/tuple/index.ts";

/** WorkloadSize scales a workload: `small` is ~20k–50k relationships, `medium` about four times that. */
export type WorkloadSize = "small" | "medium";

/** WORKLOAD_SIZES lists the accepted sizes, smallest first. */
export const WORKLOAD_SIZES: readonly WorkloadSize[] = ["small", "medium"];

/** SIZE_FACTOR is the multiplier each size applies to a generator's base counts. */
export const SIZE_FACTOR: Readonly<Record<WorkloadSize, number>> = { small: 1, medium: 4 };

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

/** Workload is a schema (SpiceDB DSL), the relationships to load, and the check mix to replay. */
export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly size: WorkloadSize;
  readonly schema: string;
  readonly relationships: readonly Relationship[];
  readonly checks: readonly BenchCheck[];
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
