import { objectRefToWire, subjectRefToWire, toWireStruct } from "../api/index.ts";
import type { WireCheckDebugTrace, WireDelegationExplanation, WirePermissionship } from "../api/index.ts";
import { assertNever, parseObjectRef, parseRelationship, parseSubjectRef, validateRelationName } from "../tuple/index.ts";
import type { ObjectRef, SubjectRef } from "../tuple/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, consistencyOf, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import { formatDelegationExplanation, resultText } from "./delegation-text.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine, stringOption } from "./parse-command-line.ts";
import { UsageError, asUsageError } from "./usage-error.ts";

/** CHECK_HELP is the help text of `mandate check`. */
const CHECK_HELP = `Usage: mandate check RESOURCE PERMISSION SUBJECT [flags]
       mandate check RESOURCE#PERMISSION@SUBJECT [flags]

Asks a running server whether SUBJECT has PERMISSION on RESOURCE, e.g.
  mandate check document:readme view user:alice
  mandate check document:readme#view@group:eng#member

Prints ALLOWED, DENIED or CONDITIONAL (with the caveat parameters that are missing).
Exit code: 0 ALLOWED, 1 DENIED, 3 CONDITIONAL, 2 usage error, 4 error (e.g. no server).

With --on-behalf-of PRINCIPAL, SUBJECT is an agent acting for PRINCIPAL through delegation edges
(see "mandate delegations"): the answer is PRINCIPAL's, narrowed to the edges' scopes, caveats and
budgets (an ALLOWED answer counts one use of each budget on the path), e.g.
  mandate check document:readme view agent:copilot --on-behalf-of user:ann
A DENIED answer prints the reason when it is not the principal's own ("... is outside the scope ...").

Flags:
  --context JSON         caveat context, a JSON object, e.g. '{"ip": "10.0.0.1"}'
  --on-behalf-of OBJECT  the principal SUBJECT acts for, e.g. user:ann
  --explain              also print how the answer was reached, as an indented tree; with
                         --on-behalf-of, the delegation path hop by hop (actor, principal,
                         scope, validity, caveat, budget, ceiling) and the reason
${CLIENT_HELP}`;

/** CheckTarget is what a check asks about. */
export interface CheckTarget {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

/**
 * parseCheckTarget reads the positional arguments of `mandate check`: three (`RESOURCE PERMISSION
 * SUBJECT`) or one (`RESOURCE#PERMISSION@SUBJECT`). Throws UsageError naming the part at fault.
 */
export function parseCheckTarget(positionals: readonly string[]): CheckTarget {
  try {
    if (positionals.length === 1) {
      const text = positionals[0] ?? "";
      if (text.includes("[")) throw new UsageError(`"${text}": a check takes no caveat or expiration; pass --context instead`);
      const parsed = parseRelationship(text, "check");
      return { resource: parsed.resource, permission: parsed.relation, subject: parsed.subject };
    }
    if (positionals.length === 3) {
      const [resource = "", permission = "", subject = ""] = positionals;
      validateRelationName(permission, "permission");
      return { resource: parseObjectRef(resource, "resource"), permission, subject: parseSubjectRef(subject, "subject") };
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  throw new UsageError(
    `expected RESOURCE PERMISSION SUBJECT or RESOURCE#PERMISSION@SUBJECT, got ${positionals.length} arguments`,
  );
}

/** parseContextFlag parses --context; it must be a JSON object. */
export function parseContextFlag(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--context: not valid JSON (${error instanceof Error ? error.message : String(error)})`, { field: "--context" });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError("--context: must be a JSON object", { field: "--context" });
  }
  return parsed as Record<string, unknown>;
}

/**
 * parseOnBehalfOfFlag parses --on-behalf-of: one object (`user:ann`; parseObjectRef refuses a
 * wildcard).
 * With it, `subject` (the actor) must be an object too. Throws UsageError naming the flag.
 */
export function parseOnBehalfOfFlag(text: string | undefined, subject: SubjectRef | undefined): ObjectRef | undefined {
  if (text === undefined) return undefined;
  const principal = asUsageError(() => parseObjectRef(text, "--on-behalf-of"), "--on-behalf-of");
  if (subject !== undefined && (subject.relation !== undefined || subject.id === "*")) {
    throw new UsageError(`with --on-behalf-of, SUBJECT is the agent acting for ${text}: an object such as agent:copilot, not a userset or wildcard`, {
      field: "--on-behalf-of",
    });
  }
  return principal;
}

/** runCheckCommand implements `mandate check`; see CHECK_HELP. */
export async function runCheckCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, { ...CLIENT_OPTIONS, context: { type: "string" }, explain: { type: "boolean" }, "on-behalf-of": { type: "string" } });
  if (booleanOption(parsed, "help")) {
    io.out(CHECK_HELP);
    return ExitCode.ok;
  }
  const target = parseCheckTarget(expectPositionals(parsed, 1, 3, "mandate check RESOURCE PERMISSION SUBJECT"));
  const onBehalfOf = parseOnBehalfOfFlag(stringOption(parsed, "on-behalf-of"), target.subject);
  const context = parseContextFlag(stringOption(parsed, "context"));
  const explain = booleanOption(parsed, "explain");
  const consistency = consistencyOf(parsed);
  const response = await withClient(parsed, io, (client) =>
    client.check(
      {
        consistency,
        resource: objectRefToWire(target.resource),
        permission: target.permission,
        subject: subjectRefToWire(target.subject),
        context: context === undefined ? null : toWireStruct(context),
        withTracing: explain,
        onBehalfOf: onBehalfOf === undefined ? null : objectRefToWire(onBehalfOf),
      },
      { deadline: callDeadline() },
    ),
  );
  const permissionship = response.permissionship ?? "PERMISSIONSHIP_UNSPECIFIED";
  const missing = response.partialCaveatInfo?.missingRequiredContext ?? [];
  io.out(`${resultText(permissionship, missing)}\n`);
  if (explain && response.debugTrace) io.out(formatCheckTrace(response.debugTrace));
  if (onBehalfOf !== undefined && response.delegation) {
    io.out(formatDelegationOutcome(response.delegation, onBehalfOf, `${target.resource.type}#${target.permission}`, explain, permissionship));
  }
  switch (permissionship) {
    case "PERMISSIONSHIP_HAS_PERMISSION":
      return ExitCode.ok;
    case "PERMISSIONSHIP_NO_PERMISSION":
      return ExitCode.negative;
    case "PERMISSIONSHIP_CONDITIONAL_PERMISSION":
      return ExitCode.conditional;
    case "PERMISSIONSHIP_UNSPECIFIED":
      return ExitCode.error;
    default:
      return assertNever(permissionship, "permissionship");
  }
}

/**
 * formatDelegationOutcome is what a check with --on-behalf-of prints after the answer: the whole
 * path with --explain (see formatDelegationExplanation), else only a DENIED answer's reason (the
 * server's, or that the principal itself lacks `checked`).
 */
export function formatDelegationOutcome(
  delegation: WireDelegationExplanation,
  principal: ObjectRef,
  checked: string,
  explain: boolean,
  permissionship: WirePermissionship,
): string {
  if (explain) return formatDelegationExplanation(delegation, objectRefToWire(principal), checked);
  if (permissionship !== "PERMISSIONSHIP_NO_PERMISSION") return "";
  if (delegation.reason) return `reason: ${delegation.reason}\n`;
  if (delegation.principalResult === "PERMISSIONSHIP_NO_PERMISSION") return `reason: ${principal.type}:${principal.id} itself does not have ${checked}\n`;
  return "";
}

/**
 * formatCheckTrace renders a check's trace as an indented tree, one line per node:
 * `RESULT resource#permission (operation)`, or `(operation: label)` where the node has a label
 * such as `parent->view`, children indented two spaces under their parent, and
 * `[cycle]` on a node cut short because it was already being evaluated.
 */
export function formatCheckTrace(trace: WireCheckDebugTrace, depth = 0): string {
  const result = resultText(trace.result);
  const resource = `${trace.resource?.objectType ?? "?"}:${trace.resource?.objectId ?? "?"}`;
  const operation = (trace.operation ?? "OPERATION_UNSPECIFIED").replace(/^OPERATION_/, "").toLowerCase();
  const how = trace.label ? `${operation}: ${trace.label}` : operation;
  const line = `${"  ".repeat(depth)}${result.padEnd(11)} ${resource}#${trace.permission ?? "?"} (${how})${trace.cycle ? " [cycle]" : ""}\n`;
  return line + (trace.children ?? []).map((child) => formatCheckTrace(child, depth + 1)).join("");
}
