import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BatchOffsets, scanBatches, verifyBatchCrc } from '@sluice/protocol';
import { LogManager } from '../src/log-manager.js';
import { parseTopicConfig } from '../src/config.js';
import { batchOf, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const ROUNDS = Number(process.env.SLUICE_CRASH_ROUNDS ?? 20);

interface Ack {
  base: bigint;
  last: bigint;
  crc: number;
}

/** Runs the child until it has acknowledged something, then SIGKILLs it after a random delay. */
function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!; // an incomplete last line was never fully acknowledged
      for (const line of lines) {
        const parts = line.split(' ');
        if (parts[0] === 'ack') acks.push({ base: BigInt(parts[1]), last: BigInt(parts[2]), crc: Number(parts[3]) });
        if (parts[0] === 'ready' && !armed) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}/${signal}: ${stderr}`));
      else resolve(acks);
    });
  });
}

it(`keeps every acknowledged durable batch across ${ROUNDS} kill -9 rounds`, { timeout: 180_000 }, async () => {
  const { dir, cleanup } = await tempDir('sluice-crash-');
  const config = parseTopicConfig({ 'flush.messages': '1', 'segment.bytes': String(64 * 1024), 'index.interval.bytes': '512' });
  const topicConfigs = new Map([['crash', config]]);
  let totalAcks = 0;
  let seed = 12345;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      seed = (seed * 48271) % 2147483647;
      const acks = await runAndKill(dir, seed, 30 + (seed % 400));
      totalAcks += acks.length;
      const mgr = await LogManager.open({ dataDir: dir, topicConfigs });
      const log = mgr.getLog('crash', 0);
      assert.ok(log, `round ${round}: the log exists`);
      for (const ack of acks) {
        assert.ok(ack.last < log.logEndOffset, `round ${round}: acked ${ack.base}-${ack.last} but log ends at ${log.logEndOffset}`);
        const r = await log.read(ack.base, 1);
        assert.equal(r.records.readBigInt64BE(0), ack.base, `round ${round}: batch at ${ack.base}`);
        const last = r.records.readBigInt64BE(0) + BigInt(r.records.readInt32BE(BatchOffsets.lastOffsetDelta));
        assert.equal(last, ack.last);
        assert.equal(r.records.readUInt32BE(BatchOffsets.crc), ack.crc);
        assert.ok(verifyBatchCrc(r.records, 0));
      }
      // The whole log is contiguous and CRC-valid.
      let next = log.logStartOffset;
      while (next < log.logEndOffset) {
        const r = await log.read(next, 1 << 20);
        const scan = scanBatches(r.records, { verifyCrc: true });
        assert.equal(scan.stoppedBy, null);
        assert.equal(r.records.readBigInt64BE(0), next, `round ${round}: no gap at ${next}`);
        next = r.nextOffset;
      }
      // And it keeps working after recovery.
      const end = log.logEndOffset;
      const res = await log.append(batchOf(2, { tag: `after-${round}` }));
      assert.equal(res.baseOffset, end);
      // Alternate clean and unclean hand-over to the next child.
      if (round % 2 === 0) await mgr.shutdown();
      else for (const s of log.segments) await s.fileHandle.close();
    }
    assert.ok(totalAcks > ROUNDS, `children acknowledged ${totalAcks} batches in ${ROUNDS} rounds`);
    console.log(`# crash test: ${ROUNDS} rounds, ${totalAcks} acknowledged batches verified`);
  } finally {
    await cleanup();
  }
});
