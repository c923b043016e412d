import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runMandate } from "./run-mandate.ts";

// End to end through processes: `mandate serve` on a free port with the drive example loaded,
// then the client commands against it, as a user would run them from another terminal.

let server: ChildProcess;
let endpoint: string;
const logLines: string[] = [];

beforeAll(async () => {
  server = spawn(
    process.execPath,
    ["bin/mandate.js", "serve", "--datastore", "memory", "--port", "0", "--schema", "schema/drive.zed", "--relationships", "schema/drive.relationships"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MANDATE_AUTH: "none" } },
  );
  endpoint = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      logLines.push(line);
      // The serve command logs `{"address": "127.0.0.1:PORT", "msg": "mandate serving on ..."}`
      // once the schema and the demo relationships are loaded.
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg?.startsWith("mandate serving on") && entry.address) resolve(entry.address);
    });
    server.once("exit", (code) => reject(new Error(`mandate serve exited with ${code}: ${logLines.join("\n")}`)));
  });
});

afterAll(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
});

const client = (...args: string[]) => runMandate([...args, "--endpoint", endpoint]);

describe("mandate serve with mandate check", () => {
  it("answers ALLOWED with exit 0 for access through nested groups and folders", async () => {
    expect(await client("check", "document:readme", "view", "user:bob")).toEqual({ code: 0, stdout: "ALLOWED\n", stderr: "" });
  });

  it("answers DENIED with exit 1 for a banned user, and explains itself", async () => {
    const run = await client("check", "document:roadmap#view@user:bob", "--explain");
    expect(run.code).toBe(1);
    const [answer, root] = run.stdout.split("\n");
    expect(answer).toBe("DENIED");
    expect(root).toMatch(/^DENIED\s+document:roadmap#view \(exclusion\)$/);
    expect(run.stdout).toMatch(/^ {2}ALLOWED\s+document:roadmap#banned/m);
  });

  it("writes, reads and deletes relationships, and the token it prints is usable for consistency", async () => {
    const write = await client("relationships", "write", "document:notes#viewer@user:zed");
    expect(write.code).toBe(0);
    const token = /at (\S+)$/.exec(write.stdout.trim())?.[1] ?? "";
    expect(token).not.toBe("");
    expect((await client("check", "document:notes", "view", "user:zed", "--token", token)).stdout).toBe("ALLOWED\n");
    expect((await client("relationships", "read", "document:notes")).stdout).toBe("document:notes#viewer@user:zed\n");
    expect((await client("relationships", "delete", "document:notes#viewer")).stdout).toMatch(/^deleted 1 relationship at /);
    expect((await client("check", "document:notes", "view", "user:zed")).code).toBe(1);
  });

  it("writes relationships read from stdin, one per line, and finds them by subject", async () => {
    const input = "// two documents for yan\ndocument:a#viewer@user:yan\n\ndocument:b#editor@user:yan\n";
    const write = await runMandate(["relationships", "write", "--file", "-", "--endpoint", endpoint], { input });
    expect(write.stdout).toMatch(/^wrote 2 relationships at /);
    expect((await client("relationships", "read", "--subject", "user:yan")).stdout).toBe(
      "document:a#viewer@user:yan\ndocument:b#editor@user:yan\n",
    );
  });

  it("reports a request the schema cannot answer with exit 4 and the server's reason", async () => {
    const run = await client("check", "document:readme", "nope", "user:alice");
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("FAILED_PRECONDITION");
    expect(run.stderr).toContain("`nope`");
  });

  it("reports SERVING from mandate health", async () => {
    expect(await client("health")).toMatchObject({ code: 0, stdout: "SERVING\n" });
  });

  it("shuts down cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(logLines.some((line) => line.includes('"shutting down"'))).toBe(true);
  });
});
