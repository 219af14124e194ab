import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumed, Grouped, JoinWindows, Materialized, Produced, Serdes, StreamsBuilder, TopologyTestDriver, type KStream } from '../../src/index.js';

const S = Serdes.String();

/**
 * The stream-stream join table of the Kafka Streams DSL documentation ("Semantics of stream-stream
 * joins"): one key, window 15 with grace 5, records in timestamp order.
 */
const docsTimeline: Array<[number, 'left' | 'right', string | null]> = [
  [1, 'left', null], [2, 'right', null], [3, 'left', 'A'], [4, 'right', 'a'], [5, 'left', 'B'], [6, 'right', 'b'], [7, 'left', null], [8, 'right', null],
  [9, 'left', 'C'], [10, 'right', 'c'], [11, 'left', null], [12, 'right', null], [13, 'left', null], [14, 'right', 'd'], [15, 'left', 'D'],
  [40, 'left', 'E'], [60, 'left', 'F'], [80, 'right', 'f'], [100, 'left', 'G'],
];

function streamStream(kind: 'join' | 'leftJoin' | 'outerJoin'): Array<[number, string]> {
  const builder = new StreamsBuilder();
  const left = builder.stream('left', Consumed.with(S, S));
  const right = builder.stream('right', Consumed.with(S, S));
  const joiner = (l: string | null, r: string | null) => `[${l}, ${r}]`;
  const windows = JoinWindows.ofTimeDifferenceAndGrace(15, 5);
  const joined: KStream<string, string> =
    kind === 'join' ? left.join(right, joiner, windows) : kind === 'leftJoin' ? left.leftJoin(right, joiner, windows) : left.outerJoin(right, joiner, windows);
  joined.to('out', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build());
  const inputs = { left: driver.createInputTopic('left', S, S), right: driver.createInputTopic('right', S, S) };
  const out = driver.createOutputTopic('out', S, S);
  const result: Array<[number, string]> = [];
  for (const [ts, side, value] of docsTimeline) {
    inputs[side].pipeInput('k', value, ts);
    for (const v of out.readValuesToList()) result.push([ts, v as string]);
  }
  driver.close();
  return result;
}

const joinedRows: Array<[number, string]> = [
  [4, '[A, a]'], [5, '[B, a]'], [6, '[A, b]'], [6, '[B, b]'], [9, '[C, a]'], [9, '[C, b]'], [10, '[A, c]'], [10, '[B, c]'], [10, '[C, c]'],
  [14, '[A, d]'], [14, '[B, d]'], [14, '[C, d]'], [15, '[D, a]'], [15, '[D, b]'], [15, '[D, c]'], [15, '[D, d]'],
];

test('stream-stream inner join matches the documentation table', () => {
  assert.deepEqual(streamStream('join'), joinedRows);
});

test('stream-stream left join emits [E, null] and [F, null] only when their windows close', () => {
  assert.deepEqual(streamStream('leftJoin'), [...joinedRows, [60, '[E, null]'], [80, '[F, null]']]);
});

test('stream-stream outer join also emits [null, f] once its window closes', () => {
  assert.deepEqual(streamStream('outerJoin'), [...joinedRows, [60, '[E, null]'], [80, '[F, null]'], [100, '[null, f]']]);
});

test('stream-table join looks up the table as of each stream record; left join passes null', () => {
  const builder = new StreamsBuilder();
  const table = builder.table('users', Consumed.with(S, S), Materialized.as('users-store'));
  const clicks = builder.stream('clicks', Consumed.with(S, S));
  clicks.join(table, (click, region) => `${click}@${region}`).to('inner', Produced.with(S, S));
  clicks.leftJoin(table, (click, region) => `${click}@${region}`).to('left', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build());
  const users = driver.createInputTopic('users', S, S);
  const c = driver.createInputTopic('clicks', S, S);
  c.pipeInput('alice', 'c1', 1);
  users.pipeInput('alice', 'europe', 2);
  c.pipeInput('alice', 'c2', 3);
  users.pipeInput('alice', 'asia', 4);
  c.pipeInput('alice', 'c3', 5);
  users.pipeInput('alice', null, 6);
  c.pipeInput('alice', 'c4', 7);
  assert.deepEqual(driver.createOutputTopic('inner', S, S).readValuesToList(), ['c2@europe', 'c3@asia']);
  assert.deepEqual(driver.createOutputTopic('left', S, S).readValuesToList(), ['c1@null', 'c2@europe', 'c3@asia', 'c4@null']);
  assert.equal(driver.getKeyValueStore<string, string>('users-store')!.get('alice'), null);
  driver.close();
});

test('stream-globalTable join maps each record to the table key it needs', () => {
  const builder = new StreamsBuilder();
  const products = builder.globalTable('products', Consumed.with(S, S), Materialized.as('products-store'));
  builder
    .stream('orders', Consumed.with(S, S))
    .leftJoin(products, (_orderId, order) => order.split(':')[0], (order, name) => `${order}->${name}`)
    .to('enriched', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build());
  driver.createInputTopic('products', S, S).pipeInput('p1', 'widget');
  const orders = driver.createInputTopic('orders', S, S);
  orders.pipeInput('o1', 'p1:2');
  orders.pipeInput('o2', 'p9:1');
  assert.deepEqual(driver.createOutputTopic('enriched', S, S).readKeyValuesToList(), [{ key: 'o1', value: 'p1:2->widget' }, { key: 'o2', value: 'p9:1->null' }]);
  assert.ok(builder.build().describe().toString().includes('for global store (will not generate tasks)'));
  driver.close();
});

test('table-table inner, left and outer joins update with either side and delete on tombstones', () => {
  const builder = new StreamsBuilder();
  const l = builder.table('l', Consumed.with(S, S));
  const r = builder.table('r', Consumed.with(S, S));
  const j = (a: string | null, b: string | null) => `${a}/${b}`;
  l.join(r, j).toStream().to('inner', Produced.with(S, S));
  l.leftJoin(r, j).toStream().to('left', Produced.with(S, S));
  l.outerJoin(r, j, undefined, Materialized.as<string, string>('outer-store').withValueSerde(S)).toStream().to('outer', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build());
  const li = driver.createInputTopic('l', S, S);
  const ri = driver.createInputTopic('r', S, S);
  li.pipeInput('k', 'A', 1);
  ri.pipeInput('k', 'a', 2);
  li.pipeInput('k', 'B', 3);
  ri.pipeInput('k', null, 4);
  li.pipeInput('k', null, 5);
  const read = (t: string) => driver.createOutputTopic(t, S, S).readRecordsToList().map((x) => `${x.timestamp}:${x.value}`);
  assert.deepEqual(read('inner'), ['2:A/a', '3:B/a', '4:null']);
  assert.deepEqual(read('left'), ['1:A/null', '2:A/a', '3:B/a', '4:B/null', '5:null']);
  assert.deepEqual(read('outer'), ['1:A/null', '2:A/a', '3:B/a', '4:B/null', '5:null']);
  assert.equal(driver.getKeyValueStore<string, string>('outer-store')!.get('k'), null);
  driver.close();
});

test('KTable.groupBy aggregates re-keyed rows, subtracting the old row before adding the new', () => {
  const builder = new StreamsBuilder();
  builder
    .table('user-regions', Consumed.with(S, S))
    .groupBy((user, region) => ({ key: region, value: user }), Grouped.with(S, S))
    .count(undefined, Materialized.as('users-per-region'))
    .toStream()
    .to('region-counts', Produced.with(S, Serdes.Long()));
  const driver = new TopologyTestDriver(builder.build(), { 'application.id': 'regions' });
  const input = driver.createInputTopic('user-regions', S, S);
  input.pipeInput('alice', 'europe');
  input.pipeInput('bob', 'europe');
  input.pipeInput('alice', 'asia');
  input.pipeInput('bob', null);
  const out = driver.createOutputTopic('region-counts', S, Serdes.Long()).readKeyValuesToList().map((kv) => `${kv.key}=${kv.value}`);
  assert.deepEqual(out, ['europe=1', 'europe=2', 'europe=1', 'asia=1', 'europe=0']);
  assert.equal(driver.getKeyValueStore<string, number>('users-per-region')!.get('asia'), 1);
  driver.close();
});
