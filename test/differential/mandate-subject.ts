// The side under test: Mandate's schema compiler, MemoryStore and Engine behind the CheckSystem interface.
import { Engine } from "../../src/engine/index.ts";
import { compileSchema } from "../../src/schema/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import { MemoryStore } from "../../src/store/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import type { Relationship } from "../../src/tuple/index.ts";
import { describeError } from "./check-system.ts";
import type { CheckOutcome, CheckSystem, LoadOutcome } from "./check-system.ts";
import type { CheckCase } from "./random-relationships.ts";

/** MAX_DEPTH matches SpiceDB's default dispatch depth, so both systems get the same budget. */
const MAX_DEPTH = 50;

/**
 * MandateSubject answers checks the way Mandate's server does: the schema compiled by
 * compileSchema, relationships in a fresh MemoryStore per load, and Engine.check over a snapshot
 * at the revision of the write. Anything Mandate throws (DepthExceededError included) comes back
 * as an `error` outcome, which the differential test counts as a failure when SpiceDB answered.
 */
export class MandateSubject implements CheckSystem {
  readonly name = "Mandate";
  readonly #engine = new Engine({ maxDepth: MAX_DEPTH });
  #store: MemoryStore | undefined;
  #loaded: { schema: Schema; reader: RelationshipReader } | undefined;

  async load(schemaText: string, relationships: readonly Relationship[]): Promise<LoadOutcome> {
    await this.#release();
    let schema: Schema;
    try {
      schema = compileSchema(schemaText, "differential.zed");
    } catch (error) {
      return { kind: "rejected", message: `schema: ${describeError(error)}` };
    }
    const store = new MemoryStore();
    this.#store = store;
    try {
      await store.writeSchema(schemaText, async () => {});
      const revision =
        relationships.length === 0
          ? await store.headRevision()
          : await store.write(relationships.map((relationship) => ({ operation: "touch" as const, relationship })));
      this.#loaded = { schema, reader: store.snapshot(revision) };
    } catch (error) {
      return { kind: "rejected", message: `relationships: ${describeError(error)}` };
    }
    return { kind: "loaded" };
  }

  async check(check: CheckCase): Promise<CheckOutcome> {
    if (!this.#loaded) return { kind: "error", message: "check before a successful load" };
    try {
      const result = await this.#engine.check(this.#loaded.reader, this.#loaded.schema, {
        resource: check.resource,
        permission: check.permission,
        subject: check.subject,
      });
      return { kind: "answer", answer: result.permissionship };
    } catch (error) {
      return { kind: "error", message: describeError(error) };
    }
  }

  async close(): Promise<void> {
    await this.#release();
  }

  async #release(): Promise<void> {
    this.#loaded = undefined;
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }
}
