/**
 * A parser for Java `.properties` text, the format of Kafka's `server.properties`: `#`/`!`
 * comments, `key=value`, `key: value` and `key value`, backslash line continuations, and the
 * `\t \n \r \f \uXXXX` escapes. Later duplicates win, as in java.util.Properties.
 */
export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts, for error messages. */
  line: number;
}

export class PropertiesSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'PropertiesSyntaxError';
  }
}

export function parseProperties(text: string): PropertyEntry[] {
  const physical = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  for (let i = 0; i < physical.length; i++) {
    const startLine = i + 1;
    let line = stripLeadingWhitespace(physical[i]);
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    // Join continuation lines: an odd number of trailing backslashes escapes the line break.
    while (endsWithOddBackslashes(line) && i + 1 < physical.length) {
      i++;
      line = line.slice(0, -1) + stripLeadingWhitespace(physical[i]);
    }
    if (endsWithOddBackslashes(line)) line = line.slice(0, -1);
    const { key, value } = splitKeyValue(line, startLine);
    entries.push({ key, value, line: startLine });
  }
  return entries;
}

function stripLeadingWhitespace(s: string): string {
  return s.replace(/^[ \t\f]+/, '');
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function splitKeyValue(line: string, lineNo: number): { key: string; value: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
    i++;
  }
  const rawKey = line.slice(0, Math.min(i, line.length));
  let j = i;
  while (j < line.length && (line[j] === ' ' || line[j] === '\t' || line[j] === '\f')) j++;
  if (j < line.length && (line[j] === '=' || line[j] === ':')) {
    j++;
    while (j < line.length && (line[j] === ' ' || line[j] === '\t' || line[j] === '\f')) j++;
  }
  return { key: unescape(rawKey, lineNo), value: unescape(line.slice(j), lineNo) };
}

function unescape(s: string, lineNo: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = s[++i];
    switch (next) {
      case undefined:
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError(`malformed \\u escape "\\u${hex}"`, lineNo);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        out += next;
    }
  }
  return out;
}
