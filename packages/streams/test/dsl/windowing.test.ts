import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BufferConfig, Consumed, Grouped, Materialized, Produced, Serdes, SessionWindows, SlidingWindows, StreamsBuilder, Suppressed, TimeWindows, TopologyTestDriver, WindowedSerdes,
  type KTable, type Windowed,
} from '../../src/index.js';

const S = Serdes.String();
const L = Serdes.Long();

function windowed(table: (b: StreamsBuilder) => KTable<Windowed<string>, number>, records: Array<[string, number]>): { out: Array<string>; driver: TopologyTestDriver } {
  const builder = new StreamsBuilder();
  table(builder).toStream().map((k, v) => ({ key: `${k.key}@${k.window.start}-${k.window.end}`, value: v === null ? 'null' : String(v) })).to('out', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build(), {}, 0);
  const input = driver.createInputTopic('in', S, S);
  for (const [key, ts] of records) input.pipeInput(key, 'x', ts);
  const out = driver.createOutputTopic('out', S, S).readKeyValuesToList().map((kv) => `${kv.key}=${kv.value}`);
  return { out, driver };
}

const grouped = (b: StreamsBuilder) => b.stream('in', Consumed.with(S, S)).groupByKey(Grouped.with(S, S));

test('tumbling windows: records within grace are counted, records after it are dropped', () => {
  const { out, driver } = windowed((b) => grouped(b).windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count(Materialized.as('tumbling')), [
    ['a', 1], ['a', 3], ['a', 12], ['a', 4], // 4 is late but [0,10) closes only at stream time 15
    ['a', 16], ['a', 5], // now [0,10) is closed (10 + 5 <= 16): dropped
  ]);
  assert.deepEqual(out, ['a@0-10=1', 'a@0-10=2', 'a@10-20=1', 'a@0-10=3', 'a@10-20=2']);
  const store = driver.getWindowStore<string, number>('tumbling')!;
  assert.equal(store.fetch('a', 0), 3);
  assert.deepEqual(store.fetchRange('a', 0, 100).map((w) => [w.windowStart, w.value]), [[0, 3], [10, 2]]);
  driver.close();
});

test('hopping windows: a record lands in every window covering it', () => {
  const { out, driver } = windowed((b) => grouped(b).windowedBy(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)).count(), [['a', 7], ['a', 12]]);
  assert.deepEqual(out, ['a@0-10=1', 'a@5-15=1', 'a@5-15=2', 'a@10-20=1']);
  driver.close();
});

test('suppress(untilWindowCloses) emits one final result per window when stream time passes end + grace', () => {
  const builder = new StreamsBuilder();
  grouped(builder)
    .windowedBy(TimeWindows.ofSizeAndGrace(10, 2))
    .count()
    .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
    .toStream()
    .to('final', Produced.with(WindowedSerdes.timeWindowedSerdeFrom(S, 10), L));
  const driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic('in', S, S);
  const final = driver.createOutputTopic('final', WindowedSerdes.timeWindowedSerdeFrom(S, 10), L);
  input.pipeInput('a', 'x', 1);
  input.pipeInput('b', 'x', 2);
  input.pipeInput('a', 'x', 9);
  input.pipeInput('a', 'x', 11); // stream time 11 < 10 + 2: nothing final yet
  assert.equal(final.getQueueSize(), 0);
  input.pipeInput('a', 'x', 8); // within grace
  input.pipeInput('c', 'x', 12); // 10 + 2 <= 12: window [0,10) closes
  assert.deepEqual(final.readKeyValuesToList().map((kv) => [kv.key!.key, kv.key!.window.start, kv.value]), [['a', 0, 3], ['b', 0, 1]]);
  input.pipeInput('a', 'x', 30);
  assert.deepEqual(final.readKeyValuesToList().map((kv) => [kv.key!.key, kv.key!.window.start, kv.value]), [['a', 10, 1], ['c', 10, 1]]);
  driver.close();
});

test('session windows merge records closer than the gap and delete the merged sessions', () => {
  const { out, driver } = windowed((b) => grouped(b).windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 10)).count(Materialized.as('sessions')), [
    ['a', 0], ['a', 3], ['a', 10], ['a', 6], ['b', 7],
  ]);
  assert.deepEqual(out, [
    'a@0-0=1',
    'a@0-0=null', 'a@0-3=2',
    'a@10-10=1',
    'a@0-3=null', 'a@10-10=null', 'a@0-10=4',
    'b@7-7=1',
  ]);
  assert.deepEqual(driver.getSessionStore<string, number>('sessions')!.fetch('a').map((s) => [s.key.window.start, s.key.window.end, s.value]), [[0, 10, 4]]);
  driver.close();
});

test('session windows drop records whose session closed (end + grace)', () => {
  const { out, driver } = windowed((b) => grouped(b).windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 2)).count(), [['a', 10], ['a', 30], ['a', 22], ['a', 1]]);
  // 22 opens [22,22] (22 >= 30 - 2? no: 22 < 28 → dropped); 1 is far too late.
  assert.deepEqual(out, ['a@10-10=1', 'a@30-30=1']);
  driver.close();
});

test('sliding windows aggregate every window of the time difference that records define', () => {
  const { out, driver } = windowed((b) => grouped(b).windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10)).count(Materialized.as('sliding')), [['a', 20], ['a', 25], ['a', 40]]);
  assert.deepEqual(out, [
    'a@10-20=1', // left window of 20
    'a@15-25=2', // left window of 25 holds 20 and 25
    'a@21-31=1', // right window of 20 now exists: (20, 30] holds 25
    'a@30-40=1', // left window of 40
  ]);
  driver.close();
});

test('reduce and aggregate keep per-key state with the latest timestamp', () => {
  const builder = new StreamsBuilder();
  const s = builder.stream('in', Consumed.with(S, Serdes.Integer())).groupByKey();
  s.reduce((a, b) => Math.max(a, b), undefined, Materialized.as<string, number>('max').withValueSerde(Serdes.Integer())).toStream().to('max', Produced.with(S, Serdes.Integer()));
  s.aggregate(() => '', (_k, v, agg) => agg + v, Materialized.as<string, string>('concat').withValueSerde(S)).toStream().to('concat', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic('in', S, Serdes.Integer());
  input.pipeInput('a', 3, 100);
  input.pipeInput('a', 1, 50);
  input.pipeInput('a', 7, 200);
  assert.deepEqual(driver.createOutputTopic('max', S, Serdes.Integer()).readRecordsToList().map((r) => [r.value, r.timestamp]), [[3, 100], [3, 100], [7, 200]]);
  assert.deepEqual(driver.createOutputTopic('concat', S, S).readValuesToList(), ['3', '31', '317']);
  assert.equal(driver.getTimestampedKeyValueStore<string, string>('concat')!.get('a')!.timestamp, 200);
  driver.close();
});
