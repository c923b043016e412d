import { objectRefToWire, subjectRefToWire, toWireStruct } from "../api/index.ts";
import type { WireConsistency, WireLookupPermissionship, WirePartialCaveatInfo, WireResolvedSubject, WireStruct } from "../api/index.ts";
import { WILDCARD_ID, parseObjectRef, parseSubjectRef, validateRelationName, validateTypeName } from "../tuple/index.ts";
import type { ObjectRef, SubjectRef } from "../tuple/index.ts";
import { parseContextFlag, parseOnBehalfOfFlag } from "./check-command.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, consistencyOf, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseIntegerSetting, stringOption } from "./parse-command-line.ts";
import type { ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError, asUsageError } from "./usage-error.ts";

const PAGING_HELP = `Results come in a stable order that is not alphabetical. With --limit N at most N are printed;
when N were, more may follow and the last line on stderr is "next page: --cursor TOKEN": run the
same command with that flag for the next N (possibly none), read at the same revision as the first page.
Exit code: 0 the lookup was answered (even with no results), 2 usage error, 4 error.

Flags:
  --limit N              print at most N results (a positive whole number; default: all)
  --cursor TOKEN         continue after the page that printed TOKEN (same arguments and --context;
                         --consistency defaults to the cursor's revision instead of full)
  --context JSON         caveat context, a JSON object, e.g. '{"ip": "10.0.0.1"}'
`;

/** LOOKUP_RESOURCES_HELP is the help text of `mandate lookup-resources`. */
const LOOKUP_RESOURCES_HELP = `Usage: mandate lookup-resources RESOURCE_TYPE PERMISSION SUBJECT [flags]

Prints the id of every resource of RESOURCE_TYPE on which SUBJECT has PERMISSION, one per line:
exactly those where "mandate check" would not say DENIED, e.g.
  mandate lookup-resources document view user:alice
  mandate lookup-resources folder view group:eng#member
A resource allowed only with caveat context the request lacks is printed as
  ID (conditional: missing PARAM, ...)
With --on-behalf-of PRINCIPAL, SUBJECT is an agent acting for PRINCIPAL: exactly the resources
where "mandate check ... --on-behalf-of PRINCIPAL" would not say DENIED, e.g.
  mandate lookup-resources document view agent:copilot --on-behalf-of user:ann
${PAGING_HELP}  --on-behalf-of OBJECT  the principal SUBJECT acts for, e.g. user:ann
${CLIENT_HELP}`;

/** LOOKUP_SUBJECTS_HELP is the help text of `mandate lookup-subjects`. */
const LOOKUP_SUBJECTS_HELP = `Usage: mandate lookup-subjects RESOURCE PERMISSION SUBJECT_TYPE[#RELATION] [flags]

Prints the id of every subject of SUBJECT_TYPE (with #RELATION: every userset SUBJECT_TYPE:ID#RELATION)
that has PERMISSION on RESOURCE, one per line, e.g.
  mandate lookup-subjects document:readme view user
  mandate lookup-subjects folder:root view group#member
When every subject has it (a wildcard such as user:*), the first line is "*", followed by the
subjects it leaves out: "* (except: bob, carl)"; subjects listed after it are those whose answer
differs from the wildcard's. A subject allowed only with caveat context the request lacks is
printed as "ID (conditional: missing PARAM, ...)".
${PAGING_HELP}${CLIENT_HELP}`;

const LOOKUP_OPTIONS = { ...CLIENT_OPTIONS, limit: { type: "string" }, cursor: { type: "string" }, context: { type: "string" } } as const;
const LOOKUP_RESOURCES_OPTIONS = { ...LOOKUP_OPTIONS, "on-behalf-of": { type: "string" } } as const;

/** LookupResourcesTarget is what `mandate lookup-resources` asks about. */
export interface LookupResourcesTarget {
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectRef;
}

/** LookupSubjectsTarget is what `mandate lookup-subjects` asks about. */
export interface LookupSubjectsTarget {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectRelation: string | undefined;
}

/**
 * parseLookupResourcesTarget reads `RESOURCE_TYPE PERMISSION SUBJECT`; throws UsageError naming
 * the part at fault (a wildcard subject too: a lookup is for one subject).
 */
export function parseLookupResourcesTarget(positionals: readonly string[]): LookupResourcesTarget {
  const [resourceType = "", permission = "", subjectText = ""] = positionals;
  return asUsageError(() => {
    validateTypeName(resourceType, "RESOURCE_TYPE");
    validateRelationName(permission, "PERMISSION");
    const subject = parseSubjectRef(subjectText, "SUBJECT");
    if (subject.id === WILDCARD_ID) throw new UsageError(`SUBJECT: "${subjectText}" is a wildcard; look up resources for one subject`);
    return { resourceType, permission, subject };
  });
}

/** parseLookupSubjectsTarget reads `RESOURCE PERMISSION SUBJECT_TYPE[#RELATION]`; throws UsageError naming the part at fault. */
export function parseLookupSubjectsTarget(positionals: readonly string[]): LookupSubjectsTarget {
  const [resourceText = "", permission = "", subjectText = ""] = positionals;
  return asUsageError(() => {
    const resource = parseObjectRef(resourceText, "RESOURCE");
    validateRelationName(permission, "PERMISSION");
    const [subjectType = "", subjectRelation, extra] = subjectText.split("#");
    if (extra !== undefined) throw new UsageError(`SUBJECT_TYPE: "${subjectText}" is not of the form TYPE or TYPE#RELATION`);
    validateTypeName(subjectType, "SUBJECT_TYPE");
    if (subjectRelation !== undefined) validateRelationName(subjectRelation, "SUBJECT_TYPE relation");
    return { resource, permission, subjectType, subjectRelation };
  });
}

/**
 * parseLimitFlag parses --limit: a positive whole number. 0 is refused rather than read as "no
 * limit" (as the API's optional_limit 0 is): leave the flag out for every result.
 */
export function parseLimitFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\s*0+\s*$/.test(text)) throw new UsageError("--limit: must be at least 1 (leave --limit out to print every result)", { field: "--limit" });
  return parseIntegerSetting(text, "--limit", 1, Number.MAX_SAFE_INTEGER);
}

/**
 * formatLookupLine renders one result: the id, then "(conditional: missing a, b)" when caveat
 * context is missing, then "(except: x, y)" for the subjects a wildcard leaves out.
 */
export function formatLookupLine(
  id: string,
  permissionship: WireLookupPermissionship | null | undefined,
  partialCaveatInfo: WirePartialCaveatInfo | null | undefined,
  excluded: readonly WireResolvedSubject[] = [],
): string {
  let line = id;
  if (permissionship === "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION") {
    line += ` (conditional: missing ${(partialCaveatInfo?.missingRequiredContext ?? []).join(", ")})`;
  }
  if (excluded.length > 0) line += ` (except: ${excluded.map((subject) => subject.subjectObjectId ?? "?").join(", ")})`;
  return `${line}\n`;
}

/** runLookupResourcesCommand implements `mandate lookup-resources`; see LOOKUP_RESOURCES_HELP. */
export async function runLookupResourcesCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, LOOKUP_RESOURCES_OPTIONS);
  if (booleanOption(parsed, "help")) {
    io.out(LOOKUP_RESOURCES_HELP);
    return ExitCode.ok;
  }
  const target = parseLookupResourcesTarget(expectPositionals(parsed, 3, 3, "mandate lookup-resources RESOURCE_TYPE PERMISSION SUBJECT"));
  const onBehalfOf = parseOnBehalfOfFlag(stringOption(parsed, "on-behalf-of"), target.subject);
  const { limit, cursor, context, consistency } = pagingOf(parsed);
  await withClient(parsed, io, (client) =>
    printPage(
      client.lookupResources(
        {
          consistency,
          resourceObjectType: target.resourceType,
          permission: target.permission,
          subject: subjectRefToWire(target.subject),
          context,
          optionalLimit: limit ?? 0,
          optionalCursor: cursor === undefined ? null : { token: cursor },
          onBehalfOf: onBehalfOf === undefined ? null : objectRefToWire(onBehalfOf),
        },
        { deadline: callDeadline() },
      ),
      limit,
      io,
      (response) => (response.results ?? []).map((result) => formatLookupLine(result.resourceObjectId ?? "?", result.permissionship, result.partialCaveatInfo)),
    ),
  );
  return ExitCode.ok;
}

/** runLookupSubjectsCommand implements `mandate lookup-subjects`; see LOOKUP_SUBJECTS_HELP. */
export async function runLookupSubjectsCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, LOOKUP_OPTIONS);
  if (booleanOption(parsed, "help")) {
    io.out(LOOKUP_SUBJECTS_HELP);
    return ExitCode.ok;
  }
  const target = parseLookupSubjectsTarget(expectPositionals(parsed, 3, 3, "mandate lookup-subjects RESOURCE PERMISSION SUBJECT_TYPE[#RELATION]"));
  const { limit, cursor, context, consistency } = pagingOf(parsed);
  await withClient(parsed, io, (client) =>
    printPage(
      client.lookupSubjects(
        {
          consistency,
          resource: objectRefToWire(target.resource),
          permission: target.permission,
          subjectObjectType: target.subjectType,
          optionalSubjectRelation: target.subjectRelation ?? "",
          context,
          optionalLimit: limit ?? 0,
          optionalCursor: cursor === undefined ? null : { token: cursor },
        },
        { deadline: callDeadline() },
      ),
      limit,
      io,
      (response) =>
        (response.results ?? []).map((result) =>
          formatLookupLine(result.subject?.subjectObjectId ?? "?", result.subject?.permissionship, result.subject?.partialCaveatInfo, result.excludedSubjects ?? []),
        ),
    ),
  );
  return ExitCode.ok;
}

// The flags both lookups share. A cursor pins its revision, which `full` (the CLI's default)
// cannot promise is the newest: with --cursor and no consistency flag, none is sent and the page
// is read at the cursor's revision.
function pagingOf(parsed: ParsedCommandLine): {
  limit: number | undefined;
  cursor: string | undefined;
  context: WireStruct | null;
  consistency: WireConsistency | null;
} {
  const limit = parseLimitFlag(stringOption(parsed, "limit"));
  const cursor = stringOption(parsed, "cursor");
  if (cursor === "") throw new UsageError("--cursor: is empty; pass the TOKEN printed after \"next page:\"", { field: "--cursor" });
  const contextObject = parseContextFlag(stringOption(parsed, "context"));
  const explicitConsistency = stringOption(parsed, "consistency") !== undefined || stringOption(parsed, "token") !== undefined;
  const consistency = cursor !== undefined && !explicitConsistency ? null : consistencyOf(parsed);
  return { limit, cursor, context: contextObject === undefined ? null : toWireStruct(contextObject), consistency };
}

// printPage prints the results of every message (the server caps them at `limit`). When it printed
// `limit` of them, more may follow: it prints the cursor of the last message, after the last result.
async function printPage<Response extends { afterResultCursor?: { token?: string | null } | null }>(
  stream: AsyncIterable<Response>,
  limit: number | undefined,
  io: CommandIo,
  format: (response: Response) => readonly string[],
): Promise<void> {
  let printed = 0;
  let lastCursor: string | undefined;
  for await (const response of stream) {
    const lines = format(response);
    for (const line of lines) io.out(line);
    printed += lines.length;
    lastCursor = response.afterResultCursor?.token ?? undefined;
  }
  if (limit !== undefined && printed >= limit && lastCursor !== undefined) io.err(`next page: --cursor ${lastCursor}\n`);
}
