/**
 * Which classes a config may name. Built-ins answer to Kafka's full class names, their simple
 * names and Connect's aliases (`FileStreamSource`); packages under `plugin.path` add theirs by
 * exported class name.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connector, type ConnectorConstructor } from '../api/connector.js';
import type { Converter, HeaderConverter } from '../converters/converter.js';
import { StringConverter } from '../converters/string-converter.js';
import { ByteArrayConverter } from '../converters/byte-array-converter.js';
import { JsonConverter } from '../converters/json-converter.js';
import { SimpleHeaderConverter } from '../converters/simple-header-converter.js';
import { FileStreamSinkConnector, FileStreamSourceConnector } from '../connectors/file-stream.js';
import { SpoolDirCsvSourceConnector, SpoolDirJsonSourceConnector, SpoolDirLineDelimitedSourceConnector } from '../connectors/spooldir/connectors.js';
import type { PredicateConstructor, TransformationConstructor } from '../transforms/transformation.js';
import { InsertFieldKey, InsertFieldValue, ReplaceFieldKey, ReplaceFieldValue, MaskFieldKey, MaskFieldValue, ValueToKey, ExtractFieldKey, ExtractFieldValue } from '../transforms/field-transforms.js';
import { CastKey, CastValue } from '../transforms/cast.js';
import { TimestampConverterKey, TimestampConverterValue } from '../transforms/timestamp-converter.js';
import { Filter, HasHeaderKey, RecordIsTombstone, RegexRouter, TimestampRouter, TopicNameMatches } from '../transforms/routing.js';
import { CONNECT_VERSION } from '../version.js';

export type ConverterConstructor = new () => Converter;
export type HeaderConverterConstructor = new () => HeaderConverter;

export interface ConnectorPlugin {
  className: string;
  type: 'source' | 'sink';
  version: string;
  ctor: ConnectorConstructor;
}

const T = 'org.apache.kafka.connect.transforms.';

export class Plugins {
  private readonly connectors = new Map<string, ConnectorPlugin>();
  private readonly converters = new Map<string, ConverterConstructor>();
  private readonly headerConverters = new Map<string, HeaderConverterConstructor>();
  private readonly transforms = new Map<string, TransformationConstructor>();
  private readonly predicates = new Map<string, PredicateConstructor>();
  private readonly listed: ConnectorPlugin[] = [];

  constructor() {
    this.addConnector('org.apache.kafka.connect.file.FileStreamSourceConnector', FileStreamSourceConnector);
    this.addConnector('org.apache.kafka.connect.file.FileStreamSinkConnector', FileStreamSinkConnector);
    this.addConnector('com.github.jcustenborder.kafka.connect.spooldir.SpoolDirCsvSourceConnector', SpoolDirCsvSourceConnector);
    this.addConnector('com.github.jcustenborder.kafka.connect.spooldir.SpoolDirJsonSourceConnector', SpoolDirJsonSourceConnector);
    this.addConnector('com.github.jcustenborder.kafka.connect.spooldir.SpoolDirLineDelimitedSourceConnector', SpoolDirLineDelimitedSourceConnector);
    for (const [name, ctor] of [
      ['org.apache.kafka.connect.storage.StringConverter', StringConverter],
      ['org.apache.kafka.connect.converters.ByteArrayConverter', ByteArrayConverter],
      ['org.apache.kafka.connect.json.JsonConverter', JsonConverter],
    ] as const) this.addAliases(this.converters, name, ctor);
    this.addAliases(this.headerConverters, 'org.apache.kafka.connect.storage.SimpleHeaderConverter', SimpleHeaderConverter);
    this.addAliases(this.headerConverters, 'org.apache.kafka.connect.storage.StringConverter', StringHeaderConverter);
    const transforms: Array<[string, TransformationConstructor]> = [
      ['InsertField$Key', InsertFieldKey], ['InsertField$Value', InsertFieldValue],
      ['ReplaceField$Key', ReplaceFieldKey], ['ReplaceField$Value', ReplaceFieldValue],
      ['MaskField$Key', MaskFieldKey], ['MaskField$Value', MaskFieldValue],
      ['ValueToKey', ValueToKey],
      ['ExtractField$Key', ExtractFieldKey], ['ExtractField$Value', ExtractFieldValue],
      ['Cast$Key', CastKey], ['Cast$Value', CastValue],
      ['TimestampConverter$Key', TimestampConverterKey], ['TimestampConverter$Value', TimestampConverterValue],
      ['RegexRouter', RegexRouter], ['TimestampRouter', TimestampRouter], ['Filter', Filter],
    ];
    for (const [name, ctor] of transforms) this.addAliases(this.transforms, T + name, ctor);
    for (const [name, ctor] of [['TopicNameMatches', TopicNameMatches], ['HasHeaderKey', HasHeaderKey], ['RecordIsTombstone', RecordIsTombstone]] as const) {
      this.addAliases(this.predicates, T + 'predicates.' + name, ctor);
    }
  }

  private addAliases<C>(map: Map<string, C>, className: string, ctor: C): void {
    map.set(className, ctor);
    const simple = className.slice(className.lastIndexOf('.') + 1);
    map.set(simple, ctor);
  }

  addConnector(className: string, ctor: ConnectorConstructor): void {
    const probe = new ctor();
    const plugin: ConnectorPlugin = { className, type: probe.type, version: probe.version(), ctor };
    this.listed.push(plugin);
    const simple = className.slice(className.lastIndexOf('.') + 1);
    for (const alias of [className, simple, simple.replace(/Connector$/, '')]) this.connectors.set(alias, plugin);
  }

  connectorPlugins(): ConnectorPlugin[] {
    return [...this.listed].sort((a, b) => a.className.localeCompare(b.className));
  }

  connector(name: string): ConnectorPlugin | undefined {
    return this.connectors.get(name.trim());
  }

  newConverter(name: string): Converter {
    const ctor = this.converters.get(name.trim());
    if (!ctor) throw new Error(`Class ${name} could not be found.`);
    return new ctor();
  }

  newHeaderConverter(name: string): HeaderConverter {
    const ctor = this.headerConverters.get(name.trim());
    if (!ctor) throw new Error(`Class ${name} could not be found.`);
    return new ctor();
  }

  transformation(name: string): TransformationConstructor | undefined {
    return this.transforms.get(name.trim());
  }

  predicate(name: string): PredicateConstructor | undefined {
    return this.predicates.get(name.trim());
  }

  /**
   * Loads every package directory (with a package.json) found in the `plugin.path` entries and
   * registers its exported connector classes, converters, transforms and predicates by name.
   */
  async loadPluginPath(paths: string[]): Promise<void> {
    for (const entry of paths) {
      const root = resolve(entry);
      const candidates = statSync(root).isDirectory() && isPackage(root) ? [root] : readdirSync(root).map((d) => join(root, d)).filter((d) => statSync(d).isDirectory() && isPackage(d));
      for (const dir of candidates) {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main?: string; exports?: unknown };
        const main = typeof pkg.exports === 'string' ? pkg.exports : pkg.main ?? 'index.js';
        const mod = (await import(pathToFileURL(join(dir, main)).href)) as Record<string, unknown>;
        for (const [exportName, value] of Object.entries(mod)) {
          if (typeof value !== 'function') continue;
          const proto = (value as { prototype?: unknown }).prototype;
          // instanceof when the plugin shares this @sluice/connect; the shape when it brought its own copy.
          const looksLikeConnector = proto instanceof Connector || (proto && typeof (proto as Record<string, unknown>).taskConfigs === 'function' && typeof (proto as Record<string, unknown>).taskClass === 'function');
          if (looksLikeConnector) this.addConnector(exportName, value as ConnectorConstructor);
          else if (proto && typeof (proto as Record<string, unknown>).fromConnectData === 'function') this.converters.set(exportName, value as ConverterConstructor);
          else if (proto && typeof (proto as Record<string, unknown>).apply === 'function') this.transforms.set(exportName, value as TransformationConstructor);
          else if (proto && typeof (proto as Record<string, unknown>).test === 'function') this.predicates.set(exportName, value as PredicateConstructor);
        }
      }
    }
  }
}

function isPackage(dir: string): boolean {
  try {
    return statSync(join(dir, 'package.json')).isFile();
  } catch {
    return false;
  }
}

/** StringConverter used as a header converter (Kafka allows it): headers as UTF-8 strings. */
class StringHeaderConverter implements HeaderConverter {
  private readonly inner = new StringConverter();
  configure(): void {}
  fromConnectHeader(topic: string, _key: string, schema: import('../data/schema.js').Schema | null, value: unknown): Buffer | null {
    return this.inner.fromConnectData(topic, schema, value);
  }
  toConnectHeader(topic: string, _key: string, bytes: Buffer | null) {
    return this.inner.toConnectData(topic, bytes);
  }
}

export { CONNECT_VERSION };
