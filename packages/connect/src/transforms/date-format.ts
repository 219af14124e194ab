/**
 * The part of Java's SimpleDateFormat that Connect configs use (TimestampConverter's `format`,
 * TimestampRouter's `timestamp.format`): yyyy yy MM dd HH mm ss SSS, 'quoted' literals, Z/X
 * offsets, always in UTC as Connect's transforms are.
 */
import { ConfigException } from '../api/config-def.js';

type Token = { kind: 'field'; letter: string; width: number } | { kind: 'literal'; text: string };

const LETTERS = new Set(['y', 'M', 'd', 'H', 'm', 's', 'S', 'Z', 'X']);

export function compileDateFormat(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new ConfigException(null, `Unterminated quote in date format ${pattern}`);
      tokens.push({ kind: 'literal', text: end === i + 1 ? "'" : pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      if (!LETTERS.has(c)) throw new ConfigException(null, `Illegal pattern character '${c}' in date format ${pattern}`);
      let j = i;
      while (pattern[j] === c) j++;
      tokens.push({ kind: 'field', letter: c, width: j - i });
      i = j;
    } else {
      tokens.push({ kind: 'literal', text: c });
      i++;
    }
  }
  return tokens;
}

export function formatDate(tokens: Token[], date: Date): string {
  return tokens
    .map((t) => {
      if (t.kind === 'literal') return t.text;
      const pad = (n: number) => String(n).padStart(t.width, '0');
      switch (t.letter) {
        case 'y': return t.width === 2 ? String(date.getUTCFullYear() % 100).padStart(2, '0') : pad(date.getUTCFullYear());
        case 'M': return pad(date.getUTCMonth() + 1);
        case 'd': return pad(date.getUTCDate());
        case 'H': return pad(date.getUTCHours());
        case 'm': return pad(date.getUTCMinutes());
        case 's': return pad(date.getUTCSeconds());
        case 'S': return String(date.getUTCMilliseconds()).padStart(3, '0').slice(0, Math.max(3, t.width)).padEnd(t.width, '0');
        case 'Z': return '+0000';
        default: return 'Z';
      }
    })
    .join('');
}

export function parseDate(tokens: Token[], text: string): Date {
  let pos = 0;
  const parts = { y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0, S: 0 };
  let offsetMinutes = 0;
  const fail = () => new Error(`Could not parse timestamp: value (${text}) does not match pattern`);
  for (const t of tokens) {
    if (t.kind === 'literal') {
      if (!text.startsWith(t.text, pos)) throw fail();
      pos += t.text.length;
      continue;
    }
    if (t.letter === 'Z' || t.letter === 'X') {
      if (text[pos] === 'Z') { pos++; continue; }
      const m = /^([+-])(\d{2}):?(\d{2})?/.exec(text.slice(pos));
      if (!m) throw fail();
      offsetMinutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
      pos += m[0].length;
      continue;
    }
    const m = /^\d+/.exec(text.slice(pos));
    if (!m) throw fail();
    const digits = t.width > 1 && t.letter !== 'y' ? m[0].slice(0, t.width) : m[0];
    pos += digits.length;
    parts[t.letter as keyof typeof parts] = Number(digits);
  }
  if (pos !== text.length) throw fail();
  return new Date(Date.UTC(parts.y, parts.M - 1, parts.d, parts.H, parts.m, parts.s, parts.S) - offsetMinutes * 60_000);
}
