// What the benchmark runners share on the command line and the console.

/** integerFlag reads `text` as an integer in [min, max], or throws naming `flag` (followed by `usage`, when given). */
export function integerFlag(text: string, flag: string, min: number, max: number, usage?: string): number {
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new Error(`${flag}: "${text}" is not an integer in [${min}, ${max}]${usage === undefined ? "" : `\n${usage}`}`);
  }
  return value;
}

/** secondsSince is the time since `since` (performance.now()) in seconds, one decimal. */
export function secondsSince(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

/** log writes one line to stdout. */
export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
