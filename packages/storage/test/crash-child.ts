/**
 * Child process of crash.test: appends durably to one partition from several concurrent writers
 * and prints "ack <baseOffset> <lastOffset> <crc> <key>" for every acknowledged batch, until
 * killed. Mode "compact" writes single keyed records to a compacted topic whose cleaner runs
 * continuously, so kills also land in the middle of compaction passes and swaps.
 */
import { BatchOffsets, buildRecordBatch } from '@sluice/protocol';
import { LogManager } from '../src/log-manager.js';
import { parseTopicConfig } from '../src/config.js';
import { batchOf } from './helpers.js';

const [dataDir, seedText, mode = 'plain'] = process.argv.slice(2);
let seed = Number(seedText) >>> 0 || 1;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

const crashTopicConfig = (compact: boolean) =>
  parseTopicConfig({
    'flush.messages': '1',
    'segment.bytes': String(compact ? 8 * 1024 : 64 * 1024),
    'index.interval.bytes': '512',
    ...(compact ? { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01' } : {}),
  });

const compact = mode === 'compact';
const config = crashTopicConfig(compact);
const mgr = await LogManager.open({ dataDir, topicConfigs: new Map([['crash', config]]), checkpointIntervalMs: 40, cleanerBackoffMs: 15 });
mgr.startBackgroundTasks();
const log = mgr.getLog('crash', 0) ?? (await mgr.createLog('crash', 0, config));
process.stdout.write(`ready ${log.logEndOffset}\n`);

async function writer(id: number): Promise<never> {
  for (let n = 0; ; n++) {
    const key = compact ? `k${Math.floor(random() * 40)}` : '-';
    const batch = compact
      ? buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(`w${id}-${n}`) }])
      : batchOf(1 + Math.floor(random() * 20), { tag: `w${id}-${n}`, valueBytes: Math.floor(random() * 400) });
    const r = await log.appendAsLeader(batch, { leaderEpoch: 1 });
    // Committed at once, as a single broker's produce does: the cleaner works below the HW.
    log.highWatermark = log.logEndOffset;
    process.stdout.write(`ack ${r.baseOffset} ${r.lastOffset} ${batch.readUInt32BE(BatchOffsets.crc)} ${key}\n`);
  }
}
await Promise.all([0, 1, 2, 3, 4, 5].map(writer));
