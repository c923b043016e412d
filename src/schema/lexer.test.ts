import { describe, expect, it } from "vitest";
import { lex } from "./lexer.ts";
import { SchemaError } from "./errors.ts";

const kinds = (source: string): string[] => lex(source, "t.zed").map((token) => (token.synthetic ? "NL" : token.kind === "identifier" ? token.text : token.kind));

describe("lex", () => {
  it.each<[string, string, string[]]>([
    ["a line break after a name ends the statement", "relation viewer: user\n", ["relation", "viewer", ":", "user", "NL", "eof"]],
    ["a line break after an operator does not", "view = aaa +\n bbb", ["view", "=", "aaa", "+", "bbb", "NL", "eof"]],
    ["a line break after a pipe does not", "a: user |\n team", ["a", ":", "user", "|", "team", "NL", "eof"]],
    ["a line break after a wildcard does", "user:*\n", ["user", ":", "*", "NL", "eof"]],
    ["a line break after a closing parenthesis does", "(aaa)\n", ["(", "aaa", ")", "NL", "eof"]],
    ["a line comment keeps the line break", "aaa // note\nbbb", ["aaa", "NL", "bbb", "NL", "eof"]],
    ["a block comment hides its line breaks", "aaa /* one\ntwo */ + bbb", ["aaa", "+", "bbb", "NL", "eof"]],
    ["an arrow is one token and a minus another", "aaa->bbb - ccc", ["aaa", "->", "bbb", "-", "ccc", "NL", "eof"]],
    ["a prefixed name is one identifier", "acme/eng/user", ["acme/eng/user", "NL", "eof"]],
    ["a number with its unit letters is one token and ends a statement", "max_lifetime 1h30m\nmax_chain 2", ["max_lifetime", "number", "NL", "max_chain", "number", "NL", "eof"]],
  ])("%s", (_, source, expected) => {
    expect(kinds(source)).toEqual(expected);
  });

  it("turns a caveat body into one cel token, braces inside strings and maps included", () => {
    const tokens = lex('caveat cav(num int) {\n  num == 1 && {"}": "{"} != {} && \'}\' != r"\\}"\n}\ndefinition user {}', "t.zed");
    const cel = tokens.find((token) => token.kind === "cel");
    expect(cel?.text).toBe('\n  num == 1 && {"}": "{"} != {} && \'}\' != r"\\}"\n');
    expect(cel?.position).toEqual({ line: 1, column: 22 });
    expect(tokens.filter((token) => token.kind === "identifier").map((token) => token.text)).toEqual(["caveat", "cav", "num", "int", "definition", "user"]);
  });

  it("attaches doc comments, cleaned of their markers, to the next token only", () => {
    const tokens = lex("/**\n * First line.\n * Second line.\n */\ndefinition user {}\n/* plain */ // plain\ndefinition team {}", "t.zed");
    const definitions = tokens.filter((token) => token.text === "definition");
    expect(definitions.map((token) => token.comment)).toEqual(["First line.\nSecond line.", undefined]);
  });

  it("records 1-based lines and columns", () => {
    const tokens = lex("definition user {}\n  definition team {}", "t.zed");
    expect(tokens.find((token) => token.text === "team")?.position).toEqual({ line: 2, column: 14 });
  });

  it.each<[string, string, number, number, string]>([
    ["an unclosed block comment", "aaa /* b", 1, 5, "comment is not closed"],
    ["an unclosed caveat body", "caveat cav(num int) { num == 1", 1, 21, "caveat expression is not closed"],
    ["an unclosed string in a caveat body", 'caveat cav(num int) { "abc\n }', 1, 23, "string literal in caveat expression is not closed"],
    ["a character outside the language", "definition user { ! }", 1, 19, 'unexpected character "!"'],
  ])("rejects %s with its position", (_, source, line, column, message) => {
    expect(() => lex(source, "t.zed")).toThrowError(SchemaError);
    try {
      lex(source, "t.zed");
    } catch (error) {
      expect((error as SchemaError).diagnostics).toEqual([{ fileName: "t.zed", line, column, message: expect.stringContaining(message) }]);
    }
  });
});
