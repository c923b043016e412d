import { WIRE_BY_ROLE, formatApiKeyToken, fromWireTimestamp, newKeyId, newSecret, toWireTimestamp } from "../api/index.ts";
import type { WireApiKey, WireCreateKeyRequest, WireKeyRole, WireRotateKeyRequest, WireTimestamp } from "../api/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine, parseDurationFlag, stringOption } from "./parse-command-line.ts";
import type { ParsedCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

/** KEYS_HELP is the help text of `mandate keys`. */
const KEYS_HELP = `Usage: mandate keys create --owner OWNER --role read|write|admin [--expires-in DURATION]
       mandate keys list
       mandate keys rotate ID --grace DURATION
       mandate keys revoke ID
       mandate keys generate

API keys authenticate callers of "mandate serve --auth keys" (the default). A key is a token
mk_<id>_<secret>; the server keeps only a hash of the secret, so a token is shown once, when
create or rotate prints it (on stdout, alone, for scripts; the key's details go to stderr).
Roles: read (checks, lookups, reads, watch), write (also relationship writes and delegations),
admin (also the schema and API keys). Every action but generate needs an admin key.

create    makes a key, e.g. mandate keys create --owner ci-deploy --role write --expires-in 90d
list      prints every key, one per line: ID owner=... role=... created=... [expires=...]
          [revoked=...] [grace-until=...] and its state (active, expired, revoked)
rotate    gives key ID a new secret and prints its token; the old secret keeps working for
          --grace (e.g. 1h; 0 stops it at once), then stops by itself
revoke    makes key ID stop working at once (calls in flight with it, e.g. a Watch, end)
generate  prints a fresh random token without a server: use it as MANDATE_BOOTSTRAP_KEY, the
          admin key "mandate serve" registers at start, e.g.
            export MANDATE_BOOTSTRAP_KEY=$(mandate keys generate)

Flags:
  --owner OWNER          who or what the key is for (create)
  --role ROLE            read, write or admin (create)
  --expires-in DURATION  e.g. 30d, 12h (create; default: never)
  --grace DURATION       how long the old secret keeps working (rotate; required)
${CLIENT_HELP}`;

const KEYS_OPTIONS = {
  ...CLIENT_OPTIONS,
  owner: { type: "string" },
  role: { type: "string" },
  "expires-in": { type: "string" },
  grace: { type: "string" },
} as const;

const WIRE_ROLES: Readonly<Record<string, WireKeyRole>> = WIRE_BY_ROLE;

/** runKeysCommand implements `mandate keys`; see KEYS_HELP. */
export async function runKeysCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, KEYS_OPTIONS);
  const [action, ...rest] = parsed.positionals;
  if (booleanOption(parsed, "help") || action === undefined) {
    io.out(KEYS_HELP);
    return action === undefined && !booleanOption(parsed, "help") ? ExitCode.usage : ExitCode.ok;
  }
  const positionals = { ...parsed, positionals: rest };
  switch (action) {
    case "generate": {
      expectPositionals(positionals, 0, 0, "mandate keys generate");
      io.out(`${formatApiKeyToken({ id: newKeyId(), secret: newSecret() })}\n`);
      return ExitCode.ok;
    }
    case "create": {
      expectPositionals(positionals, 0, 0, "mandate keys create --owner OWNER --role ROLE");
      const request = parseCreateRequest(parsed, new Date());
      const response = await withClient(parsed, io, (client) => client.createKey(request, { deadline: callDeadline() }));
      io.err(`created ${formatApiKey(response.key ?? {}, new Date())}`);
      io.out(`${response.token ?? ""}\n`);
      return ExitCode.ok;
    }
    case "list": {
      expectPositionals(positionals, 0, 0, "mandate keys list");
      const response = await withClient(parsed, io, (client) => client.listKeys({ deadline: callDeadline() }));
      const now = new Date();
      for (const key of response.keys ?? []) io.out(formatApiKey(key, now));
      return ExitCode.ok;
    }
    case "rotate": {
      const request = parseRotateRequest(positionals);
      const response = await withClient(parsed, io, (client) => client.rotateKey(request, { deadline: callDeadline() }));
      io.err(`rotated ${formatApiKey(response.key ?? {}, new Date())}`);
      io.out(`${response.token ?? ""}\n`);
      return ExitCode.ok;
    }
    case "revoke": {
      const [id = ""] = expectPositionals(positionals, 1, 1, "mandate keys revoke ID");
      const response = await withClient(parsed, io, (client) => client.revokeKey({ id }, { deadline: callDeadline() }));
      io.out(`revoked ${formatApiKey(response.key ?? {}, new Date())}`);
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`unknown action "${action}"; expected create, list, rotate, revoke or generate`);
  }
}

/** parseCreateRequest reads `create`'s --owner, --role and --expires-in (from `now`); throws UsageError naming the flag at fault. */
export function parseCreateRequest(parsed: ParsedCommandLine, now: Date): WireCreateKeyRequest {
  const owner = stringOption(parsed, "owner");
  if (owner === undefined || owner.trim() === "") throw new UsageError("--owner: is required (who or what the key is for, e.g. ci-deploy)", { field: "--owner" });
  const roleText = stringOption(parsed, "role");
  const role = WIRE_ROLES[roleText ?? ""];
  if (role === undefined) throw new UsageError(`--role: ${roleText === undefined ? "is required" : `"${roleText}" is not`} one of read, write, admin`, { field: "--role" });
  const expiresIn = stringOption(parsed, "expires-in");
  return {
    owner,
    role,
    expiresAt: expiresIn === undefined ? null : toWireTimestamp(new Date(now.getTime() + parseDurationFlag(expiresIn, "--expires-in"))),
  };
}

/** parseRotateRequest reads `rotate ID --grace DURATION` (positionals without the action); `--grace 0` stops the old secret at once. */
export function parseRotateRequest(parsed: ParsedCommandLine): WireRotateKeyRequest {
  const [id = ""] = expectPositionals(parsed, 1, 1, "mandate keys rotate ID --grace DURATION");
  const grace = stringOption(parsed, "grace");
  if (grace === undefined) throw new UsageError("--grace: is required: how long the old secret keeps working, e.g. 1h (0 stops it at once)", { field: "--grace" });
  const graceMs = grace.trim() === "0" ? 0 : parseDurationFlag(grace, "--grace");
  return { id, grace: { seconds: Math.floor(graceMs / 1000), nanos: (graceMs % 1000) * 1_000_000 } };
}

/** formatApiKey writes one key as a line: `ID owner=... role=... created=... [expires=...] [revoked=...] [grace-until=...] STATE`. */
export function formatApiKey(key: WireApiKey, now: Date): string {
  const time = (timestamp: WireTimestamp | null | undefined) => (timestamp ? fromWireTimestamp(timestamp, "timestamp") : undefined);
  const [created, expires, revoked, graceUntil] = [time(key.createdAt), time(key.expiresAt), time(key.revokedAt), time(key.graceUntil)];
  const state = revoked !== undefined ? "revoked" : expires !== undefined && expires <= now ? "expired" : "active";
  const role = Object.entries(WIRE_ROLES).find(([, wire]) => wire === key.role)?.[0] ?? "?";
  const fields = [
    key.id ?? "?",
    `owner=${key.owner ?? ""}`,
    `role=${role}`,
    ...(created ? [`created=${created.toISOString()}`] : []),
    ...(expires ? [`expires=${expires.toISOString()}`] : []),
    ...(revoked ? [`revoked=${revoked.toISOString()}`] : []),
    ...(graceUntil ? [`grace-until=${graceUntil.toISOString()}`] : []),
    state,
  ];
  return `${fields.join(" ")}\n`;
}
