/**
 * Child process of crash.test: appends durably to one partition from several concurrent writers
 * and prints "ack <baseOffset> <lastOffset> <crc>" for every acknowledged batch, until killed.
 */
import { BatchOffsets } from '@sluice/protocol';
import { LogManager } from '../src/log-manager.js';
import { parseTopicConfig } from '../src/config.js';
import { batchOf } from './helpers.js';

const [dataDir, seedText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0 || 1;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

const config = parseTopicConfig({ 'flush.messages': '1', 'segment.bytes': String(64 * 1024), 'index.interval.bytes': '512' });
const mgr = await LogManager.open({ dataDir, topicConfigs: new Map([['crash', config]]), checkpointIntervalMs: 40 });
mgr.startBackgroundTasks();
const log = mgr.getLog('crash', 0) ?? (await mgr.createLog('crash', 0, config));
process.stdout.write(`ready ${log.logEndOffset}\n`);

async function writer(id: number): Promise<never> {
  for (let n = 0; ; n++) {
    const batch = batchOf(1 + Math.floor(random() * 20), { tag: `w${id}-${n}`, valueBytes: Math.floor(random() * 400) });
    const r = await log.append(batch, { leaderEpoch: 1 });
    process.stdout.write(`ack ${r.baseOffset} ${r.lastOffset} ${batch.readUInt32BE(BatchOffsets.crc)}\n`);
  }
}
await Promise.all([0, 1, 2, 3, 4, 5].map(writer));
