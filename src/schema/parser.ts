import type {
  CaveatAst,
  CaveatParameterAst,
  CaveatTypeAst,
  DefinitionAst,
  DelegationAst,
  DelegationOptionAst,
  DelegationPrincipalAst,
  ExpressionAst,
  NameAst,
  PermissionAst,
  RelationAst,
  SchemaAst,
  ScopeEntryAst,
  SourcePosition,
  TypeReferenceAst,
} from "./ast.ts";
import { didYouMean } from "./did-you-mean.ts";
import { SchemaError } from "./errors.ts";
import { lex } from "./lexer.ts";
import type { Token, TokenKind } from "./lexer.ts";

// Words that can never be a name. SpiceDB reserves exactly these; `any`, `all`, `use`, `and`,
// `expiration` and the like stay usable as names and are keywords only where the grammar expects them.
const RESERVED = new Set(["definition", "caveat", "relation", "permission", "nil", "with"]);

/**
 * MAX_NESTING is how deeply parentheses (in a permission) or type arguments (in a caveat parameter)
 * may nest. The parser and compiler recurse once per level, so without a bound a few kilobytes of
 * `(((...` would exhaust the stack; no real schema comes near it.
 */
const MAX_NESTING = 100;

/**
 * MAX_OPERANDS is how many operands (names, arrows, `nil`) one permission expression may have.
 * `a - b - c ...` parses into a tree as deep as it is long, which the compiler and the engine walk
 * recursively; the bound keeps that depth safe.
 */
const MAX_OPERANDS = 1000;

// The options of a delegation block; like `any` or `expiration`, they are keywords only there.
const DELEGATION_OPTIONS = ["scope", "max_lifetime", "max_chain", "ceiling"] as const;

/**
 * parseSchema turns schema text into its AST. It checks syntax only (names are resolved by the
 * compiler) and throws SchemaError at the first syntax error, with its position in `fileName`.
 * It also rejects, as syntax errors, expressions beyond MAX_NESTING or MAX_OPERANDS and parameter
 * types beyond MAX_NESTING, so that no later recursive walk can exhaust the stack.
 *
 * Grammar of permission expressions, loosest first (SpiceDB's precedence, measured):
 *   exclusion    := intersection ("-" intersection)*        left-associative
 *   intersection := union ("&" union)*
 *   union        := arrow ("+" arrow)*
 *   arrow        := name ("->" name | "." ("any" | "all") "(" name ")") | primary
 *   primary      := name | "nil" | "(" exclusion ")"
 */
export function parseSchema(source: string, fileName: string): SchemaAst {
  return new Parser(lex(source, fileName), fileName).parseFile();
}

class Parser {
  readonly #tokens: readonly Token[];
  readonly #fileName: string;
  #index = 0;
  #expirationEnabled = false;
  // Per permission expression: open parentheses around the current token, and operands so far.
  #nesting = 0;
  #operands = 0;

  constructor(tokens: readonly Token[], fileName: string) {
    this.#tokens = tokens;
    this.#fileName = fileName;
  }

  parseFile(): SchemaAst {
    const useFlags: NameAst[] = [];
    const definitions: DefinitionAst[] = [];
    const caveats: CaveatAst[] = [];
    for (;;) {
      const token = this.#peek();
      if (token.kind === ";") {
        this.#next();
        continue;
      }
      if (token.kind === "eof") break;
      if (this.#isWord(token, "use")) {
        if (definitions.length > 0 || caveats.length > 0) {
          this.#fail(token.position, "`use` must come before every definition and caveat");
        }
        useFlags.push(this.#parseUse());
        this.#expectStatementEnd("`use` statement", true);
      } else if (this.#isWord(token, "definition")) {
        definitions.push(this.#parseDefinition());
      } else if (this.#isWord(token, "caveat")) {
        caveats.push(this.#parseCaveat());
      } else {
        this.#fail(token.position, `expected \`definition\`, \`caveat\` or \`use\`, found ${describe(token)}`);
      }
    }
    return { useFlags, definitions, caveats };
  }

  #parseUse(): NameAst {
    this.#next();
    const flag = this.#expectName("a feature name after `use`", false);
    if (flag.text === "expiration") this.#expirationEnabled = true;
    return flag;
  }

  #parseDefinition(): DefinitionAst {
    const keyword = this.#next();
    const name = this.#expectName("a definition name", true);
    this.#expect("{", `after \`definition ${name.text}\``);
    const members: (RelationAst | PermissionAst | DelegationAst)[] = [];
    for (;;) {
      const token = this.#peek();
      if (token.kind === ";") {
        this.#next();
        continue;
      }
      if (token.kind === "}") break;
      if (this.#isWord(token, "relation")) {
        members.push(this.#parseRelation());
      } else if (this.#isWord(token, "permission")) {
        members.push(this.#parsePermission());
      } else if (this.#isWord(token, "delegation")) {
        members.push(this.#parseDelegation());
      } else {
        this.#fail(token.position, `expected \`relation\`, \`permission\`, \`delegation\` or \`}\` in definition "${name.text}", found ${describe(token)}`);
      }
      this.#expectStatementEnd(members[members.length - 1]?.kind ?? "relation", false);
    }
    this.#next();
    return { name, comment: keyword.comment, members };
  }

  #parseRelation(): RelationAst {
    const keyword = this.#next();
    const name = this.#expectName("a relation name", true);
    this.#expect(":", `after \`relation ${name.text}\` (write \`relation ${name.text}: user\`)`);
    const types = [this.#parseTypeReference()];
    while (this.#peek().kind === "|") {
      this.#next();
      types.push(this.#parseTypeReference());
    }
    return { kind: "relation", name, comment: keyword.comment, types };
  }

  #parseTypeReference(): TypeReferenceAst {
    const type = this.#expectName("a definition name", true);
    let relation: NameAst | undefined;
    let wildcard = false;
    if (this.#peek().kind === "#") {
      this.#next();
      relation = this.#expectName(`a relation name after \`${type.text}#\``, true);
    } else if (this.#peek().kind === ":") {
      this.#next();
      this.#expect("*", `after \`${type.text}:\` (only the wildcard \`${type.text}:*\` may follow a colon)`);
      wildcard = true;
    }
    let caveat: NameAst | undefined;
    let expiration = false;
    if (this.#isWord(this.#peek(), "with")) {
      this.#next();
      const first = this.#expectName("a caveat name or `expiration` after `with`", false);
      if (first.text === "expiration" && this.#expirationEnabled) {
        expiration = true;
        if (this.#isWord(this.#peek(), "and")) {
          this.#fail(this.#peek().position, "the caveat must come before expiration: write `with <caveat> and expiration`");
        }
      } else {
        caveat = first;
        if (this.#isWord(this.#peek(), "and")) {
          const and = this.#next();
          const second = this.#expectName("`expiration` after `and`", false);
          if (second.text !== "expiration") {
            this.#fail(second.position, `only \`expiration\` may follow \`with ${first.text} and\`, found "${second.text}"`);
          }
          if (!this.#expirationEnabled) {
            this.#fail(and.position, "`with ... and expiration` requires `use expiration` at the top of the schema");
          }
          expiration = true;
        }
      }
    }
    return { type, relation, wildcard, caveat, expiration };
  }

  // `delegation name: user | agent with cav { scope ...; max_lifetime 30d; max_chain 2; ceiling }`.
  // `delegation` is a keyword only here, where a member statement starts (SpiceDB reserves no such word).
  #parseDelegation(): DelegationAst {
    const keyword = this.#next();
    const name = this.#expectName("a delegation name", true);
    this.#expect(":", `after \`delegation ${name.text}\` (write \`delegation ${name.text}: user { scope document#view }\`)`);
    const principals = [this.#parseDelegationPrincipal()];
    while (this.#peek().kind === "|") {
      this.#next();
      principals.push(this.#parseDelegationPrincipal());
    }
    this.#expect("{", `after the principal types of delegation "${name.text}" (its options go in a block: \`{ scope document#view }\`)`);
    const options: DelegationOptionAst[] = [];
    for (;;) {
      const token = this.#peek();
      if (token.kind === ";") {
        this.#next();
        continue;
      }
      if (token.kind === "}") break;
      options.push(this.#parseDelegationOption(name.text));
      this.#expectStatementEnd("delegation option", false);
    }
    this.#next();
    return { kind: "delegation", name, comment: keyword.comment, principals, options };
  }

  // A principal is an object type, optionally with a caveat: edges name one object of it, and
  // always expire (max_lifetime), so usersets, wildcards and `with expiration` have no meaning here.
  #parseDelegationPrincipal(): DelegationPrincipalAst {
    const type = this.#expectName("a definition name", true);
    const after = this.#peek();
    if (after.kind === "#") {
      this.#fail(after.position, `a delegation acts for one object, not a userset: write \`${type.text}\` instead of \`${type.text}#...\``);
    }
    if (after.kind === ":") {
      this.#fail(after.position, `a delegation acts for one object, not a wildcard: write \`${type.text}\` instead of \`${type.text}:*\``);
    }
    if (!this.#isWord(after, "with")) return { type, caveat: undefined };
    this.#next();
    const caveat = this.#expectName("a caveat name after `with`", false);
    const alwaysExpire = "delegation edges always expire (at most max_lifetime after they are granted)";
    if (caveat.text === "expiration" && this.#expirationEnabled) {
      this.#fail(caveat.position, `${alwaysExpire}: remove \`with expiration\``);
    }
    if (this.#isWord(this.#peek(), "and")) this.#fail(this.#peek().position, `${alwaysExpire}: remove \`and expiration\``);
    return { type, caveat };
  }

  #parseDelegationOption(delegation: string): DelegationOptionAst {
    const keyword = this.#expectName(`an option of delegation "${delegation}" (${DELEGATION_OPTIONS.join(", ")}) or \`}\``, false);
    switch (keyword.text) {
      case "scope": {
        const entries = [this.#parseScopeEntry()];
        while (this.#peek().kind === "|") {
          this.#next();
          entries.push(this.#parseScopeEntry());
        }
        return { kind: "scope", keyword, entries };
      }
      case "max_lifetime":
      case "max_chain": {
        const value = this.#peek();
        if (value.kind !== "number" && value.kind !== "identifier") {
          const example = keyword.text === "max_chain" ? "a number of hops: `max_chain 2`" : "a duration: `max_lifetime 30d` or `1h30m`";
          this.#fail(value.position, `expected ${example}, found ${describe(value)}`);
        }
        this.#next();
        return { kind: keyword.text, keyword, value: { text: value.text, position: value.position } };
      }
      case "ceiling":
        return { kind: "ceiling", keyword };
      default:
        return this.#fail(
          keyword.position,
          `unknown option "${keyword.text}" in delegation "${delegation}"; the options are ${DELEGATION_OPTIONS.join(", ")}${didYouMean(keyword.text, DELEGATION_OPTIONS)}`,
        );
    }
  }

  // `document#view`, `document#*`, or `*` (everything).
  #parseScopeEntry(): ScopeEntryAst {
    const token = this.#peek();
    if (token.kind === "*") {
      this.#next();
      const star = { text: "*", position: token.position };
      return { type: star, permission: star };
    }
    const type = this.#expectName("a scope entry (`document#view`, `document#*` or `*`)", true);
    this.#expect("#", `after \`${type.text}\` in a scope (write \`${type.text}#view\` or \`${type.text}#*\`)`);
    const permission = this.#peek();
    if (permission.kind === "*") {
      this.#next();
      return { type, permission: { text: "*", position: permission.position } };
    }
    return { type, permission: this.#expectName(`a relation or permission name (or \`*\`) after \`${type.text}#\``, true) };
  }

  #parsePermission(): PermissionAst {
    const keyword = this.#next();
    const name = this.#expectName("a permission name", true);
    this.#expect("=", `after \`permission ${name.text}\` (write \`permission ${name.text} = relation_name\`)`);
    this.#nesting = 0;
    this.#operands = 0;
    const expression = this.#parseExclusion();
    return { kind: "permission", name, comment: keyword.comment, expression };
  }

  #parseExclusion(): ExpressionAst {
    let left = this.#parseIntersection();
    while (this.#peek().kind === "-") {
      const operator = this.#next();
      left = { kind: "exclusion", position: operator.position, left, right: this.#parseIntersection() };
    }
    return left;
  }

  #parseIntersection(): ExpressionAst {
    let left = this.#parseUnion();
    while (this.#peek().kind === "&") {
      const operator = this.#next();
      left = { kind: "intersection", position: operator.position, left, right: this.#parseUnion() };
    }
    return left;
  }

  #parseUnion(): ExpressionAst {
    let left = this.#parseArrow();
    while (this.#peek().kind === "+") {
      const operator = this.#next();
      left = { kind: "union", position: operator.position, left, right: this.#parseArrow() };
    }
    return left;
  }

  #parseArrow(): ExpressionAst {
    const start = this.#peek();
    const primary = this.#parsePrimary();
    const operator = this.#peek();
    if (operator.kind !== "->" && operator.kind !== ".") return primary;
    if (primary.kind !== "reference" || start.kind === "(") {
      this.#fail(operator.position, "the left side of an arrow must be a relation name, not a parenthesised expression or `nil`");
    }
    this.#next();
    let arrow: ExpressionAst;
    if (operator.kind === "->") {
      const target = this.#expectName("a relation or permission name after `->`", true);
      arrow = { kind: "arrow", tupleset: primary.name, target, mode: "any" };
    } else {
      const fn = this.#expectName("`any` or `all` after `.`", false);
      if (fn.text !== "any" && fn.text !== "all") {
        this.#fail(fn.position, `unknown arrow function "${fn.text}" (expected \`.any(name)\` or \`.all(name)\`)`);
      }
      this.#expect("(", `after \`.${fn.text}\``);
      const target = this.#expectName(`a relation or permission name inside \`.${fn.text}()\``, true);
      this.#expect(")", `to close \`.${fn.text}(\``);
      arrow = { kind: "arrow", tupleset: primary.name, target, mode: fn.text };
    }
    const after = this.#peek();
    if (after.kind === "->" || after.kind === ".") {
      this.#fail(after.position, `nested arrows are not supported (SpiceDB neither): \`${start.text}->...->...\`; introduce a permission for the inner arrow`);
    }
    return arrow;
  }

  #parsePrimary(): ExpressionAst {
    const token = this.#peek();
    if (token.kind === "(") {
      if (this.#nesting >= MAX_NESTING) this.#fail(token.position, `expression nests deeper than ${MAX_NESTING} levels of parentheses`);
      this.#nesting++;
      this.#next();
      const inner = this.#parseExclusion();
      this.#expect(")", "to close `(`");
      this.#nesting--;
      return inner;
    }
    if (++this.#operands > MAX_OPERANDS) {
      this.#fail(token.position, `expression has more than ${MAX_OPERANDS} operands; split it into several permissions`);
    }
    if (this.#isWord(token, "nil")) {
      this.#next();
      return { kind: "nil", position: token.position };
    }
    if (token.kind === "identifier" && !RESERVED.has(token.text)) {
      this.#next();
      return { kind: "reference", name: { text: token.text, position: token.position } };
    }
    return this.#fail(token.position, `expected a relation or permission name, \`nil\` or \`(\`, found ${describe(token)}`);
  }

  #parseCaveat(): CaveatAst {
    const keyword = this.#next();
    const name = this.#expectName("a caveat name", true);
    this.#expect("(", `after \`caveat ${name.text}\` (a caveat declares its parameters: \`caveat ${name.text}(param int)\`)`);
    const parameters: CaveatParameterAst[] = [];
    do {
      if (parameters.length > 0) this.#next();
      const parameter = this.#expectName("a parameter name", true);
      parameters.push({ name: parameter, type: this.#parseCaveatType() });
    } while (this.#peek().kind === ",");
    this.#expect(")", "to close the parameter list");
    const open = this.#expect("{", `before the expression of caveat "${name.text}"`);
    const body = this.#peek();
    if (body.kind !== "cel") return this.#fail(open.position, `caveat "${name.text}" has no expression body`);
    this.#next();
    this.#expect("}", "to close the caveat expression");
    const expression = body.text.trim();
    const leading = expression === "" ? "" : body.text.slice(0, body.text.indexOf(expression));
    return { name, comment: keyword.comment, parameters, expression, expressionPosition: advance(body.position, leading) };
  }

  #parseCaveatType(depth = 0): CaveatTypeAst {
    const name = this.#expectName("a parameter type", false);
    const typeArguments: CaveatTypeAst[] = [];
    if (this.#peek().kind === "<") {
      const open = this.#next();
      if (depth >= MAX_NESTING) this.#fail(open.position, `parameter type nests deeper than ${MAX_NESTING} levels`);
      typeArguments.push(this.#parseCaveatType(depth + 1));
      while (this.#peek().kind === ",") {
        this.#next();
        typeArguments.push(this.#parseCaveatType(depth + 1));
      }
      this.#expect(">", `to close \`${name.text}<\``);
    }
    return { name, typeArguments };
  }

  // A statement ends at a line break or `;`; a relation or permission may also end at the `}`
  // that closes its definition. Anything else means two statements share a line.
  #expectStatementEnd(what: string, topLevel: boolean): void {
    const token = this.#peek();
    if (token.kind === ";") {
      this.#next();
      return;
    }
    if (token.kind === "eof" || (!topLevel && token.kind === "}")) return;
    this.#fail(
      token.position,
      `expected the end of the ${what} (a line break or \`;\`), found ${describe(token)}; each statement goes on its own line`,
    );
  }

  #expectName(what: string, rejectReserved: boolean): NameAst {
    const token = this.#peek();
    if (token.kind !== "identifier") this.#fail(token.position, `expected ${what}, found ${describe(token)}`);
    if (rejectReserved && RESERVED.has(token.text)) {
      this.#fail(token.position, `expected ${what}, found the keyword \`${token.text}\`, which cannot be used as a name`);
    }
    this.#next();
    return { text: token.text, position: token.position };
  }

  #expect(kind: TokenKind, context: string): Token {
    const token = this.#peek();
    if (token.kind !== kind) this.#fail(token.position, `expected \`${kind}\` ${context}, found ${describe(token)}`);
    return this.#next();
  }

  #isWord(token: Token, word: string): boolean {
    return token.kind === "identifier" && token.text === word;
  }

  #peek(): Token {
    // The lexer always ends with `eof`, so the index never runs past the last token.
    return this.#tokens[Math.min(this.#index, this.#tokens.length - 1)] as Token;
  }

  #next(): Token {
    const token = this.#peek();
    if (this.#index < this.#tokens.length - 1) this.#index++;
    return token;
  }

  #fail(position: SourcePosition, message: string): never {
    throw new SchemaError([{ fileName: this.#fileName, line: position.line, column: position.column, message }]);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "the end of the file";
    case ";":
      return token.synthetic ? "the end of the line" : "`;`";
    case "identifier":
      return `"${token.text}"`;
    case "cel":
      return "a caveat expression";
    default:
      return `\`${token.text}\``;
  }
}

/** advance returns the position just after `text` when `text` starts at `position`. */
export function advance(position: SourcePosition, text: string): SourcePosition {
  let { line, column } = position;
  // By UTF-16 code unit, as the lexer counts columns.
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return { line, column };
}
