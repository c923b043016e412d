import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { migrateDatastore } from "./open-datastore.ts";
import { booleanOption, expectPositionals, parseCommandLine } from "./parse-command-line.ts";
import { DATASTORE_OPTIONS, DEFAULT_DATA_DIR, resolveDatastoreConfig } from "./serve-config.ts";

/** MIGRATE_HELP is the help text of `mandate migrate`. */
const MIGRATE_HELP = `Usage: mandate migrate [--database-url URL | --data DIR] [--datastore postgres|pglite]

Applies the datastore's pending schema migrations and exits: to Postgres at --database-url /
DATABASE_URL when set, else to the PGlite folder --data / MANDATE_DATA (default ${DEFAULT_DATA_DIR}).
Safe to run repeatedly and while servers start; "mandate serve" also applies them at start.
Prints the migrations applied ("up to date" when there were none).
`;

/** runMigrateCommand implements `mandate migrate`; see MIGRATE_HELP. */
export async function runMigrateCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, DATASTORE_OPTIONS);
  if (booleanOption(parsed, "help")) {
    io.out(MIGRATE_HELP);
    return ExitCode.ok;
  }
  expectPositionals(parsed, 0, 0, "mandate migrate");
  const { description, applied } = await migrateDatastore(resolveDatastoreConfig(parsed, io.env), io.cwd);
  io.out(applied.length === 0 ? `${description}: up to date\n` : `${description}: applied ${applied.join(", ")}\n`);
  return ExitCode.ok;
}
