import { parseArgs } from "node:util";
import { parseWholeDuration } from "../schema/index.ts";
import { UsageError } from "./usage-error.ts";

/** OptionSpec declares one flag; `short` is a one-letter alias. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
}

/** ParsedCommandLine is the flags (by long name) and the positional arguments, in order. */
export interface ParsedCommandLine {
  readonly values: Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * parseCommandLine parses `args` strictly against `options` (every command also knows `--help`).
 * Unknown flags, a string flag without a value, and a boolean flag given a value throw UsageError.
 * `--name=value` and `--name value` are both accepted; `--` ends the flags.
 */
export function parseCommandLine(args: readonly string[], options: Readonly<Record<string, OptionSpec>>): ParsedCommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (error) {
    // node:util reports these with codes ERR_PARSE_ARGS_*; its messages already name the flag.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.split("\n")[0] ?? message, { cause: error });
  }
}

/** stringOption returns the flag's value if it is a string, else undefined. */
export function stringOption(parsed: ParsedCommandLine, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

/** booleanOption returns true when the boolean flag was given. */
export function booleanOption(parsed: ParsedCommandLine, name: string): boolean {
  return parsed.values[name] === true;
}

/**
 * settingOf picks a setting's value: the flag if given, else the environment variable if set and
 * non-empty, else the default. Flags win over the environment so that one run can override a
 * deployment's settings.
 */
export function settingOf(flag: string | undefined, env: string | undefined, fallback: string): string;
export function settingOf(flag: string | undefined, env: string | undefined, fallback?: undefined): string | undefined;
export function settingOf(flag: string | undefined, env: string | undefined, fallback?: string): string | undefined {
  if (flag !== undefined) return flag;
  if (env !== undefined && env !== "") return env;
  return fallback;
}

/**
 * parseIntegerSetting parses a whole number within [min, max]; `name` names the flag (and its
 * environment variable) in the error.
 */
export function parseIntegerSetting(text: string, name: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) {
    throw new UsageError(`${name}: "${text}" is not a whole number`, { field: name });
  }
  const value = Number(text.trim());
  if (value < min || value > max) {
    throw new UsageError(`${name}: ${value} is out of range (${min}..${max})`, { field: name });
  }
  return value;
}

/**
 * expectPositionals checks the number of positional arguments; `usage` is the command's synopsis,
 * quoted in the error.
 */
export function expectPositionals(parsed: ParsedCommandLine, min: number, max: number, usage: string): readonly string[] {
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError(`missing argument (usage: ${usage})`);
  if (count > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}" (usage: ${usage})`);
  return parsed.positionals;
}

/**
 * parseDurationFlag reads a duration such as `2h`, `30m`, `1d12h`, `90s` (units d, h, m, s, each
 * at most once, largest first: parseWholeDuration) as milliseconds; zero is refused.
 */
export function parseDurationFlag(text: string, flag: string): number {
  const total = parseWholeDuration(text.trim());
  if (total === undefined || !Number.isSafeInteger(total)) {
    throw new UsageError(`${flag}: "${text}" is not a duration such as 2h, 30m or 1d12h`, { field: flag });
  }
  return total;
}
