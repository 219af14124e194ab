/**
 * JBOD: several log.dirs per broker. New replicas go to the directory with the fewest partitions,
 * DescribeLogDirs answers per directory, a restart recovers every directory's logs in place, and a
 * partition found in two directories stops the start-up with a clear message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKey, ErrorCode, buildRecordBatch, iterateRecordBatches } from '@sluice/protocol';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient, tempDir } from '../helpers.js';

const batch = (tag: string, n: number) => buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}${i}`.padEnd(100, '.')), timestamp: BigInt(Date.now()) })));

test('two log.dirs: partitions spread by count, DescribeLogDirs per directory, a restart recovers both, a duplicate partition is refused', async (t) => {
  const a = tempDir('sluice-jbod-a-');
  const b = tempDir('sluice-jbod-b-');
  t.after(() => {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });
  const start = (dirs: string) => startBroker({ host: '127.0.0.1', port: 0, 'log.dirs': dirs } as Parameters<typeof startBroker>[0]);
  let broker: RunningBroker | null = await start(`${a},${b}`);
  t.after(async () => {
    await broker?.stop();
  });
  const ctx = broker.context;
  await ctx.topics.create({ name: 'j', numPartitions: 4, replicationFactor: 1, configs: {} });
  const rm = ctx.replicaManager;
  for (let p = 0; p < 4; p++) {
    const partition = rm.getPartition('j', p)!;
    assert.equal((await rm.appendRecords(partition, batch(`p${p}-`, 10 * (p + 1)), { acks: 1, timeoutMs: 0, origin: 'client' })).errorCode, ErrorCode.NONE);
  }
  const dirOf = (p: number) => rm.logDirOf('j', p);
  const inA = [0, 1, 2, 3].filter((p) => dirOf(p) === a);
  const inB = [0, 1, 2, 3].filter((p) => dirOf(p) === b);
  assert.equal(inA.length, 2, `two partitions in each directory: ${[0, 1, 2, 3].map(dirOf).join(', ')}`);
  assert.equal(inB.length, 2);
  for (const p of inB) assert.ok(existsSync(join(b, `j-${p}`)) && !existsSync(join(a, `j-${p}`)));
  assert.ok(existsSync(join(b, 'meta.properties')) && existsSync(join(b, '.lock')), 'every directory has meta.properties and the lock');

  const c = await RawClient.connect(broker.port);
  const described = await c.send(ApiKey.DescribeLogDirs, 4, { topics: null });
  c.close();
  assert.deepEqual(described.results.map((r) => r.logDir).sort(), [a, b].sort());
  for (const r of described.results) {
    assert.equal(r.errorCode, ErrorCode.NONE);
    const parts = r.topics.flatMap((x) => x.partitions);
    assert.deepEqual(parts.map((p) => p.partitionIndex).sort(), (r.logDir === a ? inA : inB).sort());
    for (const p of parts) {
      assert.equal(p.partitionSize, BigInt(rm.getPartition('j', p.partitionIndex)!.sizeInBytes));
      assert.ok(p.partitionSize > 0n && p.offsetLag === 0n && !p.isFutureKey);
    }
    assert.ok(r.totalBytes! > 0n && r.usableBytes! > 0n);
  }

  // Restart: every log comes back from its own directory with its records.
  await broker.stop();
  broker = await start(`${a},${b}`);
  const rm2 = broker.context.replicaManager;
  for (let p = 0; p < 4; p++) {
    assert.equal(rm2.logDirOf('j', p), p === inA[0] || p === inA[1] ? a : b);
    assert.equal(rm2.getPartition('j', p)!.logEndOffset, BigInt(10 * (p + 1)));
  }
  // A new topic's partitions go where there are fewest (here one to each).
  await broker.context.topics.create({ name: 'k', numPartitions: 2, replicationFactor: 1, configs: {} });
  assert.deepEqual([rm2.logDirOf('k', 0), rm2.logDirOf('k', 1)].sort(), [a, b].sort());
  await broker.stop();
  broker = null;

  // The same partition in both directories (a copy left behind): refused, nothing started.
  cpSync(join(b, `j-${inB[0]}`), join(a, `j-${inB[0]}`), { recursive: true });
  await assert.rejects(start(`${a},${b}`), new RegExp(`duplicate log directories for j-${inB[0]}`));
  rmSync(join(a, `j-${inB[0]}`), { recursive: true });
  // The refused start released its locks: the broker starts once the copy is gone.
  broker = await start(`${a},${b}`);
  assert.equal(broker.context.replicaManager.logDirOf('j', inB[0]), b);
  await broker.stop();
  broker = null;

  // A directory listed twice is a configuration error.
  await assert.rejects(start(`${a},${a}`), /listed twice/);
});

test('AlterReplicaLogDirs moves a replica to the other directory while it is written to: every record kept in order, the old directory emptied, a restart finds it in the new one', async (t) => {
  const a = tempDir('sluice-jbod-a-');
  const b = tempDir('sluice-jbod-b-');
  const start = () => startBroker({ host: '127.0.0.1', port: 0, 'log.dirs': `${a},${b}` } as Parameters<typeof startBroker>[0]);
  let broker = await start();
  t.after(async () => {
    await broker.stop();
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });
  await broker.context.topics.create({ name: 'mv', numPartitions: 1, replicationFactor: 1, configs: {} });
  const rm = broker.context.replicaManager;
  const from = rm.logDirOf('mv', 0)!;
  const to = from === a ? b : a;
  let written = 0;
  const write = async (n: number) => {
    const p = rm.getPartition('mv', 0)!;
    const r = await rm.appendRecords(p, batch(`r${written}-`, n), { acks: 1, timeoutMs: 0, origin: 'client' });
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.baseOffset, BigInt(written));
    written += n;
  };
  for (let i = 0; i < 200; i++) await write(100); // 20,000 records, about 2.5 MB

  const c = await RawClient.connect(broker.port);
  t.after(() => c.close());
  const bad = await c.send(ApiKey.AlterReplicaLogDirs, 2, { dirs: [{ path: join(a, 'nope'), topics: [{ name: 'mv', partitions: [0] }] }] });
  assert.equal(bad.results[0].partitions[0].errorCode, ErrorCode.LOG_DIR_NOT_FOUND);
  const moved = await c.send(ApiKey.AlterReplicaLogDirs, 2, { dirs: [{ path: to, topics: [{ name: 'mv', partitions: [0] }, { name: 'nosuch', partitions: [0] }] }] });
  assert.deepEqual(moved.results.map((r) => [r.topicName, r.partitions[0].errorCode]), [['mv', ErrorCode.NONE], ['nosuch', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
  // Writes go on during the copy and the swap.
  const deadline = Date.now() + 20_000;
  while (rm.logDirOf('mv', 0) !== to) {
    assert.ok(Date.now() < deadline, 'the move finishes');
    await write(10);
  }
  t.diagnostic(`moved with ${written - 20_000} records written during the move`);
  for (let i = 0; i < 10; i++) await write(10);
  assert.ok(!existsSync(join(from, 'mv-0')), 'the old directory no longer has the replica');
  assert.ok(existsSync(join(to, 'mv-0')));

  const check = async (log: import('@sluice/storage').PartitionLog) => {
    assert.equal(log.logEndOffset, BigInt(written));
    const r = await log.read(0n, 1 << 30, { maxOffset: log.logEndOffset });
    let next = 0;
    for (const rb of iterateRecordBatches(Buffer.from(r.records))) for (const rec of rb.records) assert.equal(rec.offset, BigInt(next++));
    assert.equal(next, written, 'every record, in order');
  };
  await check(rm.getPartition('mv', 0)!.log);
  await broker.stop();
  broker = await start();
  assert.equal(broker.context.replicaManager.logDirOf('mv', 0), to);
  await check(broker.context.replicaManager.getPartition('mv', 0)!.log);
});

test('replica.alter.log.dirs.io.max.bytes.per.second holds a move between directories to its rate, read live: removing it lets the next move run unthrottled', async (t) => {
  const a = tempDir('sluice-jbod-a-');
  const b = tempDir('sluice-jbod-b-');
  const RATE = 400_000;
  const broker = await startBroker({
    host: '127.0.0.1',
    port: 0,
    'log.dirs': `${a},${b}`,
    // Two 1 s samples: the copy may burst for one window, then holds the rate.
    'alter.log.dirs.replication.quota.window.num': 2,
    'alter.log.dirs.replication.quota.window.size.seconds': 1,
  } as Parameters<typeof startBroker>[0]);
  t.after(async () => {
    await broker.stop();
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });
  await broker.context.topics.create({ name: 'slow', numPartitions: 1, replicationFactor: 1, configs: {} });
  const rm = broker.context.replicaManager;
  for (let i = 0; i < 120; i++) assert.equal((await rm.appendRecords(rm.getPartition('slow', 0)!, batch(`s${i}-`, 100), { acks: 1, timeoutMs: 0, origin: 'client' })).errorCode, ErrorCode.NONE);
  const bytes = rm.getPartition('slow', 0)!.sizeInBytes;
  const c = await RawClient.connect(broker.port);
  t.after(() => c.close());
  // A dynamic broker config (as in Kafka, not one for server.properties), read at every step of the copy.
  const setRate = async (value: string | null) => {
    const r = await c.send(ApiKey.IncrementalAlterConfigs, 1, { validateOnly: false, resources: [{ resourceType: 4, resourceName: String(broker.context.config.nodeId), configs: [{ name: 'replica.alter.log.dirs.io.max.bytes.per.second', configOperation: value === null ? 1 : 0, value }] }] });
    assert.equal(r.responses[0].errorCode, ErrorCode.NONE, r.responses[0].errorMessage ?? '');
  };
  await setRate(String(RATE));
  const move = async () => {
    const to = rm.logDirOf('slow', 0) === a ? b : a;
    const started = performance.now();
    const r = await c.send(ApiKey.AlterReplicaLogDirs, 2, { dirs: [{ path: to, topics: [{ name: 'slow', partitions: [0] }] }] });
    assert.equal(r.results[0].partitions[0].errorCode, ErrorCode.NONE);
    while (rm.logDirOf('slow', 0) !== to) {
      assert.ok(performance.now() - started < 30_000, 'the move finishes');
      await new Promise((res) => setTimeout(res, 20));
    }
    return (performance.now() - started) / 1000;
  };
  const throttled = await move();
  // At most one window's burst, then RATE: the copy cannot take less than this.
  const floor = (bytes - RATE) / RATE;
  t.diagnostic(`${bytes} bytes moved in ${throttled.toFixed(2)} s at ${RATE} B/s (at least ${floor.toFixed(2)} s); ${(bytes / throttled / 1e6).toFixed(2)} MB/s`);
  assert.ok(throttled >= floor * 0.9, `throttled move took ${throttled.toFixed(2)} s, less than ${floor.toFixed(2)} s`);
  assert.ok(throttled < floor * 3 + 2, `throttled move took ${throttled.toFixed(2)} s, far more than ${floor.toFixed(2)} s`);

  await setRate(null);
  const free = await move();
  t.diagnostic(`without the throttle: ${free.toFixed(2)} s`);
  assert.ok(free < throttled / 2, `unthrottled ${free.toFixed(2)} s vs throttled ${throttled.toFixed(2)} s`);
});
