import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { createMandateClient, relationshipToWire, toWireStruct } from "../../src/api/index.ts";
import { parseRelationship } from "../../src/tuple/index.ts";
import { runMandate } from "./run-mandate.ts";
import { startServe } from "./serve-process.ts";

// Runs `mandate serve` at the most verbose log level through calls that carry secrets (a bearer
// token, caveat contexts on relationships and in requests, some of them failing with errors that
// quote the request), and a start with a database password, then scans everything the process
// printed for those secrets.

const SCHEMA = `caveat has_token(token string, expected string) {
  token == expected
}

definition user {}

definition document {
  relation viewer: user with has_token
}
`;

function leaks(output: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => output.includes(secret));
}

describe("secrets in logs", () => {
  it("keeps bearer tokens and caveat contexts out of every log line, even at trace level", async () => {
    const serve = await startServe(["--datastore", "memory", "--log-level", "trace"], { MANDATE_AUTH: "none" });
    const client = createMandateClient(serve.endpoint);
    const secrets = ["bearer-secret-7f3a", "relationship-context-secret-91c2", "request-context-secret-44d0", "wrong-type-secret-0b9e"];
    try {
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${secrets[0]}`);
      const options = { metadata };
      await client.writeSchema({ schema: SCHEMA }, options);
      const relationship = relationshipToWire(parseRelationship(`document:readme#viewer@user:ann[has_token:{"expected":"${secrets[1]}"}]`));
      await client.writeRelationships({ updates: [{ operation: "OPERATION_CREATE", relationship }] }, options);
      const check = (context: Record<string, unknown>) =>
        client.check(
          {
            resource: { objectType: "document", objectId: "readme" },
            permission: "viewer",
            subject: { object: { objectType: "user", objectId: "ann" } },
            context: toWireStruct(context),
          },
          options,
        );
      await check({ token: secrets[2] });
      const failures = [
        // Creating it again fails, with a message that names the relationship.
        client.writeRelationships({ updates: [{ operation: "OPERATION_CREATE", relationship }] }, options),
        // A context value of the wrong type fails the caveat's evaluation.
        check({ token: { nested: secrets[3] } }),
      ];
      for (const failure of failures) await failure.then(() => expect.fail("the call should have failed"), () => undefined);
    } finally {
      client.close();
      await serve.stop();
    }
    const output = serve.logLines.join("\n");
    // The failures were logged with their messages (debug), so the scan saw them.
    expect(output).toMatch(/"level":20.*"msg":"call failed"/);
    expect(leaks(output, secrets)).toEqual([]);
  });

  it("keeps API key secrets out of every log line, whether the key is right, wrong or malformed", async () => {
    const bootstrapSecret = "bootstrapsecret0123456789abcdefghijkl";
    const wrongSecret = "wrongsecret0123456789abcdefghijklmnop";
    const malformed = "not-a-key-but-a-secret-3c5d";
    const serve = await startServe(["--datastore", "memory", "--log-level", "trace"], {
      MANDATE_AUTH: "keys",
      MANDATE_BOOTSTRAP_KEY: `mk_bootstrap_${bootstrapSecret}`,
    });
    const client = createMandateClient(serve.endpoint);
    try {
      for (const token of [`mk_bootstrap_${bootstrapSecret}`, `mk_bootstrap_${wrongSecret}`, malformed]) {
        const metadata = new Metadata();
        metadata.set("authorization", `Bearer ${token}`);
        await client.readSchema({ metadata }).catch(() => undefined);
      }
    } finally {
      client.close();
      await serve.stop();
    }
    const output = serve.logLines.join("\n");
    expect(output).toMatch(/"code":"UNAUTHENTICATED"/);
    expect(leaks(output, [bootstrapSecret, wrongSecret, malformed])).toEqual([]);
  });

  const password = "db-password-secret-5e61";
  it.each([
    // Nothing listens on port 1: the connection is refused.
    ["the database refuses the connection", `postgres://mandate:${password}@127.0.0.1:1/mandate`],
    ["the database URL cannot be parsed", `postgres://mandate:${password}@127.0.0.1:5432:9/mandate`],
  ])("keeps the database password out of what a start prints when %s", async (_, url) => {
    const run = await runMandate(["serve", "--log-level", "trace", "--port", "0", "--database-url", url], { env: { MANDATE_AUTH: "none" } });
    expect(run.code).not.toBe(0);
    expect(leaks(run.stdout + run.stderr, [password])).toEqual([]);
  });
});
