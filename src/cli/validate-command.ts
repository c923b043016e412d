import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseIntegerSetting, stringOption } from "./parse-command-line.ts";
import { runValidation } from "./run-validation.ts";
import { parseValidationFile, ValidationFileError } from "./validation-file.ts";

/** VALIDATE_HELP is the help text of `mandate validate`. */
const VALIDATE_HELP = `Usage: mandate validate FILE.yaml [FILE.yaml...] [--max-depth N] [--quiet]

Runs validation files (SpiceDB's format, as read by \`zed validate\`) locally, with no server:
compiles the schema, loads the relationships, and checks every assertion (assertTrue,
assertFalse, assertCaveated) and every validation: key (the exact set of subjects).
Mandate adds delegation: a delegations: list of grants (applied in order, as the server would),
assertions "RESOURCE#PERMISSION@ACTOR on behalf of PRINCIPAL", and at: (the run's clock).

Prints each failure as FILE:LINE:COLUMN: what was expected and what was found, then one
summary line per file. Exit code: 0 all pass, 1 any failure or invalid file, 2 usage error.
`;

/** runValidateCommand implements `mandate validate`; see VALIDATE_HELP. */
export async function runValidateCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, { "max-depth": { type: "string" }, quiet: { type: "boolean", short: "q" } });
  if (booleanOption(parsed, "help")) {
    io.out(VALIDATE_HELP);
    return ExitCode.ok;
  }
  const files = expectPositionals(parsed, 1, Number.MAX_SAFE_INTEGER, "mandate validate FILE.yaml...");
  const maxDepthText = stringOption(parsed, "max-depth");
  const maxDepth = maxDepthText === undefined ? 50 : parseIntegerSetting(maxDepthText, "--max-depth", 1, 10_000);
  const quiet = booleanOption(parsed, "quiet");

  let failed = false;
  for (const name of files) {
    const path = resolve(io.cwd, name);
    // Positions are printed relative to where the command runs, so editors and terminals link them.
    const shown = (file: string) => {
      const near = relative(io.cwd, file);
      return near === "" || near.startsWith("..") ? file : near;
    };
    try {
      const file = parseValidationFile(readFileSync(path, "utf8"), path, (p) => readFileSync(p, "utf8"));
      const report = await runValidation(file, { maxDepth });
      for (const failure of report.failures) {
        io.out(`${shown(failure.position.fileName)}:${failure.position.line}:${failure.position.column}: ${failure.message}\n`);
      }
      const counts = `${report.assertionCount} assertions, ${report.validationCount} validation keys`;
      if (report.failures.length > 0) {
        failed = true;
        io.out(`FAIL ${shown(path)}: ${report.failures.length} failed (${counts})\n`);
      } else if (!quiet) {
        io.out(`PASS ${shown(path)}: ${counts}\n`);
      }
    } catch (error) {
      failed = true;
      if (error instanceof ValidationFileError) {
        for (const d of error.diagnostics) io.out(`${shown(d.fileName)}:${d.line}:${d.column}: ${d.message}\n`);
        io.out(`FAIL ${shown(path)}: invalid validation file (${plural(error.diagnostics.length, "problem")})\n`);
      } else if (isNodeError(error) && error.code === "ENOENT" && error.path === path) {
        io.out(`FAIL ${shown(path)}: no such file\n`);
      } else {
        throw error;
      }
    }
  }
  return failed ? ExitCode.negative : ExitCode.ok;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}
