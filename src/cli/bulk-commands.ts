import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { relationshipFromWire, relationshipToWire } from "../api/index.ts";
import type { WireImportBulkRelationshipsRequest, WireRelationship } from "../api/index.ts";
import { formatRelationship, parseRelationship } from "../tuple/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, consistencyOf, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseIntegerSetting, stringOption } from "./parse-command-line.ts";
import { ProgressReporter } from "./progress-reporter.ts";
import { filterToWire, parseRelationshipFilterText } from "./relationship-filter-text.ts";
import { UsageError } from "./usage-error.ts";

/** IMPORT_HELP is the help text of `mandate import`. */
const IMPORT_HELP = `Usage: mandate import FILE|- [--batch N] [--quiet]

Creates every relationship of FILE ("-": stdin), one per line in SpiceDB's text form ("//"
comments and blank lines skipped), in ONE atomic import: if any line is malformed, not allowed by
the schema, repeated, or already exists, nothing is imported. The file is streamed to the server
in batches of --batch relationships (default 1000). Prints the count and consistency token.
Progress (count and rate) goes to stderr: redrawn in place on a terminal, a line every 5 s
otherwise, nothing with --quiet.

${CLIENT_HELP}`;

/** EXPORT_HELP is the help text of `mandate export`. */
const EXPORT_HELP = `Usage: mandate export [FILTER] [--subject SUBJECT] [--cursor CURSOR] [--batch N] [--quiet]

Prints every relationship (or those matching FILTER), one per line, in the form "mandate import"
reads, all at one revision. If the export is interrupted, the error message gives a --cursor that
resumes it after the last batch printed, at the same revision. Progress goes to stderr as for
import. FILTER is as for "mandate relationships read".

${CLIENT_HELP}`;

const DEFAULT_BATCH = 1000;

/** runImportCommand implements `mandate import`; see IMPORT_HELP. */
export async function runImportCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, { ...CLIENT_OPTIONS, batch: { type: "string" }, quiet: { type: "boolean", short: "q" } });
  if (booleanOption(parsed, "help")) {
    io.out(IMPORT_HELP);
    return ExitCode.ok;
  }
  const [file] = expectPositionals(parsed, 1, 1, "mandate import FILE|-");
  const source = file ?? "-";
  const batchText = stringOption(parsed, "batch");
  const batchSize = batchText === undefined ? DEFAULT_BATCH : parseIntegerSetting(batchText, "--batch", 1, 1000);
  const progress = new ProgressReporter(io, "import", { tty: io.stderrIsTty === true, quiet: booleanOption(parsed, "quiet") });
  const lines = source === "-" ? stdinLines(io) : fileLines(resolve(io.cwd, source), source);
  try {
    const response = await withClient(parsed, io, (client) =>
      client.importBulkRelationships(batchesOf(lines, source === "-" ? "stdin" : source, batchSize), { onSent: (sent) => progress.update(sent) }),
    );
    const count = Number(response.numLoaded ?? 0);
    progress.finish(count);
    io.out(`imported ${count} relationship${count === 1 ? "" : "s"} at ${response.writtenAt?.token ?? "?"}\n`);
    return ExitCode.ok;
  } catch (error) {
    progress.abandon();
    throw error;
  }
}

/** runExportCommand implements `mandate export`; see EXPORT_HELP. */
export async function runExportCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, {
    ...CLIENT_OPTIONS,
    cursor: { type: "string" },
    subject: { type: "string" },
    batch: { type: "string" },
    quiet: { type: "boolean", short: "q" },
  });
  if (booleanOption(parsed, "help")) {
    io.out(EXPORT_HELP);
    return ExitCode.ok;
  }
  const [filterText] = expectPositionals(parsed, 0, 1, "mandate export [FILTER]");
  const subject = stringOption(parsed, "subject");
  const filter = filterText === undefined && subject === undefined ? undefined : filterToWire(parseRelationshipFilterText(filterText, subject));
  const batchText = stringOption(parsed, "batch");
  const batchSize = batchText === undefined ? DEFAULT_BATCH : parseIntegerSetting(batchText, "--batch", 1, 1000);
  const cursor = stringOption(parsed, "cursor");
  const consistency = consistencyOf(parsed);
  const progress = new ProgressReporter(io, "export", { tty: io.stderrIsTty === true, quiet: booleanOption(parsed, "quiet") });
  let exported = 0;
  let lastCursor = cursor;
  try {
    await withClient(parsed, io, async (client) => {
      const stream = client.exportBulkRelationships({
        consistency,
        optionalLimit: batchSize,
        optionalCursor: cursor === undefined ? null : { token: cursor },
        optionalRelationshipFilter: filter ?? null,
      });
      for await (const message of stream) {
        const lines = (message.relationships ?? []).map((wire, i) => formatRelationship(relationshipFromWire(wire, `relationships[${i}]`)));
        if (lines.length > 0) io.out(`${lines.join("\n")}\n`);
        exported += lines.length;
        lastCursor = message.afterResultCursor?.token ?? lastCursor;
        progress.update(exported);
      }
    });
  } catch (error) {
    progress.abandon();
    if (lastCursor !== undefined && exported > 0) io.err(`mandate export: interrupted after ${exported} relationships; resume with --cursor ${lastCursor}\n`);
    throw error;
  }
  progress.finish(exported);
  return ExitCode.ok;
}

async function* fileLines(path: string, source: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<void>((resolveOpen, reject) => {
    stream.once("open", () => resolveOpen());
    stream.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new UsageError(`cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`, { field: "FILE" });
  }
  yield* createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
}

async function* stdinLines(io: CommandIo): AsyncGenerator<string> {
  const input = io.stdinStream ? Readable.from(io.stdinStream()) : Readable.from([await io.readStdin()]);
  yield* createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
}

// Parses lines into wire batches as the import pulls them; a bad line stops the import (the
// client then cancels the call, and the server commits nothing).
async function* batchesOf(lines: AsyncIterable<string>, source: string, size: number): AsyncGenerator<WireImportBulkRelationshipsRequest> {
  let batch: WireRelationship[] = [];
  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber++;
    const line = raw.trim();
    if (line === "" || line.startsWith("//")) continue;
    try {
      batch.push(relationshipToWire(parseRelationship(line)));
    } catch (error) {
      throw new UsageError(`${source}:${lineNumber}: ${error instanceof Error ? error.message : String(error)}; nothing was imported`);
    }
    if (batch.length >= size) {
      yield { relationships: batch };
      batch = [];
    }
  }
  if (batch.length > 0) yield { relationships: batch };
}
