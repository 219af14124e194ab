/**
 * Kafka-style command-line options, as Kafka's shell tools (jopt-simple) accept them:
 * `--flag value`, `--flag=value`, repeatable options (`--property k=v --property k2=v2`), and
 * any unambiguous prefix of a long name (`--bootstrap` for `--bootstrap-server`).
 */
import { UsageError } from './errors.js';

/** `multi`: like `list`, and also takes the following arguments up to the next option (`--producer-props a=1 b=2`). */
export type OptionKind = 'flag' | 'value' | 'list' | 'multi';

export interface OptionSpec {
  name: string;
  kind: OptionKind;
  help: string;
  /** Placeholder shown in --help, e.g. `<topic>`. */
  arg?: string;
  /** Other names accepted for this option (Kafka's older spellings, e.g. --broker-list). */
  aliases?: string[];
  /** Shown in --help; parsing does not apply it (commands decide defaults in context). */
  defaultText?: string;
}

export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, string[]>,
    readonly positionals: readonly string[],
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The option's value; undefined when not given. */
  value(name: string): string | undefined {
    const all = this.values.get(name);
    return all ? all[all.length - 1] : undefined;
  }

  /** Every value of a repeatable option, in order. */
  list(name: string): string[] {
    return [...(this.values.get(name) ?? [])];
  }

  required(name: string, why?: string): string {
    const v = this.value(name);
    if (v === undefined) throw new UsageError(`missing required option --${name}${why ? ` (${why})` : ''}`);
    return v;
  }

  int(name: string, options: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.value(name);
    if (raw === undefined) return undefined;
    return parseIntOption(name, raw, options);
  }

  bigint(name: string): bigint | undefined {
    const raw = this.value(name);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be a whole number, not "${raw}"`);
    return BigInt(raw.trim());
  }

  /** Names of the given options among `names` (to check "exactly one of"). */
  present(names: readonly string[]): string[] {
    return names.filter((n) => this.has(n));
  }
}

export function parseIntOption(name: string, raw: string, options: { min?: number; max?: number } = {}): number {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, not "${raw}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} is out of range: ${raw}`);
  if (options.min !== undefined && n < options.min) throw new UsageError(`--${name} must be at least ${options.min}, not ${n}`);
  if (options.max !== undefined && n > options.max) throw new UsageError(`--${name} must be at most ${options.max}, not ${n}`);
  return n;
}

/** Parses `args` against `specs`. Throws UsageError naming the bad option and the likely intent. */
export function parseArgs(args: readonly string[], specs: readonly OptionSpec[], options: { positionals?: boolean } = {}): ParsedArgs {
  const byName = new Map<string, OptionSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg === '-h') {
        values.set('help', ['true']);
        continue;
      }
      if (!options.positionals) {
        const previous = i > 0 ? args[i - 1] : undefined;
        const hint = previous?.startsWith('--') ? `${previous.split('=')[0]} takes no value; did you mean another option?` : undefined;
        throw new UsageError(`unexpected argument "${arg}"`, hint);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const written = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = resolveOption(written, byName);
    let value: string;
    if (spec.kind === 'flag') {
      if (eq >= 0) {
        const v = arg.slice(eq + 1).toLowerCase();
        if (v !== 'true' && v !== 'false') throw new UsageError(`--${spec.name} is a switch and takes no value`);
        if (v === 'false') {
          values.delete(spec.name);
          continue;
        }
      }
      value = 'true';
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= args.length) throw new UsageError(`--${spec.name} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
      value = args[++i];
    }
    const existing = values.get(spec.name);
    if (existing && spec.kind === 'value' && existing[0] !== value) {
      throw new UsageError(`--${spec.name} was given twice ("${existing[0]}" and "${value}")`);
    }
    const collected = [value];
    if (spec.kind === 'multi') while (i + 1 < args.length && !args[i + 1].startsWith('--')) collected.push(args[++i]);
    if (existing && (spec.kind === 'list' || spec.kind === 'multi')) existing.push(...collected);
    else values.set(spec.name, collected);
  }
  return new ParsedArgs(values, positionals);
}

function resolveOption(written: string, byName: ReadonlyMap<string, OptionSpec>): OptionSpec {
  const exact = byName.get(written);
  if (exact) return exact;
  const candidates = new Set<OptionSpec>();
  for (const [name, spec] of byName) if (written.length > 0 && name.startsWith(written)) candidates.add(spec);
  if (candidates.size === 1) return [...candidates][0];
  if (candidates.size > 1) {
    const names = [...candidates].map((s) => `--${s.name}`).sort();
    throw new UsageError(`--${written} is ambiguous: it could be ${names.join(', ')}`);
  }
  const suggestion = closestName(written, [...byName.keys()]);
  throw new UsageError(`unknown option --${written}`, suggestion ? `did you mean --${suggestion}?` : undefined);
}

function closestName(written: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = editDistance(written, name);
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  // Only suggest when the typo is small relative to the name.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** Help text: usage line, description, then every option with its argument and meaning. */
export function renderHelp(usage: string, description: string, specs: readonly OptionSpec[]): string {
  const lines = [`usage: ${usage}`, '', description, '', 'Options:'];
  const left = specs.map((s) => `  --${s.name}${s.arg ? ` ${s.arg}` : ''}`);
  const width = Math.min(40, Math.max(...left.map((l) => l.length)) + 2);
  specs.forEach((spec, i) => {
    let help = spec.help;
    if (spec.kind === 'list' || spec.kind === 'multi') help += ' (repeatable)';
    if (spec.defaultText) help += ` (default: ${spec.defaultText})`;
    if (spec.aliases?.length) help += ` (also --${spec.aliases.join(', --')})`;
    const label = left[i];
    if (label.length + 1 > width) lines.push(label, `${' '.repeat(width)}${help}`);
    else lines.push(`${label.padEnd(width)}${help}`);
  });
  return lines.join('\n') + '\n';
}
