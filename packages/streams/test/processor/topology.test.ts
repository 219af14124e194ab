import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Consumed, Grouped, Headers, Materialized, Produced, PunctuationType, Record, Serdes, Stores, StreamsBuilder, Topology, TopologyError, TopologyTestDriver,
  type KeyValueStore, type ProcessorContext, type StateStore,
} from '../../src/index.js';

function wordCount(storeType: 'in-memory' | 'persistent' = 'in-memory'): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('streams-plaintext-input', Consumed.with(Serdes.String(), Serdes.String()))
    .flatMapValues((line) => (line ?? '').toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word, Grouped.with(Serdes.String(), Serdes.String()))
    .count(Materialized.as<string, number>('counts-store').withKeySerde(Serdes.String()).withStoreType(storeType))
    .toStream()
    .to('streams-wordcount-output', Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}

test('describe() prints the word count topology in the shape of Java TopologyDescription', () => {
  const text = wordCount().describe().toString();
  assert.equal(
    text,
    [
      'Topologies:',
      '   Sub-topology: 0',
      '    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])',
      '      --> KSTREAM-FLATMAPVALUES-0000000001',
      '    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])',
      '      --> KSTREAM-KEY-SELECT-0000000002',
      '      <-- KSTREAM-SOURCE-0000000000',
      '    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])',
      '      --> counts-store-repartition-filter',
      '      <-- KSTREAM-FLATMAPVALUES-0000000001',
      '    Processor: counts-store-repartition-filter (stores: [])',
      '      --> counts-store-repartition-sink',
      '      <-- KSTREAM-KEY-SELECT-0000000002',
      '    Sink: counts-store-repartition-sink (topic: counts-store-repartition)',
      '      <-- counts-store-repartition-filter',
      '',
      '   Sub-topology: 1',
      '    Source: counts-store-repartition-source (topics: [counts-store-repartition])',
      '      --> KSTREAM-AGGREGATE-0000000003',
      '    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])',
      '      --> KTABLE-TOSTREAM-0000000004',
      '      <-- counts-store-repartition-source',
      '    Processor: KTABLE-TOSTREAM-0000000004 (stores: [])',
      '      --> KSTREAM-SINK-0000000005',
      '      <-- KSTREAM-AGGREGATE-0000000003',
      '    Sink: KSTREAM-SINK-0000000005 (topic: streams-wordcount-output)',
      '      <-- KTABLE-TOSTREAM-0000000004',
      '',
    ].join('\n'),
  );
});

for (const storeType of ['in-memory', 'persistent'] as const) {
  test(`word count through the repartition topic with a ${storeType} store`, () => {
    const driver = new TopologyTestDriver(wordCount(storeType), { 'application.id': 'wordcount' });
    try {
      const input = driver.createInputTopic('streams-plaintext-input', Serdes.String(), Serdes.String());
      const output = driver.createOutputTopic('streams-wordcount-output', Serdes.String(), Serdes.Long());
      input.pipeValue('all streams lead to kafka');
      input.pipeValue('hello kafka streams');
      assert.deepEqual(output.readKeyValuesToList(), [
        { key: 'all', value: 1 }, { key: 'streams', value: 1 }, { key: 'lead', value: 1 }, { key: 'to', value: 1 }, { key: 'kafka', value: 1 },
        { key: 'hello', value: 1 }, { key: 'kafka', value: 2 }, { key: 'streams', value: 2 },
      ]);
      const store = driver.getKeyValueStore<string, number>('counts-store');
      assert.ok(store);
      assert.equal(store.get('kafka'), 2);
      assert.deepEqual(store.range('k', 'm').map((e) => e.key), ['kafka', 'lead']);
      assert.ok(driver.producedTopicNames().has('wordcount-counts-store-repartition'));
    } finally {
      driver.close();
    }
  });
}

test('Processor API: forward to a named child, headers, stream-time and wall-clock punctuation', () => {
  const topology = new Topology();
  const punctuations: string[] = [];
  topology.addSource('in', ['input'], { keyDeserializer: Serdes.String(), valueDeserializer: Serdes.Integer() });
  topology.addProcessor<string, number, string, number>('sum', () => {
    let ctx: ProcessorContext<string, number>;
    let store: KeyValueStore<string, number>;
    return {
      init(c) {
        ctx = c;
        store = c.getStateStore<KeyValueStore<string, number> & StateStore>('sums');
        c.schedule(10, PunctuationType.STREAM_TIME, (ts) => {
          punctuations.push(`stream@${ts}`);
          for (const { key, value } of store.all()) ctx.forward(new Record(key, value, ts), 'totals');
        });
        c.schedule(1000, PunctuationType.WALL_CLOCK_TIME, (ts) => void punctuations.push(`wall@${ts}`));
      },
      process(r) {
        store.put(r.key, (store.get(r.key) ?? 0) + r.value);
        const meta = ctx.recordMetadata();
        ctx.forward(r.withHeaders(r.headers.copy().add('offset', String(meta?.offset))), 'echo');
      },
    };
  }, 'in');
  topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('sums'), Serdes.String(), Serdes.Integer()), 'sum');
  topology.addSink('echo', 'echo-out', { keySerializer: Serdes.String(), valueSerializer: Serdes.Integer() }, 'sum');
  topology.addSink('totals', 'totals-out', { keySerializer: Serdes.String(), valueSerializer: Serdes.Integer() }, 'sum');
  assert.throws(() => topology.addSink('echo', 'x', {}, 'sum'), TopologyError);
  assert.throws(() => topology.addProcessor('p', () => ({ process() {} }), 'missing'), /not added yet/);

  const driver = new TopologyTestDriver(topology, {}, 0);
  try {
    const input = driver.createInputTopic('input', Serdes.String(), Serdes.Integer());
    const echo = driver.createOutputTopic('echo-out', Serdes.String(), Serdes.Integer());
    const totals = driver.createOutputTopic('totals-out', Serdes.String(), Serdes.Integer());
    input.pipeInput('a', 1, 5, [{ key: 'h', value: Buffer.from('v') }]);
    input.pipeInput('a', 2, 9);
    input.pipeInput('b', 3, 16);
    input.pipeInput('b', 4, 3); // out of order: stream time stays 16
    input.pipeInput('b', 5, 26);
    const first = echo.readRecord();
    assert.equal(first.timestamp, 5);
    assert.deepEqual(new Headers(first.headers).toArray().map((h) => [h.key, String(h.value)]), [['h', 'v'], ['offset', '0']]);
    assert.equal(echo.getQueueSize(), 4);
    // Stream-time punctuation fires at the first record (5), then at 16 (>= 15) and 26 (>= 26).
    assert.deepEqual(punctuations, ['stream@5', 'stream@16', 'stream@26']);
    assert.deepEqual(totals.readKeyValuesToList(), [
      { key: 'a', value: 1 },
      { key: 'a', value: 3 }, { key: 'b', value: 3 },
      { key: 'a', value: 3 }, { key: 'b', value: 12 },
    ]);
    driver.advanceWallClockTime(999);
    assert.deepEqual(punctuations.filter((p) => p.startsWith('wall')), []);
    driver.advanceWallClockTime(1);
    driver.advanceWallClockTime(2500);
    assert.deepEqual(punctuations.filter((p) => p.startsWith('wall')), ['wall@1000', 'wall@3500']);
  } finally {
    driver.close();
  }
});

test('deserialization errors fail by default and are skipped with LogAndContinue', async () => {
  const { LogAndContinueExceptionHandler } = await import('../../src/index.js');
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.JSON<{ n: number }>())).mapValues((v) => v.n * 2).to('out', Produced.with(Serdes.String(), Serdes.Integer()));
  const topology = builder.build();
  const bad = { topic: 'in', key: null, value: Buffer.from('{oops'), timestamp: 1, headers: [] };
  const strict = new TopologyTestDriver(topology);
  assert.throws(() => strict.pipeRaw(bad), /Deserialization exception handler is set to fail/);
  strict.close();
  const lenient = new TopologyTestDriver(topology, { 'default.deserialization.exception.handler': LogAndContinueExceptionHandler });
  const warn = console.warn;
  console.warn = () => {};
  try {
    lenient.pipeRaw(bad);
  } finally {
    console.warn = warn;
  }
  lenient.createInputTopic('in', Serdes.String(), Serdes.JSON<{ n: number }>()).pipeInput('k', { n: 21 });
  assert.deepEqual(lenient.createOutputTopic('out', Serdes.String(), Serdes.Integer()).readValuesToList(), [42]);
  lenient.close();
});
