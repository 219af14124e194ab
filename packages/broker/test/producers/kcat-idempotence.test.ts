/** librdkafka (kcat) with enable.idempotence=true against our broker: produced with a producer id, read back once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, batchSizeAt, readBatchHeader } from '@sluice/protocol';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { RawClient, run, startTestBroker } from '../helpers.js';

const KCAT = kcatPath();

test('kcat -X enable.idempotence=true: every record stored once, batches carry a producer id and consecutive sequences', { timeout: 120_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const tb = await startTestBroker({ 'num.partitions': 3 });
  t.after(() => tb.dispose());
  const b = ['-b', tb.bootstrap];
  let expected: string[] = [];
  for (const codec of ['none', 'lz4', 'zstd']) {
    const lines = Array.from({ length: 3000 }, (_, i) => `k${i % 11}:${codec}-${i}`);
    const produced = await run(KCAT, [...b, '-P', '-t', 'idem', '-K:', '-z', codec, '-X', 'enable.idempotence=true', '-X', 'linger.ms=2', '-X', 'batch.num.messages=100'], { input: lines.join('\n') + '\n' });
    assert.equal(produced.code, 0, `${codec}: ${produced.stderr}`);
    assert.doesNotMatch(produced.stderr, /fatal|OUT_OF_ORDER|error/i);
    expected = expected.concat(lines.map((l) => l.replace(':', '=')));
  }
  const consumed = await run(KCAT, [...b, '-C', '-t', 'idem', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n']);
  assert.equal(consumed.code, 0, consumed.stderr);
  const rows = consumed.stdout.trim().split('\n');
  assert.equal(rows.length, expected.length);
  assert.deepEqual([...rows].sort(), [...expected].sort());

  // The stored batches: one producer id per kcat run, sequences consecutive per partition.
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const producerIds = new Set<bigint>();
  for (let partition = 0; partition < 3; partition++) {
    const f = await c.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 64 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'idem', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 64 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = f.responses[0].partitions[0];
    assert.equal(p.errorCode, ErrorCode.NONE);
    const records = p.records!;
    const nextSeq = new Map<bigint, number>();
    for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
      const h = readBatchHeader(records, pos);
      assert.ok(h.producerId >= 0n, 'an idempotent batch');
      producerIds.add(h.producerId);
      assert.equal(h.baseSequence, nextSeq.get(h.producerId) ?? 0, `partition ${partition}: sequences of producer ${h.producerId} continue`);
      nextSeq.set(h.producerId, h.baseSequence + h.lastOffsetDelta + 1);
    }
  }
  assert.equal(producerIds.size, 3, 'each kcat run got its own producer id');
});
