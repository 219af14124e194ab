/**
 * Word count, the user's notes' flatMapValues example: lines from `streams-plaintext-input`,
 * counts per word to `streams-wordcount-output` (String keys, Long values).
 *
 *   node packages/streams/dist/examples/word-count.js --bootstrap-server localhost:9092 \
 *     [--application-id wordcount] [--state-dir DIR] [--processing-guarantee exactly_once_v2]
 *     [--input T] [--output T] [--store in-memory|persistent] [--application-server host:port]
 *     [--window-ms N]   (counts per word per tumbling window, keys `<word>@<window start>`)
 */
import { parseArgs } from 'node:util';
import { Consumed, Grouped, KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows, type ProcessingGuarantee, type Topology } from '../src/index.js';

export function wordCountTopology(input = 'streams-plaintext-input', output = 'streams-wordcount-output', storeType: 'in-memory' | 'persistent' = 'persistent'): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word, Grouped.with(Serdes.String(), Serdes.String()))
    .count(Materialized.as<string, number>('counts').withKeySerde(Serdes.String()).withStoreType(storeType))
    .toStream()
    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}

/** Word count per tumbling window: output keys are `<word>@<window start>`. */
export function windowedWordCountTopology(windowMs: number, input = 'streams-plaintext-input', output = 'streams-wordcount-output', storeType: 'in-memory' | 'persistent' = 'persistent'): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word, Grouped.with(Serdes.String(), Serdes.String()))
    .windowedBy(TimeWindows.ofSizeAndGrace(windowMs, 86_400_000))
    .count(Materialized.as<string, number>('counts').withKeySerde(Serdes.String()).withStoreType(storeType))
    .toStream()
    .map((w, count) => ({ key: `${w.key}@${w.window.start}`, value: count }))
    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'bootstrap-server': { type: 'string' },
      'application-id': { type: 'string', default: 'wordcount' },
      'state-dir': { type: 'string' },
      'processing-guarantee': { type: 'string', default: 'at_least_once' },
      input: { type: 'string', default: 'streams-plaintext-input' },
      output: { type: 'string', default: 'streams-wordcount-output' },
      store: { type: 'string', default: 'persistent' },
      'application-server': { type: 'string' },
      'commit-interval-ms': { type: 'string' },
      'window-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values['bootstrap-server']) {
    console.log('usage: word-count --bootstrap-server HOST:PORT [--application-id ID] [--state-dir DIR] [--processing-guarantee at_least_once|exactly_once_v2] [--input T] [--output T] [--store in-memory|persistent]');
    process.exit(values.help ? 0 : 2);
  }
  const storeType = values.store === 'in-memory' ? 'in-memory' : 'persistent';
  const topology = values['window-ms'] ? windowedWordCountTopology(Number(values['window-ms']), values.input, values.output, storeType) : wordCountTopology(values.input, values.output, storeType);
  const streams = new KafkaStreams(topology, {
    'application.id': values['application-id'],
    'bootstrap.servers': values['bootstrap-server'],
    'processing.guarantee': values['processing-guarantee'] as ProcessingGuarantee,
    ...(values['state-dir'] ? { 'state.dir': values['state-dir'] } : {}),
    ...(values['application-server'] ? { 'application.server': values['application-server'] } : {}),
    ...(values['commit-interval-ms'] ? { 'commit.interval.ms': Number(values['commit-interval-ms']) } : {}),
    'session.timeout.ms': 6000,
    'heartbeat.interval.ms': 500,
  });
  streams.setStateListener((next, previous) => console.log(JSON.stringify({ event: 'state', previous, next })));
  streams.setGlobalStateRestoreListener({
    onRestoreEnd: (topic, partition, store, total) => console.log(JSON.stringify({ event: 'restored', topic, partition, store, total })),
  });
  streams.setUncaughtExceptionHandler((e) => {
    console.error(JSON.stringify({ event: 'error', message: e.message }));
    process.exit(1);
  });
  const stop = () => void streams.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await streams.start();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
