import { describe, expect, it } from "vitest";
import { Singleflight } from "./singleflight.ts";

describe("Singleflight", () => {
  it("gives concurrent callers of one key the same computation, and forgets it once settled", async () => {
    const flights = new Singleflight<number>();
    let runs = 0;
    const compute = async (): Promise<number> => {
      runs += 1;
      const run = runs;
      await new Promise((resolve) => setImmediate(resolve));
      return run;
    };
    expect(await Promise.all([flights.run("k", compute), flights.run("k", compute), flights.run("other", compute)])).toEqual([1, 1, 2]);
    expect(await flights.run("k", compute)).toBe(3);
  });

  it("rejects every caller of a failed computation alike", async () => {
    const flights = new Singleflight<number>();
    const failing = (): Promise<number> => Promise.reject(new Error("store unavailable"));
    const results = await Promise.allSettled([flights.run("k", failing), flights.run("k", failing)]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
  });
});
