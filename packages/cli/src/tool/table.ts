/**
 * Plain-text output shapes: aligned tables (consumer-groups, get-offsets) and Kafka's
 * tab-separated `Key: value` lines (topics --describe), so scripts written for Kafka's tools
 * keep parsing our output.
 */
export type Cell = string | number | bigint | null | undefined;

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  return String(cell);
}

/** Columns separated by at least two spaces, headers first; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const texts = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...texts.map(line)].join('\n') + '\n';
}

/** `Key: value` pairs joined by tabs, Kafka's describe format. */
export function renderFields(fields: ReadonlyArray<readonly [string, Cell]>, indent = ''): string {
  return indent + fields.map(([k, v]) => `${k}: ${cellText(v)}`).join('\t');
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  // Buffers reach the replacer already converted by their toJSON.
  if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return v;
}

/** Indented JSON document with bigints as numbers when safe (strings otherwise), buffers as base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonValue, 2) + '\n';
}

/** One-line JSON (for JSON-lines output and inline fields), same conversions as toJson. */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, jsonValue);
}
