import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";
import { readFlagFile } from "./read-flag-file.ts";
import { UsageError } from "./usage-error.ts";

/**
 * ConfigFileSettings are the settings of a configuration file by flag long name (without `--`),
 * each as the text the flag would carry: `port: 50051` is `{ port: "50051" }`.
 */
export type ConfigFileSettings = Readonly<Record<string, string>>;

/**
 * parseConfigFile reads a YAML mapping of flag long names to values, for example
 *
 *   port: 50051
 *   tls-cert: /etc/mandate/server.pem
 *   gc-window: 7d
 *
 * Values are strings, numbers or booleans (turned into the text a flag would carry); a key with no
 * value is left unset. Throws UsageError naming `file`, the line and the key at fault for a key not
 * in `knownKeys`, a list or mapping as a value, a repeated key, or YAML that is not a mapping.
 */
export function parseConfigFile(text: string, file: string, knownKeys: readonly string[]): ConfigFileSettings {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const where = (node: YamlNode | null | undefined): string => `${file}:${node?.range ? lines.linePos(node.range[0]).line : 1}`;
  const [syntax] = document.errors;
  if (syntax !== undefined) throw new UsageError(`${file}:${syntax.linePos?.[0]?.line ?? 1}: ${syntax.message.split("\n")[0]}`, { field: "--config" });
  if (document.contents === null) return {};
  if (!isMap(document.contents)) throw new UsageError(`${where(document.contents)}: a configuration file is a mapping of flag names to values`, { field: "--config" });
  const settings: Record<string, string> = {};
  for (const pair of document.contents.items) {
    const keyNode = pair.key as YamlNode | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    if (key === undefined || !knownKeys.includes(key)) {
      const known = [...knownKeys].sort().join(", ");
      throw new UsageError(`${where(keyNode)}: unknown key "${key ?? String(keyNode)}" (the keys are the long names of mandate serve's flags: ${known})`, {
        field: key ?? "--config",
      });
    }
    const valueNode = pair.value as YamlNode | null;
    if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) continue;
    if (!isScalar(valueNode) || !["string", "number", "boolean"].includes(typeof valueNode.value)) {
      throw new UsageError(`${where(valueNode)}: "${key}" must be a single value (text, number or true/false)`, { field: key });
    }
    settings[key] = String(valueNode.value);
  }
  return settings;
}

/**
 * readConfigFile reads and parses the configuration file at `path` (relative to `cwd`); see
 * parseConfigFile. Throws UsageError naming --config when the file cannot be read.
 */
export function readConfigFile(path: string, cwd: string, knownKeys: readonly string[]): ConfigFileSettings {
  return parseConfigFile(readFlagFile(path, "--config/MANDATE_CONFIG", cwd).toString("utf8"), path, knownKeys);
}
