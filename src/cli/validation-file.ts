import { dirname, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from "yaml";
import type { Node as YamlNode, YAMLMap } from "yaml";
import { AuthzError, InvalidArgumentError, parseObjectRef, parseRelationship, parseSubjectRef, WILDCARD_ID } from "../tuple/index.ts";
import type { ObjectRef, Relationship, SubjectRef } from "../tuple/index.ts";
import { parseDelegationsBlock, timeOf } from "./validation-grants.ts";
import type { ValidationGrant } from "./validation-grants.ts";

// A validation file is SpiceDB's format (what `zed validate` and the Playground read):
//
//   schema: |-                      # or `schemaFile: drive.zed`, relative to the yaml file
//     definition user {}
//     definition document { relation viewer: user
//       permission view = viewer }
//   relationships: |-               # SpiceDB text form, one per line; `//` lines are comments
//     document:readme#viewer@user:alice
//   assertions:
//     assertTrue: ["document:readme#view@user:alice"]
//     assertFalse: ["document:readme#view@user:bob"]
//     assertCaveated: ['document:readme#view@user:carol with {"ip": "10.0.0.1"}']
//   validation:                     # the exact set of subjects of a permission
//     document:readme#view:
//       - "[user:alice] is <document:readme#viewer>"
//
// Mandate adds delegation (not in SpiceDB; see validation-grants.ts for every key of a grant):
//
//   at: 2026-01-15T09:00:00Z        # the run's clock (default: the time it runs)
//   delegations:                    # grants, applied in order as the GrantDelegation API would
//     - actor: agent:copilot
//       principal: user:ann
//       scope: [document#view]
//       expires_in: 2h              # or expires_at: RFC 3339; default: the delegation's max_lifetime
//   assertions:
//     assertTrue: ["document:readme#view@agent:copilot on behalf of user:ann"]
//
// An assertion `RESOURCE#PERMISSION@ACTOR on behalf of PRINCIPAL [with {context}]` checks ACTOR
// acting for PRINCIPAL through delegation edges (`mandate check ... --on-behalf-of PRINCIPAL`).

/** SourcePosition is a 1-based line and column in a file. */
export interface SourcePosition {
  readonly fileName: string;
  readonly line: number;
  readonly column: number;
}

/** Diagnostic is one problem found in a file, at a position, in the shape SchemaError uses. */
export interface Diagnostic extends SourcePosition {
  readonly message: string;
}

/** AssertionKind is the block an assertion came from: assertTrue, assertFalse or assertCaveated. */
export type AssertionKind = "assertTrue" | "assertFalse" | "assertCaveated";

/**
 * ValidationAssertion is one `resource#permission@subject [on behalf of principal] [with {context}]`
 * assertion; with `onBehalfOf`, `subject` is an actor (an object) acting for that principal.
 */
export interface ValidationAssertion {
  readonly kind: AssertionKind;
  readonly text: string;
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
  readonly onBehalfOf: ObjectRef | undefined;
  readonly context: Readonly<Record<string, unknown>> | undefined;
  readonly position: SourcePosition;
}

/**
 * ExpectedSubject is one entry of a `validation:` list, e.g. `[user:alice] is <document:1#viewer>`.
 * `conditional` is the `[...]` marker (reached only through a caveat); `excluded` lists the
 * `- {user:bob}` exceptions of a wildcard. The `is <...>` explanation is kept as text, unverified.
 */
export interface ExpectedSubject {
  readonly text: string;
  readonly subject: SubjectRef;
  readonly conditional: boolean;
  readonly excluded: readonly SubjectRef[];
  readonly position: SourcePosition;
}

/** ExpectedSubjects is one `resource#permission:` key of the `validation:` block with its list. */
export interface ExpectedSubjects {
  readonly key: string;
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjects: readonly ExpectedSubject[];
  readonly position: SourcePosition;
}

/** PositionedRelationship is a relationship with the position of its line. */
export interface PositionedRelationship {
  readonly relationship: Relationship;
  readonly position: SourcePosition;
}

/**
 * SchemaSource is the schema text and how to map a position in it back to the file a user edits:
 * the yaml file for an inline `schema:`, the schema file itself for `schemaFile:`.
 */
export interface SchemaSource {
  readonly text: string;
  readonly fileName: string;
  readonly positionOf: (line: number, column: number) => SourcePosition;
}

/**
 * ValidationFile is a parsed validation file; every part keeps its position for error reports.
 * `at` is the run's clock (`at:`; undefined: the time of the run); `delegations` are the grants to
 * apply, in file order, after the relationships are loaded.
 */
export interface ValidationFile {
  readonly fileName: string;
  readonly schema: SchemaSource;
  readonly at: Date | undefined;
  readonly relationships: readonly PositionedRelationship[];
  readonly delegations: readonly ValidationGrant[];
  readonly assertions: readonly ValidationAssertion[];
  readonly validation: readonly ExpectedSubjects[];
}

/**
 * ValidationFileError reports a validation file that cannot be run: bad YAML, a missing or
 * unreadable schema, malformed relationships or assertions. It carries every problem found, each
 * with its position, not just the first.
 */
export class ValidationFileError extends InvalidArgumentError {
  override name = "ValidationFileError";
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => `${d.fileName}:${d.line}:${d.column}: ${d.message}`).join("\n"));
    this.diagnostics = diagnostics;
  }
}

const TOP_LEVEL_KEYS = new Set(["schema", "schemaFile", "at", "relationships", "delegations", "assertions", "validation"]);
const ASSERTION_KINDS: readonly AssertionKind[] = ["assertTrue", "assertFalse", "assertCaveated"];

/**
 * parseValidationFile parses the text of a validation file named `fileName`. `readFile` loads a
 * `schemaFile:` (given its path resolved against the yaml file's folder). Throws
 * ValidationFileError listing every problem found.
 */
export function parseValidationFile(text: string, fileName: string, readFile: (path: string) => string): ValidationFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { fileName, line, column: col };
  };
  const positionOfNode = (node: YamlNode | null | undefined): SourcePosition => at(node?.range?.[0] ?? 0);
  const report = (position: SourcePosition, message: string): void => {
    diagnostics.push({ ...position, message });
  };

  for (const error of document.errors) {
    report(at(error.pos[0]), error.message.split("\n")[0] ?? error.message);
  }
  if (diagnostics.length > 0) throw new ValidationFileError(diagnostics);

  const root = document.contents;
  if (!isMap(root)) {
    throw new ValidationFileError([{ ...positionOfNode(root), message: "a validation file must be a YAML mapping with a schema: or schemaFile: key" }]);
  }
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined || !TOP_LEVEL_KEYS.has(key)) {
      report(positionOfNode(pair.key as YamlNode), `unknown key ${JSON.stringify(key ?? pair.key)}; expected one of ${[...TOP_LEVEL_KEYS].join(", ")}`);
    }
  }

  const context: ParseContext = { fileName, text, at, positionOfNode, report, diagnosticCount: () => diagnostics.length };
  const schema = parseSchemaSource(root, context, readFile);
  const clock = parseClock(root.get("at", true), context);
  const relationships = parseRelationships(root.get("relationships", true), context);
  const delegations = parseDelegationsBlock(root.get("delegations", true), context);
  const assertions = parseAssertions(root.get("assertions", true), context);
  const validation = parseExpectedRelations(root.get("validation", true), context);
  if (diagnostics.length > 0 || schema === undefined) throw new ValidationFileError(diagnostics);
  return { fileName, schema, at: clock, relationships, delegations, assertions, validation };
}

/** ParseContext is what the block parsers share: positions in the file and where problems go. */
export interface ParseContext {
  readonly fileName: string;
  readonly text: string;
  readonly at: (offset: number) => SourcePosition;
  readonly positionOfNode: (node: YamlNode | null | undefined) => SourcePosition;
  readonly report: (position: SourcePosition, message: string) => void;
  readonly diagnosticCount: () => number;
}

function parseClock(node: YamlNode | undefined, context: ParseContext): Date | undefined {
  if (node === undefined) return undefined;
  try {
    return timeOf(isScalar(node) ? node.value : undefined, "at");
  } catch (error) {
    context.report(context.positionOfNode(node), messageOf(error));
    return undefined;
  }
}

function parseSchemaSource(root: YAMLMap, context: ParseContext, readFile: (path: string) => string): SchemaSource | undefined {
  const inline = root.get("schema", true);
  const file = root.get("schemaFile", true);
  if (inline !== undefined && file !== undefined) {
    context.report(context.positionOfNode(file), "give either schema: or schemaFile:, not both");
    return undefined;
  }
  if (file !== undefined) {
    if (!isScalar(file) || typeof file.value !== "string" || file.value === "") {
      context.report(context.positionOfNode(file), "schemaFile: must be a path (relative to this file)");
      return undefined;
    }
    const path = resolve(dirname(context.fileName), file.value);
    let text: string;
    try {
      text = readFile(path);
    } catch (error) {
      context.report(context.positionOfNode(file), `schemaFile: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    return { text, fileName: path, positionOf: (line, column) => ({ fileName: path, line, column }) };
  }
  if (inline === undefined) {
    context.report(context.positionOfNode(root), "missing schema: (inline schema text) or schemaFile: (path to a schema)");
    return undefined;
  }
  const block = textBlockOf(inline, context, "schema");
  if (block === undefined) return undefined;
  return { text: block.text, fileName: context.fileName, positionOf: block.positionOf };
}

interface TextBlock {
  readonly text: string;
  readonly positionOf: (line: number, column: number) => SourcePosition;
}

/**
 * textBlockOf returns a string node's text with a map from (line, column) in the text to the
 * yaml file. A literal block (`|`, `|-`) keeps lines one-to-one, so positions map exactly; other
 * scalar styles map every position to the start of the node.
 */
function textBlockOf(node: YamlNode, context: ParseContext, key: string): TextBlock | undefined {
  if (!isScalar(node) || (typeof node.value !== "string" && node.value !== null)) {
    context.report(context.positionOfNode(node), `${key}: must be a text block (use "${key}: |-" followed by indented lines)`);
    return undefined;
  }
  const text = typeof node.value === "string" ? node.value : "";
  const start = context.positionOfNode(node);
  if (node.type !== Scalar.BLOCK_LITERAL) {
    return { text, positionOf: () => start };
  }
  // The header (`|-`) sits on the node's first line; the content starts on the next line,
  // indented by the indentation of its first non-blank line.
  const contentStart = context.text.indexOf("\n", node.range?.[0] ?? 0) + 1;
  const indent = /^( *)\S/m.exec(context.text.slice(contentStart, node.range?.[1]))?.[1]?.length ?? 0;
  return {
    text,
    positionOf: (line, column) => ({ fileName: context.fileName, line: start.line + line, column: column + indent }),
  };
}

function parseRelationships(node: YamlNode | undefined, context: ParseContext): PositionedRelationship[] {
  if (node === undefined) return [];
  const block = textBlockOf(node, context, "relationships");
  if (block === undefined) return [];
  const relationships: PositionedRelationship[] = [];
  block.text.split("\n").forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("//")) return;
    const column = rawLine.length - rawLine.trimStart().length + 1;
    const position = block.positionOf(index + 1, column);
    try {
      relationships.push({ relationship: parseRelationship(line), position });
    } catch (error) {
      context.report(position, messageOf(error));
    }
  });
  return relationships;
}

function parseAssertions(node: YamlNode | undefined, context: ParseContext): ValidationAssertion[] {
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isMap(node)) {
    context.report(context.positionOfNode(node), "assertions: must be a mapping with assertTrue, assertFalse and/or assertCaveated lists");
    return [];
  }
  const assertions: ValidationAssertion[] = [];
  for (const pair of node.items) {
    const kind = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!(ASSERTION_KINDS as readonly string[]).includes(kind)) {
      context.report(context.positionOfNode(pair.key as YamlNode), `unknown assertion block "${kind}"; expected ${ASSERTION_KINDS.join(", ")}`);
      continue;
    }
    const list = pair.value as YamlNode | null;
    if (list === null || (isScalar(list) && list.value === null)) continue;
    if (!isSeq(list)) {
      context.report(context.positionOfNode(list), `${kind}: must be a list of "resource#permission@subject" strings`);
      continue;
    }
    for (const item of list.items as YamlNode[]) {
      const position = context.positionOfNode(item);
      if (!isScalar(item) || typeof item.value !== "string") {
        context.report(position, `${kind}: each entry must be a string "resource#permission@subject"`);
        continue;
      }
      try {
        assertions.push({ kind: kind as AssertionKind, ...parseAssertionText(item.value), position });
      } catch (error) {
        context.report(position, messageOf(error));
      }
    }
  }
  return assertions;
}

/**
 * parseAssertionText parses `resource#permission@subject`, optionally followed by
 * ` on behalf of principal` (then the subject is an actor: an object, as is the principal) and
 * by ` with {json context}`, e.g. `document:1#view@agent:bot on behalf of user:ann with {"ip": "10.0.0.1"}`.
 */
export function parseAssertionText(text: string): Omit<ValidationAssertion, "kind" | "position"> {
  const withAt = /\s+with\s+(?=\{)/.exec(text);
  const beforeWith = (withAt ? text.slice(0, withAt.index) : text).trim();
  const behalfAt = /\s+on\s+behalf\s+of\s+/.exec(beforeWith);
  const core = behalfAt ? beforeWith.slice(0, behalfAt.index) : beforeWith;
  let context: Record<string, unknown> | undefined;
  if (withAt) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(withAt.index + withAt[0].length));
    } catch (error) {
      throw new InvalidArgumentError(`assertion "${text}": the context after "with" is not valid JSON (${messageOf(error)})`, { cause: error });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new InvalidArgumentError(`assertion "${text}": the context after "with" must be a JSON object`);
    }
    context = parsed as Record<string, unknown>;
  }
  if (core.includes("[")) {
    throw new InvalidArgumentError(`assertion "${text}": caveats and expirations belong on relationships; pass check context with "with {...}"`);
  }
  const parsed = parseRelationship(core, "assertion");
  let onBehalfOf: ObjectRef | undefined;
  if (behalfAt) {
    onBehalfOf = parseObjectRef(beforeWith.slice(behalfAt.index + behalfAt[0].length).trim(), "on behalf of");
    if (parsed.subject.relation !== undefined || parsed.subject.id === WILDCARD_ID) {
      throw new InvalidArgumentError(`assertion "${text}": acting on behalf of someone, the subject is an actor: an object such as agent:copilot, not a userset or wildcard`);
    }
  }
  return { text, resource: parsed.resource, permission: parsed.relation, subject: parsed.subject, onBehalfOf, context };
}

function parseExpectedRelations(node: YamlNode | undefined, context: ParseContext): ExpectedSubjects[] {
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isMap(node)) {
    context.report(context.positionOfNode(node), 'validation: must map "resource#permission" to a list of expected subjects');
    return [];
  }
  const result: ExpectedSubjects[] = [];
  for (const pair of node.items) {
    const keyNode = pair.key as YamlNode;
    const position = context.positionOfNode(keyNode);
    const key = isScalar(keyNode) ? String(keyNode.value) : "";
    let resource: ObjectRef;
    let permission: string;
    try {
      const parsed = parseResourcePermission(key);
      resource = parsed.resource;
      permission = parsed.permission;
    } catch (error) {
      context.report(position, messageOf(error));
      continue;
    }
    const list = pair.value as YamlNode | null;
    const subjects: ExpectedSubject[] = [];
    if (list !== null && !(isScalar(list) && list.value === null)) {
      if (!isSeq(list)) {
        context.report(context.positionOfNode(list), `validation ${key}: must be a list like "[user:alice] is <${key}>"`);
        continue;
      }
      for (const item of list.items as YamlNode[]) {
        const itemPosition = context.positionOfNode(item);
        if (!isScalar(item) || typeof item.value !== "string") {
          context.report(itemPosition, `validation ${key}: each entry must be a string like "[user:alice] is <${key}>"`);
          continue;
        }
        try {
          subjects.push({ ...parseExpectedSubject(item.value), position: itemPosition });
        } catch (error) {
          context.report(itemPosition, messageOf(error));
        }
      }
    }
    result.push({ key, resource, permission, subjects, position });
  }
  return result;
}

/** parseResourcePermission parses a `validation:` key, `type:id#permission`. */
function parseResourcePermission(text: string): { resource: ObjectRef; permission: string } {
  const parsed = parseSubjectRef(text, "validation key");
  if (parsed.relation === undefined || parsed.id === "*") {
    throw new InvalidArgumentError(`validation key "${text}": must be of the form resource#permission, e.g. document:readme#view`);
  }
  return { resource: { type: parsed.type, id: parsed.id }, permission: parsed.relation };
}

/**
 * parseExpectedSubject parses one `validation:` entry: `[SUBJECT] is <...>` where SUBJECT is
 * `user:alice`, `group:eng#member`, `user:*`, `user:* - {user:bob, user:eve}`, each optionally
 * marked `[...]` (conditional).
 */
export function parseExpectedSubject(text: string): Omit<ExpectedSubject, "position"> {
  const trimmed = text.trim();
  const close = closingBracket(trimmed);
  if (!trimmed.startsWith("[") || close < 0) {
    throw new InvalidArgumentError(`expected subject "${text}": must start with the subject in brackets, e.g. "[user:alice] is <document:1#viewer>"`);
  }
  const rest = trimmed.slice(close + 1).trim();
  if (rest !== "" && !rest.startsWith("is ")) {
    throw new InvalidArgumentError(`expected subject "${text}": after "]" only "is <...>" may follow`);
  }
  const inner = trimmed.slice(1, close).trim();
  const exclusionAt = inner.indexOf(" - {");
  let head = exclusionAt < 0 ? inner : inner.slice(0, exclusionAt).trim();
  const excluded: SubjectRef[] = [];
  if (exclusionAt >= 0) {
    const list = inner.slice(exclusionAt + " - {".length);
    if (!list.endsWith("}")) throw new InvalidArgumentError(`expected subject "${text}": the exclusion list must end with "}"`);
    for (const part of list.slice(0, -1).split(",")) {
      const name = stripConditionalMarker(part.trim()).subject;
      if (name !== "") excluded.push(parseSubjectRef(name, "excluded subject"));
    }
  }
  const marker = stripConditionalMarker(head);
  head = marker.subject;
  const subject = parseSubjectRef(head, "expected subject");
  if (excluded.length > 0 && subject.id !== "*") {
    throw new InvalidArgumentError(`expected subject "${text}": only a wildcard (type:*) can have exclusions`);
  }
  return { text, subject, conditional: marker.conditional, excluded };
}

function stripConditionalMarker(text: string): { subject: string; conditional: boolean } {
  return text.endsWith("[...]") ? { subject: text.slice(0, -"[...]".length), conditional: true } : { subject: text, conditional: false };
}

// Finds the `]` closing the `[` at position 0, allowing nested `[...]` markers.
function closingBracket(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "[") depth++;
    else if (text[i] === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function messageOf(error: unknown): string {
  if (error instanceof AuthzError || error instanceof Error) return error.message;
  return String(error);
}
