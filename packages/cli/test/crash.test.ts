/**
 * `sluice start` killed with SIGKILL under acks=all load: after a restart on the same data
 * directory every acknowledged record is visible (ListOffsets latest and a fresh consumer from the
 * beginning) and every acknowledged group-offset commit is returned by OffsetFetch. Two rounds, so
 * the second crash also hits logs that were recovered once already.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, OffsetSpec, Producer } from '@sluice/client';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const PARTITIONS = 4;
const TOPIC = 'crash-acks-all';
const GROUP = 'crash-committer';

interface BrokerProcess {
  child: ChildProcess;
  bootstrap: string;
  stderr(): string;
}

async function startBroker(dataDir: string): Promise<BrokerProcess> {
  // Its own process group, so SIGKILL reaches the broker and nothing else of the test.
  const child = spawn(process.execPath, [MAIN, 'start', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const deadline = Date.now() + 30_000;
  let m: RegExpExecArray | null;
  while (!(m = /listening on (127\.0\.0\.1:\d+)/.exec(stderr))) {
    assert.equal(child.exitCode, null, `sluice start exited: ${stderr}`);
    assert.ok(Date.now() < deadline, `sluice start did not become ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, bootstrap: m[1], stderr: () => stderr };
}

function kill9(broker: BrokerProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => (broker.child.exitCode !== null || broker.child.signalCode !== null ? resolve() : broker.child.once('exit', () => resolve())));
  process.kill(-broker.child.pid!, 'SIGKILL');
  return exited;
}

interface Acknowledged {
  /** Values acknowledged per partition, by offset. */
  records: Map<number, Map<bigint, string>>;
  /** The last commit acknowledged per partition. */
  commits: Map<number, bigint>;
}

/**
 * Produces 512-byte values with acks=all to every partition and commits group offsets as records
 * are acknowledged, until the broker is killed; returns what was acknowledged before the kill.
 */
async function loadUntilKilled(broker: BrokerProcess, round: number, runMs: number): Promise<Acknowledged> {
  const producer = new Producer({ brokers: [broker.bootstrap], acks: 'all', lingerMs: 2, deliveryTimeoutMs: 3000 });
  const admin = new Admin({ brokers: [broker.bootstrap] });
  const acked: Acknowledged = { records: new Map(), commits: new Map() };
  for (let p = 0; p < PARTITIONS; p++) acked.records.set(p, new Map());
  let killed = false;
  const padding = 'x'.repeat(512);
  const produceLoop = async (partition: number) => {
    for (let batch = 0; !killed; batch++) {
      const values = Array.from({ length: 50 }, (_, i) => `${round}:${partition}:${batch}:${i}:`.concat(padding).slice(0, 512));
      try {
        const metas = await producer.sendBatch(values.map((value) => ({ topic: TOPIC, partition, value })));
        metas.forEach((m, i) => acked.records.get(m.partition)!.set(m.offset, values[i]));
      } catch {
        return; // the broker is gone: what was not acknowledged is not checked
      }
    }
  };
  const commitLoop = async () => {
    while (!killed) {
      const offsets = [...acked.records].map(([partition, byOffset]) => ({ topic: TOPIC, partition, offset: [...byOffset.keys()].reduce((a, b) => (b > a ? b : a), -1n) + 1n }));
      try {
        await admin.alterConsumerGroupOffsets(GROUP, offsets);
        for (const o of offsets) acked.commits.set(o.partition, o.offset);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loops = [...Array.from({ length: PARTITIONS }, (_, p) => produceLoop(p)), commitLoop()];
  await new Promise((r) => setTimeout(r, runMs));
  killed = true;
  await kill9(broker);
  await Promise.all(loops);
  await producer.close().catch(() => undefined);
  admin.close();
  return acked;
}

async function readEverything(bootstrap: string, ends: Map<number, bigint>): Promise<Map<number, Map<bigint, string>>> {
  const consumer = new Consumer({ brokers: [bootstrap], autoOffsetReset: 'earliest' });
  const seen = new Map<number, Map<bigint, string>>();
  try {
    await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
    await consumer.seekToBeginning();
    for (let p = 0; p < PARTITIONS; p++) seen.set(p, new Map());
    const done = () => [...ends].every(([p, end]) => seen.get(p)!.size >= Number(end));
    const deadline = Date.now() + 60_000;
    while (!done()) {
      assert.ok(Date.now() < deadline, 'timed out reading the topic back');
      const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
      if (batch) for (const r of batch.records) seen.get(r.partition)!.set(r.offset, r.value!.toString());
    }
  } finally {
    await consumer.close();
  }
  return seen;
}

test('kill -9 under acks=all load: after restart every acknowledged record and commit is visible', { timeout: 240_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let broker = await startBroker(dataDir);
  t.after(() => {
    if (broker.child.exitCode === null && broker.child.signalCode === null) process.kill(-broker.child.pid!, 'SIGKILL');
  });
  const setup = new Admin({ brokers: [broker.bootstrap] });
  await setup.createTopics([{ topic: TOPIC, numPartitions: PARTITIONS }]);
  setup.close();

  const allAcked = new Map<number, Map<bigint, string>>(Array.from({ length: PARTITIONS }, (_, p) => [p, new Map()]));
  for (let round = 1; round <= 2; round++) {
    const acked = await loadUntilKilled(broker, round, 2500);
    for (const [p, byOffset] of acked.records) for (const [o, v] of byOffset) allAcked.get(p)!.set(o, v);
    const count = [...acked.records.values()].reduce((n, m) => n + m.size, 0);
    t.diagnostic(`round ${round}: ${count} records and ${acked.commits.size} partitions' commits acknowledged before kill -9`);
    assert.ok(count > 0, 'some records were acknowledged before the kill');

    broker = await startBroker(dataDir);
    assert.match(broker.stderr(), /previous shutdown was not clean/);
    const admin = new Admin({ brokers: [broker.bootstrap] });
    try {
      const latest = await admin.listOffsets(TOPIC, OffsetSpec.latest);
      const ends = new Map(latest.map((o) => [o.partition, o.offset]));
      for (const [p, byOffset] of allAcked) {
        const maxAcked = [...byOffset.keys()].reduce((a, b) => (b > a ? b : a), -1n);
        assert.ok(ends.get(p)! >= maxAcked + 1n, `partition ${p}: ListOffsets latest ${ends.get(p)} after restart, but offset ${maxAcked} was acknowledged`);
      }
      const committed = new Map((await admin.listConsumerGroupOffsets(GROUP)).map((o) => [o.partition, o.offset]));
      for (const [p, offset] of acked.commits) {
        assert.ok((committed.get(p) ?? -1n) >= offset, `partition ${p}: committed offset ${committed.get(p)} after restart, but ${offset} was acknowledged`);
      }
      const seen = await readEverything(broker.bootstrap, ends);
      for (const [p, byOffset] of allAcked) {
        for (const [offset, value] of byOffset) assert.equal(seen.get(p)!.get(offset), value, `partition ${p} offset ${offset}: acknowledged record missing or changed`);
      }
    } finally {
      admin.close();
    }
  }
  await kill9(broker);
});
