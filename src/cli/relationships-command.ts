import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { relationshipFromWire, relationshipToWire } from "../api/index.ts";
import type { MandateClient, WireUpdateOperation } from "../api/index.ts";
import { formatRelationship, parseRelationship } from "../tuple/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, consistencyOf, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseIntegerSetting, stringOption } from "./parse-command-line.ts";
import { filterToWire, parseRelationshipFilterText } from "./relationship-filter-text.ts";
import { parseRelationshipLines } from "./relationship-lines.ts";
import { UsageError } from "./usage-error.ts";

/** RELATIONSHIPS_HELP is the help text of `mandate relationships`. */
const RELATIONSHIPS_HELP = `Usage: mandate relationships write [REL...] [--file FILE|-] [--operation touch|create|delete]
       mandate relationships read [FILTER] [--subject SUBJECT] [--limit N]
       mandate relationships delete FILTER [--subject SUBJECT]

Relationships use SpiceDB's text form: document:readme#viewer@user:alice,
document:readme#viewer@group:eng#member, document:readme#viewer@user:*,
document:readme#viewer@user:bob[only_weekdays:{"tz":"UTC"}][expiration:2030-01-01T00:00:00Z].

write   writes the relationships given as arguments and/or read from --file (one per line,
        "//" comments allowed; "-" reads stdin), in batches of up to 1000 per request (each
        batch is atomic). --operation: touch (default; create or replace), create (fail if it
        exists), delete. Prints the consistency token of the last write.
read    prints the matching relationships, one per line (pipe them back into write --file -).
delete  deletes every relationship matching FILTER; prints how many and the token. If more
        match than the server deletes in one request (10,000 by default), nothing is deleted.

FILTER is TYPE[:ID|:PREFIX*][#RELATION][@SUBJECT], SUBJECT is TYPE[:ID][#RELATION|#...]:
  document   document:readme#viewer   document:read*   document@user:alice   --subject user:alice
${CLIENT_HELP}`;

const WRITE_BATCH = 1000;

/** runRelationshipsCommand implements `mandate relationships`; see RELATIONSHIPS_HELP. */
export async function runRelationshipsCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, {
    ...CLIENT_OPTIONS,
    file: { type: "string", short: "f" },
    operation: { type: "string" },
    subject: { type: "string" },
    limit: { type: "string" },
  });
  const [action, ...rest] = parsed.positionals;
  if (booleanOption(parsed, "help") || action === undefined) {
    io.out(RELATIONSHIPS_HELP);
    return action === undefined && !booleanOption(parsed, "help") ? ExitCode.usage : ExitCode.ok;
  }
  const positionals = { ...parsed, positionals: rest };
  switch (action) {
    case "write": {
      const relationships = [...rest.map((text) => parseArgument(text)), ...(await readFileOption(stringOption(parsed, "file"), io))];
      if (relationships.length === 0) throw new UsageError("nothing to write: give relationships as arguments or with --file");
      const operation = operationOf(stringOption(parsed, "operation"));
      const token = await withClient(parsed, io, (client) => writeInBatches(client, relationships, operation));
      io.out(`wrote ${relationships.length} relationship${relationships.length === 1 ? "" : "s"} at ${token}\n`);
      return ExitCode.ok;
    }
    case "read": {
      const [filterText] = expectPositionals(positionals, 0, 1, "mandate relationships read [FILTER]");
      const filter = parseRelationshipFilterText(filterText, stringOption(parsed, "subject"));
      const limitText = stringOption(parsed, "limit");
      const limit = limitText === undefined ? 0 : parseIntegerSetting(limitText, "--limit", 1, 1_000_000);
      const consistency = consistencyOf(parsed);
      await withClient(parsed, io, async (client) => {
        const stream = client.readRelationships(
          { consistency, relationshipFilter: filterToWire(filter), optionalLimit: limit },
          { deadline: callDeadline() },
        );
        for await (const message of stream) {
          io.out(`${formatRelationship(relationshipFromWire(message.relationship, "relationship"))}\n`);
        }
      });
      return ExitCode.ok;
    }
    case "delete": {
      const [filterText] = expectPositionals(positionals, 0, 1, "mandate relationships delete FILTER");
      const filter = parseRelationshipFilterText(filterText, stringOption(parsed, "subject"));
      const response = await withClient(parsed, io, (client) =>
        client.deleteRelationships({ relationshipFilter: filterToWire(filter) }, { deadline: callDeadline() }),
      );
      const count = Number(response.relationshipsDeletedCount ?? 0);
      io.out(`deleted ${count} relationship${count === 1 ? "" : "s"} at ${response.deletedAt?.token ?? "?"}\n`);
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`unknown action "${action}"; expected write, read or delete`);
  }
}

function parseArgument(text: string): Relationship {
  try {
    return parseRelationship(text);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

async function readFileOption(file: string | undefined, io: CommandIo): Promise<Relationship[]> {
  if (file === undefined) return [];
  if (file === "-") return parseRelationshipLines(await io.readStdin(), "stdin");
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--file: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, { field: "--file" });
  }
  return parseRelationshipLines(text, file);
}

function operationOf(text: string | undefined): WireUpdateOperation {
  switch (text ?? "touch") {
    case "touch":
      return "OPERATION_TOUCH";
    case "create":
      return "OPERATION_CREATE";
    case "delete":
      return "OPERATION_DELETE";
    default:
      throw new UsageError(`--operation: "${text}" is not one of touch, create, delete`, { field: "--operation" });
  }
}

/**
 * writeInBatches writes `relationships` in requests of at most 1000 updates (the server's
 * default limit) and returns the token of the last one. Each request is atomic, the whole is not.
 */
export async function writeInBatches(client: MandateClient, relationships: readonly Relationship[], operation: WireUpdateOperation): Promise<string> {
  let token = "";
  for (let start = 0; start < relationships.length; start += WRITE_BATCH) {
    const batch = relationships.slice(start, start + WRITE_BATCH);
    const response = await client.writeRelationships(
      { updates: batch.map((relationship) => ({ operation, relationship: relationshipToWire(relationship) })) },
      { deadline: callDeadline() },
    );
    token = response.writtenAt?.token ?? token;
  }
  return token;
}
