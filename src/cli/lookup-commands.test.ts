import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MandateServer, createMandateClient, relationshipToWire } from "../api/index.ts";
import { Engine } from "../engine/index.ts";
import { MemoryStore } from "../store/index.ts";
import { parseRelationship } from "../tuple/index.ts";
import { formatLookupLine, parseLimitFlag, parseLookupResourcesTarget, parseLookupSubjectsTarget } from "./lookup-commands.ts";
import { runMain } from "./main.ts";
import { UsageError } from "./usage-error.ts";
import { fakeCommandIo } from "./fake-command-io.ts";

describe("parseLookupResourcesTarget", () => {
  it("reads a resource type, a permission and a subject or userset", () => {
    expect(parseLookupResourcesTarget(["document", "view", "user:alice"])).toEqual({
      resourceType: "document",
      permission: "view",
      subject: { type: "user", id: "alice" },
    });
    expect(parseLookupResourcesTarget(["folder", "view", "group:eng#member"]).subject).toEqual({ type: "group", id: "eng", relation: "member" });
  });

  it.each([
    [["Document", "view", "user:alice"], /RESOURCE_TYPE/],
    [["document", "View", "user:alice"], /PERMISSION/],
    [["document", "view", "alice"], /SUBJECT/],
    [["document", "view", "user:*"], /SUBJECT: "user:\*" is a wildcard/],
  ])("rejects %j as a usage error naming the argument", (positionals, message) => {
    expect(() => parseLookupResourcesTarget(positionals)).toThrow(UsageError);
    expect(() => parseLookupResourcesTarget(positionals)).toThrow(message);
  });
});

describe("parseLookupSubjectsTarget", () => {
  it.each([
    [["document:readme", "view", "user"], undefined],
    [["document:readme", "view", "group#member"], "member"],
  ])("reads %j", (positionals, subjectRelation) => {
    expect(parseLookupSubjectsTarget(positionals)).toEqual({
      resource: { type: "document", id: "readme" },
      permission: "view",
      subjectType: positionals[2]?.split("#")[0],
      subjectRelation,
    });
  });

  it.each([
    [["document", "view", "user"], /RESOURCE/],
    [["document:readme", "view", "user:alice"], /SUBJECT_TYPE/],
    [["document:readme", "view", "group#member#x"], /SUBJECT_TYPE: "group#member#x" is not of the form TYPE or TYPE#RELATION/],
    [["document:readme", "view", "group#Member"], /SUBJECT_TYPE relation/],
  ])("rejects %j as a usage error naming the argument", (positionals, message) => {
    expect(() => parseLookupSubjectsTarget(positionals)).toThrow(UsageError);
    expect(() => parseLookupSubjectsTarget(positionals)).toThrow(message);
  });
});

describe("parseLimitFlag", () => {
  it("reads a positive whole number and leaves an absent flag unset", () => {
    expect(parseLimitFlag("25")).toBe(25);
    expect(parseLimitFlag(undefined)).toBeUndefined();
  });

  it.each([
    ["0", "--limit: must be at least 1"],
    ["-3", "--limit: -3 is out of range"],
    ["ten", '--limit: "ten" is not a whole number'],
  ])("refuses %j", (text, message) => {
    expect(() => parseLimitFlag(text)).toThrow(UsageError);
    expect(() => parseLimitFlag(text)).toThrow(message);
  });
});

describe("formatLookupLine", () => {
  it("prints the id, the missing context of a conditional result and a wildcard's exclusions", () => {
    expect(formatLookupLine("readme", "LOOKUP_PERMISSIONSHIP_HAS_PERMISSION", null)).toBe("readme\n");
    expect(formatLookupLine("readme", "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION", { missingRequiredContext: ["ip", "network"] })).toBe(
      "readme (conditional: missing ip, network)\n",
    );
    expect(formatLookupLine("*", "LOOKUP_PERMISSIONSHIP_HAS_PERMISSION", null, [{ subjectObjectId: "bob" }, { subjectObjectId: "carl" }])).toBe(
      "* (except: bob, carl)\n",
    );
  });
});


const SCHEMA = `caveat on_network(network string, ip string) {
  ip == network
}

definition user {}

definition document {
  relation viewer: user | user:* | user with on_network
  relation banned: user
  permission view = viewer - banned
}
`;

describe("mandate lookup-resources and lookup-subjects against a server", () => {
  const store = new MemoryStore();
  const server = new MandateServer({ store, engine: new Engine({ maxDepth: 50 }), logger: pino({ level: "silent" }) });
  let endpoint: string;
  beforeAll(async () => {
    endpoint = `127.0.0.1:${await server.listen("127.0.0.1", 0)}`;
    const client = createMandateClient(endpoint);
    await client.writeSchema({ schema: SCHEMA });
    const relationships = [
      "document:a#viewer@user:ann",
      "document:b#viewer@user:ann",
      "document:c#viewer@user:ann",
      'document:d#viewer@user:ann[on_network:{"network":"10.0.0.0"}]',
      "document:public#viewer@user:*",
      "document:public#banned@user:bob",
    ];
    await client.writeRelationships({ updates: relationships.map((text) => ({ operation: "OPERATION_CREATE", relationship: relationshipToWire(parseRelationship(text)) })) });
    client.close();
  });
  afterAll(async () => {
    await server.shutdown(100);
    await store.close();
  });

  const run = async (...argv: string[]) => {
    const io = fakeCommandIo();
    const code = await runMain([...argv, "--endpoint", endpoint], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
  const lines = (text: string) => text.split("\n").filter((line) => line !== "");

  it("prints every resource, one per line, conditional ones with their missing context", async () => {
    const { code, out, err } = await run("lookup-resources", "document", "view", "user:ann");
    expect(code).toBe(0);
    expect(lines(out).sort()).toEqual(["a", "b", "c", "d (conditional: missing ip)", "public"]);
    expect(err).toBe("");
  });

  it("pages with --limit and the --cursor printed on stderr, until every resource was printed once", async () => {
    const all = lines((await run("lookup-resources", "document", "view", "user:ann")).out);
    const paged: string[] = [];
    let cursorArgs: string[] = [];
    for (let page = 0; page < all.length; page++) {
      const { code, out, err } = await run("lookup-resources", "document", "view", "user:ann", "--limit", "2", ...cursorArgs);
      expect(code).toBe(0);
      paged.push(...lines(out));
      const next = /^next page: --cursor (\S+)$/m.exec(err);
      if (next === null) break;
      cursorArgs = ["--cursor", next[1] ?? ""];
    }
    expect(paged).toEqual(all);
  });

  it("prints the wildcard with its exclusions, and a conditional subject", async () => {
    expect(lines((await run("lookup-subjects", "document:public", "view", "user")).out)).toEqual(["* (except: bob)"]);
    expect(lines((await run("lookup-subjects", "document:d", "view", "user")).out)).toEqual(["ann (conditional: missing ip)"]);
  });

  it("exits 0 with no output when nothing is found", async () => {
    const { code, out } = await run("lookup-subjects", "document:none", "view", "user");
    expect(code).toBe(0);
    expect(out).toBe("");
  });

  it.each([
    [["lookup-resources", "document", "view", "user:ann", "--limit", "0"], "--limit: must be at least 1"],
    [["lookup-resources", "document", "view"], "missing argument"],
    [["lookup-subjects", "document:a", "view", "user", "extra"], 'unexpected argument "extra"'],
  ])("exits 2 for the usage error in %j", async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
  });

  it("exits 4 with the server's reason for a request it refuses", async () => {
    const { code, err } = await run("lookup-resources", "nothing", "view", "user:ann");
    expect(code).toBe(4);
    expect(err).toContain("FAILED_PRECONDITION: resource_object_type:");
  });

  it("passes the server's refusal of a malformed cursor through", async () => {
    const { code, err } = await run("lookup-resources", "document", "view", "user:ann", "--cursor", "nonsense");
    expect(code).toBe(4);
    expect(err).toContain("INVALID_ARGUMENT: optional_cursor: the cursor is malformed");
  });

  it.each(["lookup-resources", "lookup-subjects"])("prints help for %s with exit 0", async (command) => {
    const { code, out } = await run(command, "--help");
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Usage: mandate ${command} `));
    expect(out).toContain("next page: --cursor TOKEN");
  });
});
