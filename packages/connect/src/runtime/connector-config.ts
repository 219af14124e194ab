/**
 * The framework's part of a connector config (Kafka's ConnectorConfig/SinkConnectorConfig):
 * name, class, tasks.max, converters, `transforms.*`/`predicates.*`, `errors.*`, and for sinks
 * `topics`/`topics.regex`. Builds the transformation chain and the validate endpoint's answer.
 */
import { ConfigDef, ConfigException, Validators, type ConfigKey, type ConfigValueReport } from '../api/config-def.js';
import type { ConnectRecord } from '../data/schema.js';
import type { Predicate, Transformation } from '../transforms/transformation.js';
import { withPrefix } from './worker-config.js';
import { transactionBoundaryOf } from './worker-task.js';
import { SourceConnector } from '../api/connector.js';
import type { Plugins, ConnectorPlugin } from './plugins.js';

const COMMON = 'Common';
const TRANSFORMS = 'Transforms';
const PREDICATES = 'Predicates';
const ERRORS = 'Error Handling';

function baseDef(): ConfigDef {
  return new ConfigDef()
    .define({ name: 'name', type: 'STRING', importance: 'HIGH', documentation: 'Globally unique name to use for this connector.', group: COMMON, orderInGroup: 1, displayName: 'Connector name', validator: Validators.nonEmptyString() })
    .define({ name: 'connector.class', type: 'STRING', importance: 'HIGH', documentation: 'Name or alias of the class for this connector.', group: COMMON, orderInGroup: 2, displayName: 'Connector class' })
    .define({ name: 'tasks.max', type: 'INT', defaultValue: 1, importance: 'HIGH', documentation: 'Maximum number of tasks to use for this connector.', group: COMMON, orderInGroup: 3, displayName: 'Tasks max', validator: Validators.atLeast(1) })
    .define({ name: 'key.converter', type: 'CLASS', defaultValue: null, importance: 'LOW', documentation: 'Converter class used for record keys; overrides the worker setting.', group: COMMON, orderInGroup: 4, displayName: 'Key converter class' })
    .define({ name: 'value.converter', type: 'CLASS', defaultValue: null, importance: 'LOW', documentation: 'Converter class used for record values; overrides the worker setting.', group: COMMON, orderInGroup: 5, displayName: 'Value converter class' })
    .define({ name: 'header.converter', type: 'CLASS', defaultValue: null, importance: 'LOW', documentation: 'HeaderConverter class used for record headers; overrides the worker setting.', group: COMMON, orderInGroup: 6, displayName: 'Header converter class' })
    .define({ name: 'transforms', type: 'LIST', defaultValue: [], importance: 'LOW', documentation: 'Aliases for the transformations to be applied to records.', group: TRANSFORMS, orderInGroup: 1, displayName: 'Transforms' })
    .define({ name: 'predicates', type: 'LIST', defaultValue: [], importance: 'LOW', documentation: 'Aliases for the predicates used by transformations.', group: PREDICATES, orderInGroup: 1, displayName: 'Predicates' })
    .define({ name: 'errors.retry.timeout', type: 'LONG', defaultValue: 0, importance: 'MEDIUM', documentation: 'The maximum duration in milliseconds that a failed operation will be reattempted. -1 for infinite retries.', group: ERRORS, orderInGroup: 1, displayName: 'Retry Timeout for Errors' })
    .define({ name: 'errors.retry.delay.max.ms', type: 'LONG', defaultValue: 60000, importance: 'MEDIUM', documentation: 'The maximum duration in milliseconds between consecutive retry attempts.', group: ERRORS, orderInGroup: 2, displayName: 'Maximum Delay Between Retries for Errors' })
    .define({ name: 'errors.tolerance', type: 'STRING', defaultValue: 'none', importance: 'MEDIUM', documentation: "Behavior for tolerating errors during connector operation. 'none' fails the task; 'all' skips problematic records.", group: ERRORS, orderInGroup: 3, displayName: 'Error Tolerance', validator: Validators.in('none', 'all') })
    .define({ name: 'errors.log.enable', type: 'BOOLEAN', defaultValue: false, importance: 'MEDIUM', documentation: 'If true, write each error and the details of the failed operation and problematic record to the Connect application log.', group: ERRORS, orderInGroup: 4, displayName: 'Log Errors' })
    .define({ name: 'errors.log.include.messages', type: 'BOOLEAN', defaultValue: false, importance: 'MEDIUM', documentation: 'Whether to include the record key, value and headers in the log.', group: ERRORS, orderInGroup: 5, displayName: 'Log Error Details' });
}

const EXACTLY_ONCE = 'Exactly Once Support';

/** KIP-618's per-connector keys (checked against the connector in validateConnectorConfig). */
export const sourceFrameworkDef = baseDef()
  .define({ name: 'exactly.once.support', type: 'STRING', defaultValue: 'requested', importance: 'MEDIUM', documentation: "Permitted values are requested, required. 'required' forces a preflight check that the connector can provide exactly-once semantics with the given configuration, and needs a worker with exactly-once source support enabled.", group: EXACTLY_ONCE, orderInGroup: 0, displayName: 'Exactly once support' })
  .define({ name: 'transaction.boundary', type: 'STRING', defaultValue: 'poll', importance: 'MEDIUM', documentation: "Permitted values are: poll, interval, connector. 'poll' commits a producer transaction for every batch a task returns, 'interval' after transaction.boundary.interval.ms, 'connector' where the connector's tasks say (if the connector can).", group: EXACTLY_ONCE, orderInGroup: 1, displayName: 'Transaction Boundary' })
  .define({ name: 'transaction.boundary.interval.ms', type: 'LONG', defaultValue: null, importance: 'LOW', documentation: "With transaction.boundary=interval, how often tasks commit their transactions; unset, the worker's offset.flush.interval.ms.", group: EXACTLY_ONCE, orderInGroup: 2, displayName: 'Transaction boundary interval' })
  .define({ name: 'offsets.storage.topic', type: 'STRING', defaultValue: null, importance: 'LOW', documentation: "The name of a separate offsets topic for this connector (distributed workers; created if missing). Unset, the worker's global offsets topic is used. Offsets are read from it first, then from the global topic, and written to both.", group: EXACTLY_ONCE, orderInGroup: 3, displayName: 'Offsets topic' });

export const sinkFrameworkDef = baseDef()
  .define({ name: 'topics', type: 'LIST', defaultValue: [], importance: 'HIGH', documentation: 'List of topics to consume, separated by commas', group: COMMON, orderInGroup: 4, displayName: 'Topics' })
  .define({ name: 'topics.regex', type: 'STRING', defaultValue: '', importance: 'HIGH', documentation: 'Regular expression giving topics to consume.', group: COMMON, orderInGroup: 4, displayName: 'Topics regex' })
  .define({ name: 'errors.deadletterqueue.topic.name', type: 'STRING', defaultValue: '', importance: 'MEDIUM', documentation: 'The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error.', group: ERRORS, orderInGroup: 6, displayName: 'Dead Letter Queue Topic Name' })
  .define({ name: 'errors.deadletterqueue.topic.replication.factor', type: 'SHORT', defaultValue: 3, importance: 'MEDIUM', documentation: 'Replication factor used to create the dead letter queue topic when it doesn\'t already exist.', group: ERRORS, orderInGroup: 7, displayName: 'Dead Letter Queue Topic Replication Factor' })
  .define({ name: 'errors.deadletterqueue.context.headers.enable', type: 'BOOLEAN', defaultValue: false, importance: 'MEDIUM', documentation: 'If true, add headers containing error context to the messages written to the dead letter queue.', group: ERRORS, orderInGroup: 8, displayName: 'Enable Error Context Headers' });

/** One transform with its optional predicate, as `transforms.<alias>.predicate`/`.negate` set. */
export interface ChainLink {
  alias: string;
  transform: Transformation;
  predicate: Predicate | null;
  negate: boolean;
}

export class TransformationChain {
  constructor(readonly links: ChainLink[]) {}

  apply<R extends ConnectRecord>(record: R): R | null {
    let current: R | null = record;
    for (const link of this.links) {
      if (current === null) return null;
      if (link.predicate && link.predicate.test(current) === link.negate) continue;
      current = link.transform.apply(current);
    }
    return current;
  }

  close(): void {
    for (const l of this.links) {
      l.transform.close();
      l.predicate?.close();
    }
  }
}

/** Instantiates and configures `transforms`/`predicates` of a connector config. Throws ConfigException. */
export function buildChain(config: Record<string, string>, plugins: Plugins): TransformationChain {
  const predicates = new Map<string, Predicate>();
  for (const alias of listOf(config.predicates)) {
    const type = config[`predicates.${alias}.type`];
    if (!type) throw new ConfigException(`predicates.${alias}.type`, `Missing required configuration "predicates.${alias}.type" which has no default value.`);
    const ctor = plugins.predicate(type);
    if (!ctor) throw new ConfigException(`predicates.${alias}.type`, `Invalid value ${type} for configuration predicates.${alias}.type: Class ${type} could not be found.`);
    const p = new ctor();
    p.configure(withPrefix(config, `predicates.${alias}.`));
    predicates.set(alias, p);
  }
  const links: ChainLink[] = [];
  for (const alias of listOf(config.transforms)) {
    const key = `transforms.${alias}.type`;
    const type = config[key];
    if (!type) throw new ConfigException(key, `Missing required configuration "${key}" which has no default value.`);
    const ctor = plugins.transformation(type);
    if (!ctor) throw new ConfigException(key, `Invalid value ${type} for configuration ${key}: Class ${type} could not be found.`);
    const transform = new ctor();
    const own = withPrefix(config, `transforms.${alias}.`);
    try {
      transform.configure(own);
    } catch (err) {
      throw new ConfigException(key, `Invalid value ${type} for configuration ${key}: ${(err as Error).message}`);
    }
    const predicateAlias = own.predicate;
    let predicate: Predicate | null = null;
    if (predicateAlias) {
      predicate = predicates.get(predicateAlias) ?? null;
      if (!predicate) throw new ConfigException(`transforms.${alias}.predicate`, `Invalid value ${predicateAlias} for configuration transforms.${alias}.predicate: The predicate ${predicateAlias} is not defined in predicates`);
    }
    links.push({ alias, transform, predicate, negate: own.negate?.trim().toLowerCase() === 'true' });
  }
  return new TransformationChain(links);
}

function listOf(v: string | undefined): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export interface ValidationGroup {
  def: ConfigDef;
  reports: ConfigValueReport[];
}

/**
 * Kafka's ConfigInfos for `PUT /connector-plugins/{plugin}/config/validate` and for the error a
 * create/update with a bad config gets.
 */
export function validateConnectorConfig(
  plugin: ConnectorPlugin,
  config: Record<string, string>,
  plugins: Plugins,
  /**
   * exactlyOnceSource: the worker has exactly.once.source.support=enabled, so KIP-618's preflight
   * checks apply. clientConfigOverridePolicy: the worker's connector.client.config.override.policy.
   */
  options: { exactlyOnceSource?: boolean; clientConfigOverridePolicy?: ClientConfigOverridePolicy } = {},
): { name: string; error_count: number; groups: string[]; configs: Array<{ definition: Record<string, unknown> | null; value: Record<string, unknown> }> } {
  const framework = plugin.type === 'sink' ? sinkFrameworkDef : sourceFrameworkDef;
  const connector = new plugin.ctor();
  const sections: Array<{ def: ConfigDef; props: Record<string, string>; prefix: string; group?: string }> = [
    { def: framework, props: config, prefix: '' },
  ];
  const extra: ConfigValueReport[] = [];
  // Each transform/predicate's own keys appear prefixed, grouped per alias, as Kafka shows them.
  for (const [kind, lookup] of [['transforms', (t: string) => plugins.transformation(t)], ['predicates', (t: string) => plugins.predicate(t)]] as const) {
    for (const alias of listOf(config[kind])) {
      const typeKey = `${kind}.${alias}.type`;
      const type = config[typeKey];
      const ctor = type ? lookup(type) : undefined;
      const typeDef = new ConfigDef().define({ name: typeKey, type: 'CLASS', importance: 'HIGH', documentation: `Class for the '${alias}' ${kind === 'transforms' ? 'transformation' : 'predicate'}.`, group: `${kind === 'transforms' ? 'Transforms' : 'Predicates'}: ${alias}` });
      const reports = typeDef.validate(config);
      if (type && !ctor) reports[0].errors.push(`Invalid value ${type} for configuration ${typeKey}: Class ${type} could not be found.`);
      extra.push(...reports);
      sections.push({ def: typeDef, props: config, prefix: '' });
      if (ctor) {
        const instance = new ctor();
        const own = instance.config();
        const prefixed = new ConfigDef();
        for (const k of own.keys.values()) prefixed.define({ ...k, name: `${kind}.${alias}.${k.name}`, group: `${kind === 'transforms' ? 'Transforms' : 'Predicates'}: ${alias}` });
        sections.push({ def: prefixed, props: config, prefix: '' });
        // Checks beyond the declared keys (e.g. Cast's spec syntax) show up on the type key.
        if (prefixed.validate(config).some((r) => r.errors.length)) continue;
        try {
          instance.configure(withPrefix(config, `${kind}.${alias}.`));
        } catch (err) {
          extra.push({ name: typeKey, value: type ?? null, recommendedValues: [], errors: [(err as Error).message], visible: true });
        }
      }
    }
  }
  sections.push({ def: connector.config(), props: config, prefix: '' });

  const byName = new Map<string, { key: ConfigKey; order: number; report: ConfigValueReport }>();
  let order = 0;
  for (const s of sections) {
    const reports = s.def.validate(s.props);
    for (const key of s.def.keys.values()) {
      const report = reports.find((r) => r.name === key.name)!;
      byName.set(key.name, { key, order: ++order, report });
    }
  }
  for (const e of extra) {
    const entry = byName.get(e.name);
    if (entry) for (const msg of e.errors) if (!entry.report.errors.includes(msg)) entry.report.errors.push(msg);
  }
  if (plugin.type === 'source') {
    const report = (key: string, message: string) => {
      const r = byName.get(key)?.report;
      if (r && !r.errors.includes(message)) r.errors.push(message);
    };
    // Kafka's preflight checks (DistributedHerder.validateSourceConnectorConfig) run only where
    // exactly-once source support is on; `required` elsewhere is refused outright.
    const support = (config['exactly.once.support'] ?? 'requested').trim().toLowerCase();
    if (support !== 'requested' && support !== 'required') report('exactly.once.support', `Invalid value ${config['exactly.once.support']} for configuration exactly.once.support: String must be one of (case insensitive): REQUESTED, REQUIRED`);
    else if (support === 'required' && !options.exactlyOnceSource) report('exactly.once.support', 'This worker does not have exactly-once source support enabled.');
    else if (support === 'required' && connector instanceof SourceConnector) {
      const answer = connector.exactlyOnceSupport(config);
      if (answer === null) report('exactly.once.support', 'The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value "requested" for this property (which will disable this preflight check and allow the connector to be created).');
      else if (answer !== 'SUPPORTED') report('exactly.once.support', 'The connector does not support exactly-once semantics with the provided configuration.');
    }
    if (options.exactlyOnceSource) {
      try {
        transactionBoundaryOf(config, 0, connector);
      } catch (err) {
        if (!(err instanceof ConfigException)) throw err;
        report(err.key ?? 'transaction.boundary', err.message);
      }
    }
  }
  if (plugin.type === 'sink') {
    const topics = byName.get('topics')!.report;
    const regex = byName.get('topics.regex')!.report;
    const hasTopics = (config.topics ?? '').trim() !== '';
    const hasRegex = (config['topics.regex'] ?? '').trim() !== '';
    if (hasTopics && hasRegex) {
      const msg = 'topics and topics.regex are mutually exclusive options, but both are set.';
      topics.errors.push(msg);
      regex.errors.push(msg);
    } else if (!hasTopics && !hasRegex) {
      const msg = 'Must configure one of topics or topics.regex';
      topics.errors.push(msg);
      regex.errors.push(msg);
    }
    const dlq = (config['errors.deadletterqueue.topic.name'] ?? '').trim();
    if (dlq && config.topics?.split(',').map((t) => t.trim()).includes(dlq)) {
      topics.errors.push(`The DLQ topic '${dlq}' may not be included in the list of topics ('topics=${config.topics}') consumed by the connector`);
    }
  }
  const groups: string[] = [];
  const configs: Array<{ definition: Record<string, unknown> | null; value: Record<string, unknown> }> = [];
  let errorCount = 0;
  // Kafka's validateClientOverrides: every `*.override.*` key is judged by the worker's policy.
  const policy = options.clientConfigOverridePolicy ?? 'All';
  for (const [name, value] of Object.entries(config)) {
    const prefix = CLIENT_OVERRIDE_PREFIXES.find((p) => name.startsWith(p));
    if (!prefix || byName.has(name)) continue;
    const clientKey = name.slice(prefix.length);
    const errors = overrideAllowed(policy, clientKey) ? [] : [`The '${policy}' policy does not allow '${clientKey}' to be overridden in the connector configuration.`];
    errorCount += errors.length > 0 ? 1 : 0;
    configs.push({ definition: null, value: { name, value, recommended_values: [], errors, visible: true } });
  }
  for (const { key, order: o, report } of byName.values()) {
    if (key.group && !groups.includes(key.group)) groups.push(key.group);
    errorCount += report.errors.length > 0 ? 1 : 0;
    configs.push({
      definition: ConfigDef.definitionJson(key, o),
      value: { name: report.name, value: report.value, recommended_values: report.recommendedValues, errors: report.errors, visible: report.visible },
    });
  }
  return { name: plugin.className, error_count: errorCount, groups, configs };
}

/** Kafka Connect's connector.client.config.override.policy values (its built-in policies). */
export type ClientConfigOverridePolicy = 'None' | 'Principal' | 'All';
export const CLIENT_OVERRIDE_PREFIXES = ['producer.override.', 'consumer.override.', 'admin.override.'] as const;
/** What the Principal policy lets a connector choose: who its clients authenticate as. */
const PRINCIPAL_KEYS = new Set(['security.protocol', 'sasl.jaas.config', 'sasl.mechanism']);

export function overrideAllowed(policy: ClientConfigOverridePolicy, clientKey: string): boolean {
  return policy === 'All' || (policy === 'Principal' && PRINCIPAL_KEYS.has(clientKey));
}
