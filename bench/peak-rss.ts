// The peak resident set of the current process, from Linux's /proc (VmHWM), and its reset.
import { readFileSync, writeFileSync } from "node:fs";

/** peakRssBytes is this process's peak RSS (VmHWM) since it started or since resetPeakRss; 0 where /proc has none. */
export function peakRssBytes(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

/**
 * resetPeakRss sets the peak (VmHWM) back to the current RSS, so that the next peakRssBytes is the
 * peak of what follows (writing "5" to clear_refs, Linux ≥ 4.0); false where that is refused.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}
