// The interface both sides of a differential test implement: the reference (SpiceDB) and Mandate.
import type { Relationship } from "../../src/tuple/index.ts";
import type { CheckCase } from "./random-relationships.ts";

/** Answer is a definite check result, in Mandate's words. */
export type Answer = "allowed" | "denied" | "conditional";

/** CheckOutcome is what a system said to one check: a definite answer, or an error it raised. */
export type CheckOutcome = { readonly kind: "answer"; readonly answer: Answer } | { readonly kind: "error"; readonly message: string };

/** LoadOutcome says whether a system took a schema and its relationships, and if not, why. */
export type LoadOutcome = { readonly kind: "loaded" } | { readonly kind: "rejected"; readonly message: string };

/**
 * CheckSystem answers checks over one schema and one set of relationships at a time. `load`
 * replaces whatever was loaded before; `check` reads the last successful load, fully consistent.
 * `close` releases the system; no call may follow it.
 */
export interface CheckSystem {
  readonly name: string;
  load(schemaText: string, relationships: readonly Relationship[]): Promise<LoadOutcome>;
  check(check: CheckCase): Promise<CheckOutcome>;
  close(): Promise<void>;
}

/** describeError renders an unknown thrown value as one line, for reports. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\s+/g, " ");
}
