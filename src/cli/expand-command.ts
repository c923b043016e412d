import { objectRefToWire } from "../api/index.ts";
import type { WirePermissionRelationshipTree, WireSubjectReference } from "../api/index.ts";
import { parseObjectRef, parseSubjectRef, validateRelationName } from "../tuple/index.ts";
import type { ObjectRef } from "../tuple/index.ts";
import { CLIENT_HELP, CLIENT_OPTIONS, callDeadline, consistencyOf, withClient } from "./client-connection.ts";
import { ExitCode } from "./command-io.ts";
import type { CommandIo, ExitCodeValue } from "./command-io.ts";
import { booleanOption, expectPositionals, parseCommandLine } from "./parse-command-line.ts";
import { UsageError } from "./usage-error.ts";

/** EXPAND_HELP is the help text of `mandate expand`. */
const EXPAND_HELP = `Usage: mandate expand RESOURCE PERMISSION [flags]
       mandate expand RESOURCE#PERMISSION [flags]

Prints one level of PERMISSION's tree on RESOURCE, as SpiceDB's ExpandPermissionTree: operators
(union, intersection, exclusion) with their children, and leaves listing direct subjects.
Usersets such as group:eng#member are listed, not expanded: expand them in turn.
${CLIENT_HELP}`;

/** runExpandCommand implements `mandate expand`; see EXPAND_HELP. */
export async function runExpandCommand(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const parsed = parseCommandLine(args, CLIENT_OPTIONS);
  if (booleanOption(parsed, "help")) {
    io.out(EXPAND_HELP);
    return ExitCode.ok;
  }
  const { resource, permission } = parseExpandTarget(expectPositionals(parsed, 1, 2, "mandate expand RESOURCE PERMISSION"));
  const consistency = consistencyOf(parsed);
  const response = await withClient(parsed, io, (client) =>
    client.expand({ consistency, resource: objectRefToWire(resource), permission }, { deadline: callDeadline() }),
  );
  if (response.treeRoot) io.out(formatExpandTree(response.treeRoot));
  return ExitCode.ok;
}

function parseExpandTarget(positionals: readonly string[]): { resource: ObjectRef; permission: string } {
  try {
    if (positionals.length === 2) {
      const permission = positionals[1] ?? "";
      validateRelationName(permission, "permission");
      return { resource: parseObjectRef(positionals[0] ?? "", "resource"), permission };
    }
    const parsed = parseSubjectRef(positionals[0] ?? "", "resource#permission");
    if (parsed.relation === undefined) throw new UsageError(`"${positionals[0]}": expected RESOURCE#PERMISSION or RESOURCE PERMISSION`);
    return { resource: { type: parsed.type, id: parsed.id }, permission: parsed.relation };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/**
 * formatExpandTree renders an expand tree as an indented outline: `resource#relation operator`
 * for inner nodes, `resource#relation: subject, subject` for leaves.
 */
function formatExpandTree(tree: WirePermissionRelationshipTree, depth = 0): string {
  const indent = "  ".repeat(depth);
  const name = `${tree.expandedObject?.objectType ?? "?"}:${tree.expandedObject?.objectId ?? "?"}#${tree.expandedRelation ?? "?"}`;
  if (tree.leaf) {
    const subjects = (tree.leaf.subjects ?? []).map(formatWireSubject);
    return `${indent}${name}: ${subjects.length === 0 ? "(no subjects)" : subjects.join(", ")}\n`;
  }
  const operation = (tree.intermediate?.operation ?? "OPERATION_UNSPECIFIED").replace(/^OPERATION_/, "").toLowerCase();
  const children = tree.intermediate?.children ?? [];
  return `${indent}${name} ${operation}\n${children.map((child) => formatExpandTree(child, depth + 1)).join("")}`;
}

function formatWireSubject(subject: WireSubjectReference): string {
  const object = `${subject.object?.objectType ?? "?"}:${subject.object?.objectId ?? "?"}`;
  return subject.optionalRelation ? `${object}#${subject.optionalRelation}` : object;
}
