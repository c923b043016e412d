import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { compileSchema, SchemaError } from "../schema/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

/** SCHEMA_HELP is the help text of `mandate schema`. */
const SCHEMA_HELP = `Usage: mandate schema validate FILE
       mandate schema write FILE
       mandate schema read

validate  compiles FILE locally (no server) and prints each problem as FILE:LINE:COLUMN: message.
          Exit code 0 if it compiles, 1 if not.
write     sends FILE to the server, which refuses it if it does not compile or if it would
          orphan stored relationships; prints the consistency token.
read      prints the schema the server holds.
${CLIENT_HELP}`;

/** runSchemaCommand implements `mandate schema`; see SCHEMA_HELP. */
export async function runSchemaCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, CLIENT_OPTIONS);
  const [action, ...rest] = parsed.positionals;
  if (booleanOption(parsed, "help") || action === undefined) {
    io.out(SCHEMA_HELP);
    return action === undefined && !booleanOption(parsed, "help") ? ExitCode.usage : ExitCode.ok;
  }
  const positionals = { ...parsed, positionals: rest };
  switch (action) {
    case "validate": {
      const [file = ""] = expectPositionals(positionals, 1, 1, "mandate schema validate FILE");
      const { text, shown } = readSchemaFile(file, io);
      try {
        const schema = compileSchema(text, shown);
        io.out(`${shown}: OK (${schema.definitions.size} definitions, ${schema.caveats.size} caveats)\n`);
        return ExitCode.ok;
      } catch (error) {
        if (!(error instanceof SchemaError)) throw error;
        for (const d of error.diagnostics) io.out(`${d.fileName}:${d.line}:${d.column}: ${d.message}\n`);
        return ExitCode.negative;
      }
    }
    case "write": {
      const [file = ""] = expectPositionals(positionals, 1, 1, "mandate schema write FILE");
      const { text } = readSchemaFile(file, io);
      const response = await withClient(parsed, io, (client) => client.writeSchema({ schema: text }, { deadline: callDeadline() }));
      io.out(`wrote schema at ${response.writtenAt?.token ?? "?"}\n`);
      return ExitCode.ok;
    }
    case "read": {
      expectPositionals(positionals, 0, 0, "mandate schema read");
      const response = await withClient(parsed, io, (client) => client.readSchema({ deadline: callDeadline() }));
      const text = response.schemaText ?? "";
      io.out(text.endsWith("\n") ? text : `${text}\n`);
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`unknown action "${action}"; expected validate, write or read`);
  }
}

function readSchemaFile(file: string, io: CommandIo): { text: string; shown: string } {
  const path = resolve(io.cwd, file);
  const near = relative(io.cwd, path);
  const shown = near === "" || near.startsWith("..") ? path : near;
  try {
    return { text: readFileSync(path, "utf8"), shown };
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
