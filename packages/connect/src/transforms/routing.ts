/** The topic-changing and filtering SMTs: RegexRouter, TimestampRouter, Filter, and the predicates. */
import { ConfigDef, ConfigException } from '../api/config-def.js';
import type { ConnectRecord } from '../data/schema.js';
import type { Predicate, Transformation } from './transformation.js';
import { compileDateFormat, formatDate } from './date-format.js';
import { requiredConfig } from './record-part.js';

/** Java's Pattern.matches: the whole string must match. */
function fullMatch(pattern: string, key: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new ConfigException(key, `Invalid value ${pattern} for configuration ${key}: Invalid regex: ${(err as Error).message}`);
  }
}

const regexRouterDef = new ConfigDef()
  .define({ name: 'regex', type: 'STRING', importance: 'HIGH', documentation: 'Regular expression to use for matching.' })
  .define({ name: 'replacement', type: 'STRING', importance: 'HIGH', documentation: 'Replacement string.' });

export class RegexRouter implements Transformation {
  private regex = /$^/;
  private replacement = '';
  config(): ConfigDef { return regexRouterDef; }
  configure(props: Record<string, string>): void {
    regexRouterDef.parse(props);
    this.regex = fullMatch(props.regex, 'regex');
    this.replacement = props.replacement;
  }
  apply<R extends ConnectRecord>(record: R): R | null {
    if (!this.regex.test(record.topic)) return record;
    return { ...record, topic: record.topic.replace(this.regex, this.replacement) };
  }
  close(): void {}
}

const timestampRouterDef = new ConfigDef()
  .define({ name: 'topic.format', type: 'STRING', defaultValue: '${topic}-${timestamp}', importance: 'HIGH', documentation: 'Format string which can contain ${topic} and ${timestamp} as placeholders' })
  .define({ name: 'timestamp.format', type: 'STRING', defaultValue: 'yyyyMMdd', importance: 'HIGH', documentation: 'Format string for the timestamp that is compatible with java.text.SimpleDateFormat' });

export class TimestampRouter implements Transformation {
  private topicFormat = '${topic}-${timestamp}';
  private format = compileDateFormat('yyyyMMdd');
  config(): ConfigDef { return timestampRouterDef; }
  configure(props: Record<string, string>): void {
    const v = timestampRouterDef.parse(props);
    this.topicFormat = v['topic.format'] as string;
    this.format = compileDateFormat(v['timestamp.format'] as string);
  }
  apply<R extends ConnectRecord>(record: R): R | null {
    if (record.timestamp === null) throw new Error(`Timestamp missing on record: ${record.topic}`);
    const ts = formatDate(this.format, new Date(record.timestamp));
    return { ...record, topic: this.topicFormat.replaceAll('${topic}', record.topic).replaceAll('${timestamp}', ts) };
  }
  close(): void {}
}

/** Drops every record it sees; used with a predicate to drop the matching ones. */
export class Filter implements Transformation {
  config(): ConfigDef { return new ConfigDef(); }
  configure(): void {}
  apply<R extends ConnectRecord>(): R | null { return null; }
  close(): void {}
}

const topicNameDef = new ConfigDef().define({ name: 'pattern', type: 'STRING', importance: 'MEDIUM', documentation: 'A Java regular expression for matching against the name of a record\'s topic.' });

export class TopicNameMatches implements Predicate {
  private pattern = /$^/;
  config(): ConfigDef { return topicNameDef; }
  configure(props: Record<string, string>): void {
    this.pattern = fullMatch(requiredConfig(props, 'pattern'), 'pattern');
  }
  test(record: ConnectRecord): boolean { return this.pattern.test(record.topic); }
  close(): void {}
}

const hasHeaderDef = new ConfigDef().define({ name: 'name', type: 'STRING', importance: 'MEDIUM', documentation: 'The header name.' });

export class HasHeaderKey implements Predicate {
  private name = '';
  config(): ConfigDef { return hasHeaderDef; }
  configure(props: Record<string, string>): void { this.name = requiredConfig(props, 'name'); }
  test(record: ConnectRecord): boolean { return record.headers.some((h) => h.key === this.name); }
  close(): void {}
}

export class RecordIsTombstone implements Predicate {
  config(): ConfigDef { return new ConfigDef(); }
  configure(): void {}
  test(record: ConnectRecord): boolean { return record.value === null || record.value === undefined; }
  close(): void {}
}
