import type { SourcePosition } from "./ast.ts";
import { SchemaError } from "./errors.ts";

/**
 * TokenKind is the kind of a token: an identifier (keywords are identifiers; the parser decides),
 * a number (a digit followed by letters, digits, `_` and `.`: `2`, `30d`, `1h30m`; only a
 * delegation's options take one, the parser checks its form), a punctuation mark, `cel` (the raw
 * text of a caveat body), or `eof`.
 */
export type TokenKind =
  | "identifier"
  | "number"
  | "{"
  | "}"
  | "("
  | ")"
  | "<"
  | ">"
  | ","
  | ":"
  | ";"
  | "|"
  | "#"
  | "*"
  | "+"
  | "&"
  | "-"
  | "->"
  | "."
  | "="
  | "cel"
  | "eof";

/**
 * Token is one lexical unit. `synthetic` marks a `;` that stands for a line break (see lex);
 * `comment` is the text of the `/** ... *\/` doc comments written just before the token, if any.
 */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: SourcePosition;
  readonly synthetic: boolean;
  readonly comment: string | undefined;
}

// As in SpiceDB's lexer (and Go's), a line break ends a statement when the token before it can
// end one. This is what makes `relation a: user relation b: user` (one line) an error while
// `permission p = a +` followed by `b` on the next line is one expression.
const ENDS_STATEMENT: ReadonlySet<TokenKind> = new Set<TokenKind>(["identifier", "number", ")", "*", "}"]);

const PUNCTUATION: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  ["{", "{"],
  ["}", "}"],
  ["(", "("],
  [")", ")"],
  ["<", "<"],
  [">", ">"],
  [",", ","],
  [":", ":"],
  [";", ";"],
  ["|", "|"],
  ["#", "#"],
  ["*", "*"],
  ["+", "+"],
  ["&", "&"],
  [".", "."],
  ["=", "="],
]);

/**
 * lex splits schema text into tokens, ending with `eof`. Comments are dropped except doc comments,
 * which ride on the next token. A line break after a token that can end a statement becomes a
 * synthetic `;`. The body of a caveat (`caveat name(...) { ... }`) becomes one `cel` token holding
 * the text between the braces, found by balancing braces outside CEL string literals.
 * Throws SchemaError at the first character that cannot start a token.
 */
export function lex(source: string, fileName: string): Token[] {
  return new Lexer(source, fileName).run();
}

class Lexer {
  readonly #source: string;
  readonly #fileName: string;
  readonly #tokens: Token[] = [];
  #offset = 0;
  #line = 1;
  #column = 1;
  #pendingComment: string | undefined;
  #depth = 0;
  #awaitingCaveatBody = false;

  constructor(source: string, fileName: string) {
    this.#source = source;
    this.#fileName = fileName;
  }

  run(): Token[] {
    for (;;) {
      const char = this.#source[this.#offset];
      if (char === undefined) break;
      if (char === "\n") {
        this.#lineBreak();
        this.#advance(1);
      } else if (char === " " || char === "\t" || char === "\r" || char === "\uFEFF") {
        this.#advance(1);
      } else if (this.#source.startsWith("//", this.#offset)) {
        while (this.#offset < this.#source.length && this.#source[this.#offset] !== "\n") this.#advance(1);
      } else if (this.#source.startsWith("/*", this.#offset)) {
        this.#blockComment();
      } else if (/[A-Za-z_]/.test(char)) {
        this.#identifier();
      } else if (/[0-9]/.test(char)) {
        this.#number();
      } else if (this.#source.startsWith("->", this.#offset)) {
        this.#emit("->", "->", this.#position());
        this.#advance(2);
      } else if (char === "-") {
        this.#emit("-", "-", this.#position());
        this.#advance(1);
      } else if (char === "{" && this.#awaitingCaveatBody && this.#depth === 0) {
        this.#caveatBody();
      } else {
        const kind = PUNCTUATION.get(char);
        if (kind === undefined) {
          this.#fail(this.#position(), `unexpected character ${JSON.stringify(char)}`);
        }
        if (kind === "{") this.#depth++;
        if (kind === "}") this.#depth = Math.max(0, this.#depth - 1);
        this.#emit(kind, char, this.#position());
        this.#advance(1);
      }
    }
    this.#lineBreak();
    this.#emit("eof", "end of file", this.#position());
    return this.#tokens;
  }

  #position(): SourcePosition {
    return { line: this.#line, column: this.#column };
  }

  #advance(count: number): void {
    for (let i = 0; i < count; i++) {
      if (this.#source[this.#offset] === "\n") {
        this.#line++;
        this.#column = 1;
      } else {
        this.#column++;
      }
      this.#offset++;
    }
  }

  #emit(kind: TokenKind, text: string, position: SourcePosition, synthetic = false): void {
    const comment = synthetic ? undefined : this.#pendingComment;
    if (!synthetic) this.#pendingComment = undefined;
    this.#tokens.push({ kind, text, position, synthetic, comment });
  }

  #lineBreak(): void {
    const last = this.#tokens[this.#tokens.length - 1];
    if (last !== undefined && ENDS_STATEMENT.has(last.kind)) this.#emit(";", "end of line", this.#position(), true);
  }

  #identifier(): void {
    const start = this.#position();
    // A `/` joins path segments of a prefixed name (`org/user`); whether the name is valid is checked later.
    const match = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*/.exec(this.#source.slice(this.#offset, this.#offset + 1024));
    const text = match?.[0] ?? "";
    if (text === "caveat" && this.#depth === 0) this.#awaitingCaveatBody = true;
    this.#emit("identifier", text, start);
    this.#advance(text.length);
  }

  #number(): void {
    const start = this.#position();
    const text = /^[0-9][A-Za-z0-9_.]*/.exec(this.#source.slice(this.#offset, this.#offset + 1024))?.[0] ?? "";
    this.#emit("number", text, start);
    this.#advance(text.length);
  }

  #blockComment(): void {
    const start = this.#position();
    const end = this.#source.indexOf("*/", this.#offset + 2);
    if (end < 0) this.#fail(start, "comment is not closed: `/*` has no matching `*/`");
    const text = this.#source.slice(this.#offset, end + 2);
    // Line breaks inside a block comment do not end a statement (SpiceDB behaves the same way).
    this.#advance(text.length);
    if (text.startsWith("/**") && text !== "/**/") {
      const cleaned = cleanDocComment(text);
      this.#pendingComment = this.#pendingComment === undefined ? cleaned : `${this.#pendingComment}\n${cleaned}`;
    }
  }

  #caveatBody(): void {
    const open = this.#position();
    this.#awaitingCaveatBody = false;
    this.#emit("{", "{", open);
    this.#advance(1);
    const bodyStart = this.#position();
    const startOffset = this.#offset;
    let depth = 1;
    for (;;) {
      const char = this.#source[this.#offset];
      if (char === undefined) this.#fail(open, "caveat expression is not closed: `{` has no matching `}`");
      if (char === "{") depth++;
      if (char === "}") {
        depth--;
        if (depth === 0) break;
      }
      if (char === '"' || char === "'") {
        this.#celString();
        continue;
      }
      if (this.#source.startsWith("//", this.#offset)) {
        while (this.#offset < this.#source.length && this.#source[this.#offset] !== "\n") this.#advance(1);
        continue;
      }
      this.#advance(1);
    }
    this.#emit("cel", this.#source.slice(startOffset, this.#offset), bodyStart);
    this.#emit("}", "}", this.#position());
    this.#advance(1);
  }

  // Skips a CEL string literal so that braces inside it do not count: '..', "..", '''..''', """..""",
  // with backslash escapes unless the literal is raw (r"..").
  #celString(): void {
    const start = this.#position();
    const quote = this.#source[this.#offset] ?? "";
    const previous = this.#source[this.#offset - 1] ?? "";
    const raw = previous === "r" || previous === "R";
    const triple = this.#source.startsWith(quote.repeat(3), this.#offset);
    const close = triple ? quote.repeat(3) : quote;
    this.#advance(close.length);
    for (;;) {
      const char = this.#source[this.#offset];
      if (char === undefined || (char === "\n" && !triple)) this.#fail(start, "string literal in caveat expression is not closed");
      if (char === "\\" && !raw) {
        this.#advance(2);
        continue;
      }
      if (this.#source.startsWith(close, this.#offset)) {
        this.#advance(close.length);
        return;
      }
      this.#advance(1);
    }
  }

  #fail(position: SourcePosition, message: string): never {
    throw new SchemaError([{ fileName: this.#fileName, line: position.line, column: position.column, message }]);
  }
}

/** cleanDocComment strips the `/**`, `*\/` and leading ` * ` of each line of a doc comment. */
function cleanDocComment(text: string): string {
  return text
    .slice(3, -2)
    .split("\n")
    .map((line) => line.replace(/^\s*\*?\s?/, "").trimEnd())
    .join("\n")
    .trim();
}
