import { parseRelationship } from "../tuple/index.ts";
import type { Relationship } from "../tuple/index.ts";
import { UsageError } from "./usage-error.ts";

/**
 * parseRelationshipLines parses relationships written one per line in SpiceDB's text form, as in
 * a validation file's `relationships:` block: blank lines and lines starting with `//` are
 * skipped. Throws UsageError listing every bad line as `source:line: message`.
 */
export function parseRelationshipLines(text: string, source: string): Relationship[] {
  const relationships: Relationship[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("//")) return;
    try {
      relationships.push(parseRelationship(line));
    } catch (error) {
      problems.push(`${source}:${index + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (problems.length > 0) throw new UsageError(problems.join("\n"));
  return relationships;
}
