import { describe, expect, it } from "vitest";
import { compareLookupOrder } from "../../src/engine/index.ts";
import type { CheckRequest, LookupResourcesRequest, LookupResult, LookupSubjectsRequest, LookupSubjectsResult } from "../../src/engine/index.ts";
import { impliedSubjectAnswers, judgeResources, judgeSubjects, pagingProblems } from "./lookup-judge.ts";

// The judge must catch every way a lookup can be wrong, or the property test proves nothing.

const RESOURCES: LookupResourcesRequest = { resourceType: "doc", permission: "view", subject: { type: "user", id: "ann" } };
const SUBJECTS: LookupSubjectsRequest = { resource: { type: "doc", id: "d1" }, permission: "view", subjectType: "user" };

/** checks answers from a table keyed by the id that varies (resource id or subject id). */
function checks(answers: Record<string, string>, key: (request: CheckRequest) => string): (request: CheckRequest) => Promise<string> {
  return async (request) => answers[key(request)] ?? "denied";
}
const byResource = (answers: Record<string, string>) => checks(answers, (r) => r.resource.id);
const bySubject = (answers: Record<string, string>) => checks(answers, (r) => r.subject.id);
const ordered = (ids: string[]): string[] => [...ids].sort(compareLookupOrder);
const allowed = (id: string): LookupResult => ({ id, permissionship: "allowed" });

describe("judgeResources", () => {
  it("accepts exactly the candidates Check does not deny, in lookup order", async () => {
    const results = ordered(["a", "b"]).map(allowed);
    const judgement = await judgeResources({ kind: "results", results }, RESOURCES, ["a", "b", "c"], byResource({ a: "allowed", b: "allowed" }));
    expect(judgement.problems).toEqual([]);
    expect(judgement.judged).toBe(3);
  });

  it.each<[string, LookupResult[], Record<string, string>, RegExp]>([
    ["a missing resource", [allowed("a")], { a: "allowed", b: "allowed" }, /b: the lookup implies denied, Check answers allowed/],
    ["a resource Check denies", [allowed("a"), allowed("zz")].sort((x, y) => compareLookupOrder(x.id, y.id)), { a: "allowed" }, /zz: the lookup implies allowed, Check answers denied/],
    ["other missing parameters", [{ id: "a", permissionship: "conditional", missingParameters: ["x"] }], { a: "conditional [x, y]" }, /a: the lookup implies conditional \[x\], Check answers conditional \[x, y\]/],
    ["a conditional result without missing parameters", [{ id: "a", permissionship: "conditional" }], { a: "conditional" }, /conditional without missing parameters/],
    ["a result out of lookup order", ordered(["a", "b"]).reverse().map(allowed), { a: "allowed", b: "allowed" }, /not in lookup order/],
    ["a result twice", [allowed("a"), allowed("a")], { a: "allowed" }, /returned a twice/],
  ])("flags %s", async (_, results, answers, problem) => {
    const judgement = await judgeResources({ kind: "results", results }, RESOURCES, ["a", "b"], byResource(answers));
    expect(judgement.problems.join("\n")).toMatch(problem);
  });

  it("accepts a failed lookup only when a candidate's check fails with the same kind of error", async () => {
    class DepthExceededError extends Error {
      override name = "DepthExceededError";
    }
    const failed = { kind: "error" as const, error: new DepthExceededError("too deep") };
    const alongside = await judgeResources(failed, RESOURCES, ["a", "b"], byResource({ a: "error: DepthExceededError: too deep" }));
    expect(alongside).toMatchObject({ failedWithCheck: true, problems: [] });
    const alone = await judgeResources(failed, RESOURCES, ["a", "b"], byResource({ a: "allowed" }));
    expect(alone.problems.join("\n")).toMatch(/failed with DepthExceededError: too deep, while every candidate's check answered/);
  });
});

describe("judgeSubjects", () => {
  const wildcard = (excludedIds: string[], permissionship: "allowed" | "conditional" = "allowed"): LookupSubjectsResult =>
    permissionship === "allowed" ? { id: "*", permissionship, excludedIds } : { id: "*", permissionship, missingParameters: ["x"], excludedIds };

  it("reads an answer for every id from the wildcard, its exclusions and the listed subjects", () => {
    const answer = impliedSubjectAnswers([wildcard(["eve"], "conditional"), allowed("ann")]);
    expect([answer("ann"), answer("eve"), answer("someone")]).toEqual(["allowed", "denied", "conditional [x]"]);
    expect(impliedSubjectAnswers([allowed("ann")])("someone")).toBe("denied");
  });

  it("accepts a wildcard with its exclusions and the subjects that differ from it", async () => {
    const results = [wildcard(["eve"], "conditional"), allowed("ann")];
    const judgement = await judgeSubjects({ kind: "results", results }, SUBJECTS, ["ann", "eve", "zz"], bySubject({ ann: "allowed", zz: "conditional [x]" }));
    expect(judgement.problems).toEqual([]);
  });

  it.each<[string, LookupSubjectsResult[], Record<string, string>, RegExp]>([
    ["an excluded subject Check allows", [wildcard(["eve"])], { ann: "allowed", eve: "allowed", zz: "allowed" }, /eve: the lookup implies denied, Check answers allowed/],
    ["a wildcard where unnamed subjects are denied", [wildcard([])], { ann: "allowed" }, /zz: the lookup implies allowed, Check answers denied/],
    ["a subject listed with the wildcard's answer", [wildcard([]), allowed("ann")], { ann: "allowed", eve: "allowed", zz: "allowed" }, /ann is listed although its answer \(allowed\) is the wildcard's/],
    ["a wildcard that is not first", [allowed("ann"), wildcard([], "conditional")], { ann: "allowed", eve: "conditional [x]", zz: "conditional [x]" }, /not the first result/],
    ["a wildcard without excludedIds", [{ id: "*", permissionship: "allowed" }], { ann: "allowed", eve: "allowed", zz: "allowed" }, /has no excludedIds/],
    ["a subject both listed and excluded", [wildcard(["ann"], "conditional"), allowed("ann")], { ann: "allowed", eve: "conditional [x]", zz: "conditional [x]" }, /both listed and excluded/],
  ])("flags %s", async (_, results, answers, problem) => {
    const judgement = await judgeSubjects({ kind: "results", results }, SUBJECTS, ["ann", "eve", "zz"], bySubject(answers));
    expect(judgement.problems.join("\n")).toMatch(problem);
  });
});

describe("pagingProblems", () => {
  const full = ordered(["a", "b", "c", "d"]).map(allowed);

  it("accepts pages that add up to the full list", async () => {
    const pages = (options: { after?: string | undefined; limit?: number | undefined }): AsyncIterable<LookupResult> =>
      (async function* () {
        const start = options.after === undefined ? 0 : full.findIndex((r) => r.id === options.after) + 1;
        yield* full.slice(start, start + (options.limit ?? full.length));
      })();
    expect(await pagingProblems(full, 3, pages)).toEqual([]);
  });

  it("flags a cursor that skips a result", async () => {
    const skipping = (options: { after?: string | undefined; limit?: number | undefined }): AsyncIterable<LookupResult> =>
      (async function* () {
        const start = options.after === undefined ? 0 : full.findIndex((r) => r.id === options.after) + 2;
        yield* full.slice(start, start + (options.limit ?? full.length));
      })();
    expect((await pagingProblems(full, 2, skipping)).join("\n")).toMatch(/paging by 2 gives/);
  });
});
