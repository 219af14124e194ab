import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Branched, Consumed, Named, Produced, Repartitioned, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();
const I = Serdes.Integer();

function run(build: (b: StreamsBuilder) => void, feed: (d: TopologyTestDriver) => void): TopologyTestDriver {
  const builder = new StreamsBuilder();
  build(builder);
  const driver = new TopologyTestDriver(builder.build(), { 'application.id': 'stateless' }, 0);
  feed(driver);
  return driver;
}

test('filter, filterNot, map, mapValues, flatMap, selectKey, peek, foreach', () => {
  const peeked: string[] = [];
  const seen: string[] = [];
  const driver = run((b) => {
    const s = b.stream('in', Consumed.with(S, I));
    s.filter((_k, v) => v % 2 === 0).to('even', Produced.with(S, I));
    s.filterNot((_k, v) => v % 2 === 0).to('odd', Produced.with(S, I));
    s.map((k, v) => ({ key: `${k}!`, value: String(v * 10) })).to('mapped', Produced.with(S, S));
    s.mapValues((v, k) => `${k}=${v}`).to('values', Produced.with(S, S));
    s.flatMap((k, v) => Array.from({ length: v }, (_, i) => ({ key: `${k}${i}`, value: i }))).to('flat', Produced.with(S, I));
    s.selectKey((_k, v) => `n${v}`).peek((k) => peeked.push(k)).to('rekeyed', Produced.with(S, I));
    s.foreach((k, v) => seen.push(`${k}:${v}`));
  }, (d) => {
    const input = d.createInputTopic('in', S, I);
    input.pipeInput('a', 1, 10);
    input.pipeInput('b', 2, 11);
  });
  const read = <V>(topic: string, vs: typeof S | typeof I) => driver.createOutputTopic(topic, S, vs as never).readKeyValuesToList() as Array<{ key: string; value: V }>;
  assert.deepEqual(read('even', I), [{ key: 'b', value: 2 }]);
  assert.deepEqual(read('odd', I), [{ key: 'a', value: 1 }]);
  assert.deepEqual(read('mapped', S), [{ key: 'a!', value: '10' }, { key: 'b!', value: '20' }]);
  assert.deepEqual(read('values', S), [{ key: 'a', value: 'a=1' }, { key: 'b', value: 'b=2' }]);
  assert.deepEqual(read('flat', I), [{ key: 'a0', value: 0 }, { key: 'b0', value: 0 }, { key: 'b1', value: 1 }]);
  assert.deepEqual(read('rekeyed', I), [{ key: 'n1', value: 1 }, { key: 'n2', value: 2 }]);
  assert.deepEqual(peeked, ['n1', 'n2']);
  assert.deepEqual(seen, ['a:1', 'b:2']);
  driver.close();
});

test('split().branch() sends each record to the first matching branch; merge; to with a topic extractor', () => {
  const driver = run((b) => {
    const branches = b
      .stream('in', Consumed.with(S, I))
      .split(Named.as('split-'))
      .branch((_k, v) => v < 10, Branched.as('small'))
      .branch((_k, v) => v < 100, Branched.withFunction((s) => s.mapValues((v) => v * 2), 'medium'))
      .defaultBranch(Branched.as('large'));
    assert.deepEqual([...branches.keys()], ['split-small', 'split-medium', 'split-large']);
    branches.get('split-small')!.merge(branches.get('split-large')!).to((_k, v) => (v < 10 ? 'small-out' : 'large-out'), Produced.with(S, I));
    branches.get('split-medium')!.to('medium-out', Produced.with(S, I));
  }, (d) => {
    const input = d.createInputTopic('in', S, I);
    for (const v of [5, 50, 500, 7]) input.pipeInput('k', v);
  });
  assert.deepEqual(driver.createOutputTopic('small-out', S, I).readValuesToList(), [5, 7]);
  assert.deepEqual(driver.createOutputTopic('medium-out', S, I).readValuesToList(), [100]);
  assert.deepEqual(driver.createOutputTopic('large-out', S, I).readValuesToList(), [500]);
  driver.close();
});

test('repartition() writes through <application.id>-<name>-repartition and keeps timestamps and headers', () => {
  const driver = run((b) => {
    b.stream('in', Consumed.with(S, I)).selectKey((_k, v) => String(v)).repartition(Repartitioned.with(S, I).withName('by-value').withNumberOfPartitions(3)).to('out', Produced.with(S, I));
  }, (d) => d.createInputTopic('in', S, I).pipeInput('a', 42, 1234, [{ key: 'trace', value: Buffer.from('x') }]));
  const out = driver.createOutputTopic('out', S, I).readRecord();
  assert.equal(out.key, '42');
  assert.equal(out.timestamp, 1234);
  assert.equal(String(out.headers[0].value), 'x');
  assert.ok(driver.producedTopicNames().has('stateless-by-value-repartition'));
  driver.close();
});
