import { objectRefToWire, toWireStruct, toWireTimestamp } from "../api/index.ts";
import type { WireGrantDelegationRequest, WireListDelegationsRequest, WireRevokeDelegationsRequest } from "../api/index.ts";
import { parseObjectRef, validateCaveatName, validateRelationName } from "../tuple/index.ts";
import { MAX_BUDGET } from "../schema/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, consistencyOf, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { formatDelegationGrant } from "./delegation-text.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseDurationFlag, parseIntegerSetting, stringOption } from "./parse-command-line.ts";
import type { ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError, asUsageError } from "./usage-error.ts";

/** DELEGATIONS_HELP is the help text of `mandate delegations`. */
const DELEGATIONS_HELP = `Usage: mandate delegations grant AGENT PRINCIPAL --scope SCOPE[,SCOPE...] [flags]
       mandate delegations list (--actor AGENT | --principal PRINCIPAL)
       mandate delegations revoke (AGENT PRINCIPAL | --actor AGENT | --principal PRINCIPAL)

Delegation edges let an agent act on behalf of a principal ("mandate check ... --on-behalf-of"),
within a scope and until an expiry, as a "delegation" of the agent's definition allows, e.g.
  mandate delegations grant agent:copilot user:ann --scope document#view,repository#* --expires-in 2h
  mandate delegations grant agent:helper user:ann --via agent:copilot --scope document#view
  mandate delegations list --principal user:ann
  mandate delegations revoke agent:copilot user:ann

grant   writes the edge AGENT acts for PRINCIPAL (replacing one of the same delegation) and
        prints it with the consistency token of the write.
list    prints the live edges AGENT holds, or those acting for PRINCIPAL, one per line:
        AGENT DELEGATION PRINCIPAL scope=... from=... until=... [via=...] [caveat=...]
        [budget=USED/LIMIT] id=...
revoke  deletes the edge(s) of AGENT for PRINCIPAL, every edge of --actor, or every edge acting
        for --principal, with the sub-delegations passed on from them; prints them and the token
        (a check with --token TOKEN no longer follows them).

Grant flags:
  --scope LIST           required: TYPE#PERMISSION, TYPE#* or *, comma-separated (repeatable)
  --expires-in DURATION  e.g. 2h, 30m, 1d12h (default: the delegation's max_lifetime)
  --expires-at TIME      an RFC 3339 time, e.g. 2030-01-01T00:00:00Z (not with --expires-in)
  --not-before TIME      the edge is usable from TIME (default: now)
  --via AGENT            sub-delegate: AGENT passes on part of its own edge for PRINCIPAL
  --caveat NAME[:JSON]   a task caveat with its context, e.g. 'on_ticket:{"ticket":"T-1"}'
  --budget N             at most N allowed checks through the edge
  --delegation NAME      the delegation to use when several allow PRINCIPAL's type
List and revoke flags:
  --actor AGENT          the edges AGENT holds
  --principal PRINCIPAL  the edges acting for PRINCIPAL
${CLIENT_HELP}`;

const DELEGATIONS_OPTIONS = {
  ...CLIENT_OPTIONS,
  scope: { type: "string", multiple: true },
  "expires-in": { type: "string" },
  "expires-at": { type: "string" },
  "not-before": { type: "string" },
  via: { type: "string" },
  caveat: { type: "string" },
  budget: { type: "string" },
  delegation: { type: "string" },
  actor: { type: "string" },
  principal: { type: "string" },
} as const;

/** runDelegationsCommand implements `mandate delegations`; see DELEGATIONS_HELP. */
export async function runDelegationsCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, DELEGATIONS_OPTIONS);
  const [action, ...rest] = parsed.positionals;
  if (booleanOption(parsed, "help") || action === undefined) {
    io.out(DELEGATIONS_HELP);
    return action === undefined && !booleanOption(parsed, "help") ? ExitCode.usage : ExitCode.ok;
  }
  const positionals = { ...parsed, positionals: rest };
  switch (action) {
    case "grant": {
      const request = parseGrantRequest(positionals, new Date());
      const response = await withClient(parsed, io, (client) => client.grantDelegation(request, { deadline: callDeadline() }));
      if (response.grant) io.out(formatDelegationGrant(response.grant));
      io.out(`written at ${response.writtenAt?.token ?? "?"}\n`);
      return ExitCode.ok;
    }
    case "list": {
      expectPositionals(positionals, 0, 0, "mandate delegations list (--actor AGENT | --principal PRINCIPAL)");
      const request: WireListDelegationsRequest = { consistency: consistencyOf(parsed), ...selectorOf(parsed, "list") };
      const response = await withClient(parsed, io, (client) => client.listDelegations(request, { deadline: callDeadline() }));
      for (const grant of response.grants ?? []) io.out(formatDelegationGrant(grant, true));
      return ExitCode.ok;
    }
    case "revoke": {
      const request = parseRevokeRequest(positionals);
      const response = await withClient(parsed, io, (client) => client.revokeDelegations(request, { deadline: callDeadline() }));
      const revoked = response.revoked ?? [];
      for (const grant of revoked) io.out(formatDelegationGrant(grant));
      io.out(`revoked ${revoked.length} delegation${revoked.length === 1 ? "" : "s"} at ${response.writtenAt?.token ?? "?"}\n`);
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`unknown action "${action}"; expected grant, list or revoke`);
  }
}

/**
 * parseGrantRequest reads `grant AGENT PRINCIPAL` and its flags (positionals without the action)
 * into a GrantDelegation request; `now` anchors --expires-in. Throws UsageError naming the flag
 * at fault. Whether the schema allows the edge is the server's to say.
 */
export function parseGrantRequest(parsed: ParsedCommandLine, now: Date): WireGrantDelegationRequest {
  const [agentText = "", principalText = ""] = expectPositionals(parsed, 2, 2, "mandate delegations grant AGENT PRINCIPAL --scope SCOPE");
  const actor = objectArgument(agentText, "AGENT");
  const principal = objectArgument(principalText, "PRINCIPAL");
  const scope = parseScopeFlag(parsed.values["scope"]);
  const expiresIn = stringOption(parsed, "expires-in");
  const expiresAtText = stringOption(parsed, "expires-at");
  if (expiresIn !== undefined && expiresAtText !== undefined) {
    throw new UsageError("--expires-in and --expires-at: give one or the other", { field: "--expires-in" });
  }
  const expiresAt = expiresIn !== undefined ? new Date(now.getTime() + parseDurationFlag(expiresIn, "--expires-in")) : timeFlag(expiresAtText, "--expires-at");
  const notBefore = timeFlag(stringOption(parsed, "not-before"), "--not-before");
  const viaText = stringOption(parsed, "via");
  const delegation = stringOption(parsed, "delegation");
  if (delegation !== undefined) asUsageError(() => validateRelationName(delegation, "--delegation"));
  const budgetText = stringOption(parsed, "budget");
  const caveat = parseCaveatFlag(stringOption(parsed, "caveat"));
  return {
    actor: objectRefToWire(actor),
    principal: objectRefToWire(principal),
    delegation: delegation ?? "",
    scope,
    notBefore: notBefore === undefined ? null : toWireTimestamp(notBefore),
    expiresAt: expiresAt === undefined ? null : toWireTimestamp(expiresAt),
    via: viaText === undefined ? null : objectRefToWire(objectArgument(viaText, "--via")),
    caveat: caveat === undefined ? null : { caveatName: caveat.name, context: toWireStruct(caveat.context) },
    budget: budgetText === undefined ? 0 : parseIntegerSetting(budgetText, "--budget", 1, MAX_BUDGET),
  };
}

/**
 * parseRevokeRequest reads `revoke AGENT PRINCIPAL` (one edge), or `revoke --actor AGENT` or
 * `revoke --principal PRINCIPAL` (positionals without the action); exactly one of these forms.
 */
export function parseRevokeRequest(parsed: ParsedCommandLine): WireRevokeDelegationsRequest {
  const usage = "mandate delegations revoke (AGENT PRINCIPAL | --actor AGENT | --principal PRINCIPAL)";
  const positionals = expectPositionals(parsed, 0, 2, usage);
  const flagged = stringOption(parsed, "actor") !== undefined || stringOption(parsed, "principal") !== undefined;
  if (positionals.length === 0) return selectorOf(parsed, "revoke");
  if (flagged) throw new UsageError(`give AGENT PRINCIPAL or one of --actor, --principal, not both (usage: ${usage})`);
  if (positionals.length === 1) throw new UsageError(`missing argument (usage: ${usage})`);
  const [agentText = "", principalText = ""] = positionals;
  const delegation = stringOption(parsed, "delegation");
  if (delegation !== undefined) asUsageError(() => validateRelationName(delegation, "--delegation"));
  return {
    selector: "edge",
    edge: {
      actor: objectRefToWire(objectArgument(agentText, "AGENT")),
      principal: objectRefToWire(objectArgument(principalText, "PRINCIPAL")),
      delegation: delegation ?? "",
    },
  };
}

// --actor or --principal, exactly one.
function selectorOf(parsed: ParsedCommandLine, action: string): Pick<WireListDelegationsRequest, "selector" | "actor" | "principal"> {
  const actor = stringOption(parsed, "actor");
  const principal = stringOption(parsed, "principal");
  if ((actor === undefined) === (principal === undefined)) {
    throw new UsageError(`${action}: give exactly one of --actor AGENT and --principal PRINCIPAL`, { field: "--actor" });
  }
  if (actor !== undefined) return { selector: "actor", actor: objectRefToWire(objectArgument(actor, "--actor")) };
  return { selector: "principal", principal: objectRefToWire(objectArgument(principal ?? "", "--principal")) };
}

/** parseScopeFlag reads every --scope as comma-separated entries, in order, without blanks; at least one. */
export function parseScopeFlag(values: ParsedCommandLine["values"][string]): string[] {
  const texts = Array.isArray(values) ? values.map(String) : typeof values === "string" ? [values] : [];
  const scope = texts.flatMap((text) => text.split(",")).map((entry) => entry.trim()).filter((entry) => entry !== "");
  if (scope.length === 0) throw new UsageError("--scope: is required, e.g. --scope document#view,repository#*", { field: "--scope" });
  for (const entry of scope) {
    if (entry !== "*" && !/^[a-z][a-z0-9_/]*#(?:\*|[a-z][a-z0-9_]*)$/.test(entry)) {
      throw new UsageError(`--scope: "${entry}" is not TYPE#PERMISSION, TYPE#* or *`, { field: "--scope" });
    }
  }
  return scope;
}

/**
 * parseCaveatFlag reads --caveat `NAME` or `NAME:{JSON object}` (the caveat's context); undefined
 * when the flag is absent.
 */
export function parseCaveatFlag(text: string | undefined): { name: string; context: Record<string, unknown> } | undefined {
  if (text === undefined) return undefined;
  const colon = text.indexOf(":");
  const name = colon < 0 ? text : text.slice(0, colon);
  asUsageError(() => validateCaveatName(name, "--caveat"));
  if (colon < 0) return { name, context: {} };
  let context: unknown;
  try {
    context = JSON.parse(text.slice(colon + 1));
  } catch (error) {
    throw new UsageError(`--caveat: the context after "${name}:" is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { field: "--caveat" });
  }
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new UsageError(`--caveat: the context after "${name}:" must be a JSON object`, { field: "--caveat" });
  }
  return { name, context: context as Record<string, unknown> };
}

function timeFlag(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  // RFC 3339 with a zone: Date.parse alone would also take "2030" or a local time.
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag}: "${text}" is not an RFC 3339 time such as 2030-01-01T00:00:00Z`, { field: flag });
  }
  return date;
}

// parseObjectRef refuses the wildcard id: an agent or principal is one object.
function objectArgument(text: string, name: string): ObjectRef {
  return asUsageError(() => parseObjectRef(text, name));
}
