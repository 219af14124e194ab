import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, murmur2Partition, defaultPartitioner, roundRobinPartitioner, resolvePartitioner } from '../../src/producer/partitioners.js';

test('murmur2 matches the Java client for known inputs', () => {
  // Values from Apache Kafka's Utils.murmur2 (UtilsTest).
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [input, expected] of cases) assert.equal(murmur2(Buffer.from(input)), expected, input);
});

test('murmur2Partition is non-negative and stable', () => {
  for (let i = 0; i < 1000; i++) {
    const p = murmur2Partition(Buffer.from(`key-${i}`), 7);
    assert.ok(p >= 0 && p < 7);
    assert.equal(p, murmur2Partition(Buffer.from(`key-${i}`), 7));
  }
});

test('default partitioner hashes keys and sticks null keys to one partition until its batch closes', () => {
  const p = defaultPartitioner();
  const key = Buffer.from('user-42');
  assert.equal(p.partition({ topic: 't', key, value: null, partitionCount: 12 }), murmur2Partition(key, 12));
  const first = p.partition({ topic: 't', key: null, value: null, partitionCount: 12 });
  for (let i = 0; i < 50; i++) assert.equal(p.partition({ topic: 't', key: null, value: null, partitionCount: 12 }), first);
  p.onBatchClosed!('t', first, 12);
  const next = p.partition({ topic: 't', key: null, value: null, partitionCount: 12 });
  assert.notEqual(next, first);
});

test('round-robin cycles through partitions; a function is used as given', () => {
  const rr = roundRobinPartitioner();
  const seen = Array.from({ length: 8 }, () => rr.partition({ topic: 't', key: Buffer.from('same'), value: null, partitionCount: 4 }));
  assert.deepEqual(seen, [0, 1, 2, 3, 0, 1, 2, 3]);
  const custom = resolvePartitioner(({ partitionCount }) => partitionCount - 1);
  assert.equal(custom.partition({ topic: 't', key: null, value: null, partitionCount: 5 }), 4);
});
