import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OffsetIndex, TimeIndex, readIndexFile, OFFSET_ENTRY_SIZE } from '../src/indexes.js';
import { LeaderEpochCache } from '../src/leader-epoch-cache.js';
import { CheckpointFormatError, readOffsetCheckpoint, writeOffsetCheckpoint, LEADER_EPOCH_CHECKPOINT } from '../src/checkpoint.js';
import { parsePartitionDirName } from '../src/partition-log.js';
import { tempDir } from './helpers.js';

describe('offset and time indexes', () => {
  it('looks up the floor entry and truncates', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const idx = new OffsetIndex(join(dir, 'x.index'), 100n, 1024);
      for (let i = 0; i < 200; i++) idx.append(100n + BigInt(i * 10 + 9), i * 1000);
      assert.equal(idx.maxEntries, 128);
      assert.deepEqual(idx.lookup(100n), { offset: 100n, position: 0 });
      assert.deepEqual(idx.lookup(109n), { offset: 109n, position: 0 });
      assert.deepEqual(idx.lookup(125n), { offset: 119n, position: 1000 });
      assert.deepEqual(idx.lookup(5000n), { offset: 2099n, position: 199000 });
      idx.append(150n, 1); // not increasing: ignored
      assert.equal(idx.entries, 200);
      idx.truncateTo(130n);
      assert.equal(idx.entries, 3); // 109, 119, 129 remain
      await idx.persist(false);
      const raw = await readFile(join(dir, 'x.index'));
      assert.equal(raw.length, 3 * OFFSET_ENTRY_SIZE);
      assert.deepEqual([raw.readInt32BE(16), raw.readInt32BE(20)], [29, 2000], 'Kafka layout: int32 relative offset, int32 position');
      const loaded = new OffsetIndex(join(dir, 'x.index'), 100n, 1024, (await readIndexFile(join(dir, 'x.index'), 8))!);
      assert.equal(loaded.isSane(3000), true);
      assert.equal(loaded.isSane(1500), false, 'position past the log end');
      await writeFile(join(dir, 'y.index'), Buffer.alloc(13));
      assert.equal(await readIndexFile(join(dir, 'y.index'), 8), null);
    } finally {
      await cleanup();
    }
  });

  it('maps timestamps to the offset to start scanning from', () => {
    const ti = new TimeIndex('/nonexistent', 0n, 12 * 100);
    ti.maybeAppend(1000n, 9n);
    ti.maybeAppend(900n, 19n); // max timestamp did not grow: no entry
    ti.maybeAppend(2000n, 29n);
    assert.equal(ti.entries, 2);
    assert.equal(ti.lookup(500n), 0n);
    assert.equal(ti.lookup(1000n), 0n);
    assert.equal(ti.lookup(1001n), 9n);
    assert.equal(ti.lookup(5000n), 29n);
    ti.truncateTo(29n);
    assert.equal(ti.entries, 1);
    assert.equal(ti.isSane(), true);
  });
});

describe('leader epoch cache', () => {
  it('answers OffsetForLeaderEpoch and survives truncation and reload', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = await LeaderEpochCache.load(dir);
      assert.deepEqual(cache.endOffsetFor(0, 10n), { epoch: -1, endOffset: -1n });
      cache.assign(1, 0n);
      cache.assign(1, 5n); // same epoch: ignored
      cache.assign(3, 10n);
      cache.assign(5, 20n);
      assert.deepEqual(cache.endOffsetFor(0, 30n), { epoch: -1, endOffset: -1n });
      assert.deepEqual(cache.endOffsetFor(1, 30n), { epoch: 1, endOffset: 10n });
      assert.deepEqual(cache.endOffsetFor(2, 30n), { epoch: 1, endOffset: 10n });
      assert.deepEqual(cache.endOffsetFor(4, 30n), { epoch: 3, endOffset: 20n });
      assert.deepEqual(cache.endOffsetFor(5, 30n), { epoch: 5, endOffset: 30n });
      assert.deepEqual(cache.endOffsetFor(9, 30n), { epoch: 5, endOffset: 30n });
      cache.truncateFromEnd(20n);
      cache.truncateFromStart(12n);
      assert.deepEqual(cache.all, [{ epoch: 3, startOffset: 12n }]);
      await cache.persist();
      assert.equal(await readFile(join(dir, LEADER_EPOCH_CHECKPOINT), 'utf8'), '0\n1\n3 12\n');
      const reloaded = await LeaderEpochCache.load(dir);
      assert.deepEqual(reloaded.all, cache.all);
      cache.assign(7, 12n); // a newer epoch at the same offset supersedes the older one
      assert.deepEqual(cache.all, [{ epoch: 7, startOffset: 12n }]);
    } finally {
      await cleanup();
    }
  });
});

describe('checkpoint files', () => {
  it("round-trip Kafka's text format and reject malformed files", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'recovery-point-offset-checkpoint');
      await writeOffsetCheckpoint(path, [
        { topic: 'orders', partition: 0, offset: 42n },
        { topic: 'my-topic-2', partition: 11, offset: 7n },
      ]);
      assert.equal(await readFile(path, 'utf8'), '0\n2\norders 0 42\nmy-topic-2 11 7\n');
      const read = await readOffsetCheckpoint(path);
      assert.equal(read.get('orders-0'), 42n);
      assert.equal(read.get('my-topic-2-11'), 7n);
      assert.equal((await readOffsetCheckpoint(join(dir, 'missing'))).size, 0);
      await writeFile(path, '0\n3\norders 0 42\n');
      await assert.rejects(readOffsetCheckpoint(path), CheckpointFormatError);
      await writeFile(path, '1\n0\n');
      await assert.rejects(readOffsetCheckpoint(path), /unsupported version/);
    } finally {
      await cleanup();
    }
  });

  it('parses partition directory names', () => {
    assert.deepEqual(parsePartitionDirName('my-topic-12'), { topic: 'my-topic', partition: 12 });
    assert.equal(parsePartitionDirName('nodash'), null);
    assert.equal(parsePartitionDirName('topic-x'), null);
  });
});
