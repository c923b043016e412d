import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectRef } from "../../src/tuple/index.ts";
import type { Schema } from "../../src/schema/index.ts";
import type { RelationshipReader } from "../../src/store/index.ts";
import { Engine } from "../../src/engine/index.ts";
import type { CheckRequest, CheckResult, ExpandTree } from "../../src/engine/index.ts";
import type { Harness } from "./harness.ts";
import { rejection, startHarness } from "./harness.ts";

type Options = { readonly signal?: AbortSignal | undefined };

// An engine that never answers by itself: it waits for the request's signal and records that it
// saw it abort, so the test learns whether the call's cancellation reached the engine.
class WaitingEngine extends Engine {
  readonly aborted: string[] = [];

  #wait(operation: string, options: Options): Promise<never> {
    return new Promise((_, reject) => {
      options.signal?.addEventListener("abort", () => {
        this.aborted.push(operation);
        reject(new Error(`${operation} aborted`));
      });
    });
  }

  override check(_reader: RelationshipReader, _schema: Schema, _request: CheckRequest, options: Options = {}): Promise<CheckResult> {
    return this.#wait("check", options);
  }

  override checkBatch(_reader: RelationshipReader, _schema: Schema, _requests: readonly CheckRequest[], options: Options = {}): Promise<never> {
    return this.#wait("checkBatch", options);
  }

  override expand(_reader: RelationshipReader, _schema: Schema, _resource: ObjectRef, _permission: string, options: Options = {}): Promise<ExpandTree> {
    return this.#wait("expand", options);
  }
}

const resource = { objectType: "document", objectId: "readme" };
const subject = { object: { objectType: "user", objectId: "ann" } };

describe("a call whose deadline passes", () => {
  const engine = new WaitingEngine();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ engine });
    await h.client.writeSchema({ schema: "definition user {}\n\ndefinition document {\n  relation viewer: user\n}\n" });
  });
  afterAll(async () => {
    await h.close();
  });

  const soon = () => ({ deadline: new Date(Date.now() + 200) });

  it.each([
    ["check", () => h.client.check({ resource, permission: "viewer", subject }, soon())],
    ["checkBatch", () => h.client.checkBulk({ items: [{ resource, permission: "viewer", subject }] }, soon())],
    ["expand", () => h.client.expand({ resource, permission: "viewer" }, soon())],
  ])("stops the engine's %s", async (operation, call) => {
    const failure = await rejection(call());
    expect(failure.code).toBe(status.DEADLINE_EXCEEDED);
    await expect.poll(() => engine.aborted).toContain(operation);
  });
});
