/**
 * Client properties from the places Kafka's tools take them: `--command-config FILE`,
 * `--producer.config FILE`, `--producer-property k=v`, `--property k=v`, `--add-config k=v,k2=[a,b]`.
 */
import { readFile } from 'node:fs/promises';
import { parseProperties, PropertiesSyntaxError } from '@sluice/broker';
import { ToolError, UsageError } from './errors.js';

export type Properties = Map<string, string>;

export async function loadPropertiesFile(path: string, optionName: string): Promise<Properties> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ToolError(
      `cannot read ${optionName} file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      2,
      `--${optionName} takes a Java properties file (key=value lines)`,
    );
  }
  try {
    return new Map(parseProperties(text).map((e) => [e.key, e.value]));
  } catch (err) {
    if (err instanceof PropertiesSyntaxError) throw new UsageError(`${path} ${err.message}`);
    throw err;
  }
}

/** `k=v` (one per option occurrence); a bare key is an error naming the option. */
export function parseKeyValues(entries: readonly string[], optionName: string): Properties {
  const out: Properties = new Map();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${optionName} takes key=value, not "${entry}"`);
    out.set(entry.slice(0, eq).trim(), entry.slice(eq + 1).trim());
  }
  return out;
}

/**
 * kafka-configs.sh's `--add-config` syntax: comma-separated `k=v`, where a value in square
 * brackets may itself contain commas (`k2=[a,b]` gives `a,b`; the SCRAM form keeps its brackets
 * for the caller to parse).
 */
export function parseConfigList(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new UsageError(`--add-config entry "${text.slice(i)}" has no "=": use key=value`);
    const key = text.slice(i, eq).trim();
    if (!key) throw new UsageError(`--add-config has an entry without a key near "${text.slice(i)}"`);
    let j = eq + 1;
    let value: string;
    if (text[j] === '[') {
      const close = text.indexOf(']', j);
      if (close < 0) throw new UsageError(`--add-config value for ${key} opens "[" without closing "]"`);
      value = text.slice(j + 1, close);
      j = close + 1;
      if (j < text.length && text[j] !== ',') throw new UsageError(`--add-config: expected "," after ]`);
    } else {
      const comma = text.indexOf(',', j);
      value = text.slice(j, comma < 0 ? text.length : comma);
      j = comma < 0 ? text.length : comma;
    }
    out.push([key, value.trim()]);
    i = j + 1;
  }
  return out;
}
