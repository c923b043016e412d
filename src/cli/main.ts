// Package cli: the `mandate` command and the composition root (the only place that reads the
// environment, creates the root logger, and builds stores and servers).
import { AuthzError } from "../tuple/index.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { MAIN_HELP } from "./main-help.ts";
import { UsageError } from "./usage-error.ts";

type Command = (args: readonly string[], io: CommandIo) => Promise<ExitCodeValue>;

// Commands load on demand, so that `mandate --help` and `mandate validate` do not pay for gRPC.
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import("./serve-command.ts")).runServeCommand,
  check: async () => (await import("./check-command.ts")).runCheckCommand,
  expand: async () => (await import("./expand-command.ts")).runExpandCommand,
  "lookup-resources": async () => (await import("./lookup-commands.ts")).runLookupResourcesCommand,
  "lookup-subjects": async () => (await import("./lookup-commands.ts")).runLookupSubjectsCommand,
  relationships: async () => (await import("./relationships-command.ts")).runRelationshipsCommand,
  delegations: async () => (await import("./delegations-command.ts")).runDelegationsCommand,
  keys: async () => (await import("./keys-command.ts")).runKeysCommand,
  schema: async () => (await import("./schema-command.ts")).runSchemaCommand,
  validate: async () => (await import("./validate-command.ts")).runValidateCommand,
  health: async () => (await import("./health-command.ts")).runHealthCommand,
  import: async () => (await import("./bulk-commands.ts")).runImportCommand,
  export: async () => (await import("./bulk-commands.ts")).runExportCommand,
  migrate: async () => (await import("./migrate-command.ts")).runMigrateCommand,
};

/**
 * runMain runs one `mandate` command line and returns its exit code (see ExitCode). It never
 * throws: a UsageError prints with a pointer to --help (exit 2), an AuthzError prints its message
 * (exit 4), anything else prints its stack (exit 4).
 */
export async function runMain(argv: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(MAIN_HELP);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.err(`mandate: unknown command "${name}"\nRun "mandate --help" for the list of commands.\n`);
    return ExitCode.usage;
  }
  try {
    return await (await load())(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`mandate ${name}: ${error.message}\nRun "mandate ${name} --help" for usage.\n`);
      return ExitCode.usage;
    }
    if (error instanceof AuthzError) {
      io.err(`mandate ${name}: ${error.message}\n`);
      return ExitCode.error;
    }
    io.err(`mandate ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.error;
  }
}

/** processIo binds CommandIo to this process: its streams, environment, directory and signals. */
function processIo(): CommandIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    stdinStream: () => process.stdin,
    stderrIsTty: process.stderr.isTTY === true,
    waitForShutdown: () =>
      new Promise((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      }),
  };
}

/** main runs the command line of this process and sets its exit code; bin/mandate.js calls it. */
export async function main(): Promise<void> {
  process.exitCode = await runMain(process.argv.slice(2), processIo());
}
