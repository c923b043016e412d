import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../tuple/index.ts";
import { Engine } from "./engine.ts";
import { DispatchLimitExceededError, RequestAbortedError } from "./errors.ts";
import { CountingReader, checkRequest, fixture } from "./test-fixtures.ts";

const GROUPS = `
definition user {}
definition group {
  relation member: user | group#member
}
definition doc {
  relation viewer: user | group#member
}
`;

const engine = new Engine();

/** wide gives doc:d `count` empty groups as viewers: a check for a non-viewer visits all of them. */
function wide(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `doc:d#viewer@group:g${i}#member`);
}

describe("request budget", () => {
  it("fails a check that needs more subproblems than maxDispatches, naming the limit", async () => {
    const { reader, schema } = await fixture(GROUPS, wide(20));
    const failure = new Engine({ maxDispatches: 10 }).check(reader, schema, checkRequest("doc:d", "viewer", "user:nobody"));
    await expect(failure).rejects.toThrow(DispatchLimitExceededError);
    await expect(failure).rejects.toMatchObject({ code: "resource_exhausted", maxDispatches: 10, message: expect.stringMatching(/maximum of 10 subproblems \(maxDispatches\)/) });
    await expect(new Engine({ maxDispatches: 21 }).check(reader, schema, checkRequest("doc:d", "viewer", "user:nobody"))).resolves.toMatchObject({
      permissionship: "denied",
    });
  });

  it("applies maxDispatches to each item of a batch, not to the batch", async () => {
    const { reader, schema } = await fixture(GROUPS, wide(20));
    const requests = Array.from({ length: 5 }, (_, i) => checkRequest("doc:d", "viewer", `user:u${i}`));
    const answers = await new Engine({ maxDispatches: 21 }).checkBatch(reader, schema, requests);
    expect(answers).toEqual(Array.from({ length: 5 }, () => ({ result: { permissionship: "denied" } })));
  });

  it.each(["maxDispatches", "maxExpandNodes"] as const)("rejects a %s that is not a positive integer", (field) => {
    expect(() => new Engine({ [field]: 0 })).toThrow(InvalidArgumentError);
    expect(() => new Engine({ [field]: 1.5 })).toThrow(new RegExp(`^${field}: `));
  });

  it("stops a check whose signal is aborted while it runs", async () => {
    const { reader, schema } = await fixture(GROUPS, wide(20));
    const controller = new AbortController();
    const counting = new CountingReader(reader, (count) => {
      if (count === 3) controller.abort(new Error("client cancelled"));
    });
    const failure = engine.check(counting, schema, checkRequest("doc:d", "viewer", "user:nobody"), { signal: controller.signal });
    await expect(failure).rejects.toThrow(RequestAbortedError);
    await expect(failure).rejects.toMatchObject({ code: "aborted", message: "check was aborted by the caller: client cancelled" });
    expect(counting.queries.length).toBeLessThan(6);
  });

  it("rejects a whole batch once its signal is aborted", async () => {
    const { reader, schema } = await fixture(GROUPS, wide(3));
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    await expect(engine.checkBatch(reader, schema, [checkRequest("doc:d", "viewer", "user:a")], { signal: controller.signal })).rejects.toThrow(
      RequestAbortedError,
    );
  });

  it("stops an expand whose signal is aborted", async () => {
    const { reader, schema } = await fixture(GROUPS, wide(3));
    const controller = new AbortController();
    controller.abort(new Error("client cancelled"));
    await expect(engine.expand(reader, schema, { type: "doc", id: "d" }, "viewer", { signal: controller.signal })).rejects.toThrow(
      /^expand was aborted by the caller: client cancelled$/,
    );
  });

  it("lets other work use the event loop during a long check", async () => {
    // 1,500 subproblems: without yielding, the whole check would run in microtasks before any
    // setImmediate callback; the reader records whether the callback ran before its later reads.
    const { reader, schema } = await fixture(GROUPS, wide(1_500));
    let otherWorkRan = false;
    const seenByRead: boolean[] = [];
    const counting = new CountingReader(reader, () => seenByRead.push(otherWorkRan));
    setImmediate(() => {
      otherWorkRan = true;
    });
    await expect(engine.check(counting, schema, checkRequest("doc:d", "viewer", "user:nobody"))).resolves.toMatchObject({ permissionship: "denied" });
    expect(seenByRead[0]).toBe(false);
    expect(seenByRead.at(-1)).toBe(true);
  });
});
