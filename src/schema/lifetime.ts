// The durations of a delegation's `max_lifetime`: whole days, hours, minutes and seconds.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS: readonly (readonly [string, number])[] = [
  ["d", DAY],
  ["h", HOUR],
  ["m", MINUTE],
  ["s", SECOND],
];

/**
 * MAX_LIFETIME_LIMIT_MS is the longest `max_lifetime` a schema may declare (3650d, about ten
 * years): beyond it an expiry computed from it could leave the range of a Date.
 */
export const MAX_LIFETIME_LIMIT_MS = 3650 * DAY;

/**
 * parseLifetime reads `30d`, `12h`, `1h30m`, `2d12h30m15s` (each unit at most once, largest
 * first) as milliseconds; it returns undefined for any other text, for zero and for more than
 * MAX_LIFETIME_LIMIT_MS.
 */
export function parseLifetime(text: string): number | undefined {
  const total = parseWholeDuration(text);
  return total !== undefined && total <= MAX_LIFETIME_LIMIT_MS ? total : undefined;
}

/**
 * parseWholeDuration reads a duration as parseLifetime does (`2h`, `30m`, `1d12h`, `90s`: units d, h,
 * m, s, each at most once, largest first) as milliseconds, without its upper bound; undefined for
 * any other text and for zero.
 */
export function parseWholeDuration(text: string): number | undefined {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (match === null || text === "") return undefined;
  let total = 0;
  UNITS.forEach(([, unit], index) => {
    total += Number(match[index + 1] ?? 0) * unit;
  });
  return total > 0 ? total : undefined;
}

/**
 * formatLifetime writes milliseconds the way parseLifetime reads them (`30d`, `1h30m`), with a
 * trailing `ms` part for a remainder below a second (`1s500ms`) and `0s` for zero.
 */
export function formatLifetime(milliseconds: number): string {
  let rest = Math.max(0, Math.round(milliseconds));
  let text = "";
  for (const [name, unit] of UNITS) {
    const count = Math.floor(rest / unit);
    if (count > 0) text += `${count}${name}`;
    rest -= count * unit;
  }
  if (rest > 0) text += `${rest}ms`;
  return text === "" ? "0s" : text;
}
