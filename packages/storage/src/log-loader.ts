/**
 * Opening a log (Kafka's LogLoader): finish or undo what a crash interrupted (deletions, compaction
 * output, `.swap` files), open the segments, re-check everything after the recovery point (CRC,
 * index rebuild, tail truncation; the clean-shutdown marker skips it) and set the log's offsets.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, BatchIterator } from '@sluice/protocol';
import { fsyncDirectory } from './checkpoint.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogSegments } from './log-segments.js';
import type { LogState } from './log-state.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, LogSegment, SWAP_SUFFIX, TIME_INDEX_SUFFIX, segmentFileName, type SegmentOptions } from './segment.js';
import { TXN_INDEX_SUFFIX } from './transaction-index.js';

/** Offsets from the log dir's checkpoint files; a missing one means "recover everything". */
export interface LogCheckpoints {
  recoveryPoint?: bigint;
  logStartOffset?: bigint;
  highWatermark?: bigint;
}

export async function loadLog(
  segments: LogSegments,
  state: LogState,
  epochs: LeaderEpochCache,
  segmentOptions: SegmentOptions,
  cp: LogCheckpoints,
  cleanShutdown: boolean,
): Promise<void> {
  const dir = segments.dir;
  const names = await readdir(dir);
  // Leftovers of interrupted operations: deletions to finish, unfinished compaction output.
  for (const name of names) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith(CLEANED_SUFFIX) || name.endsWith('.tmp')) {
      await unlink(join(dir, name)).catch(() => undefined);
    }
  }
  await completeSwaps(dir, names.filter((n) => n.endsWith(LOG_SUFFIX + SWAP_SUFFIX)));
  // An index swap file whose log swap never started belongs to abandoned compaction output.
  for (const n of await readdir(dir)) if (n.endsWith(TXN_INDEX_SUFFIX + SWAP_SUFFIX)) await unlink(join(dir, n)).catch(() => undefined);
  const current = await readdir(dir);
  const bases = current
    .filter((n) => n.endsWith(LOG_SUFFIX) && /^\d{20}\.log$/.test(n))
    .map((n) => BigInt(n.slice(0, 20)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Index files whose log is gone are stale.
  for (const n of current) {
    if ((n.endsWith(INDEX_SUFFIX) || n.endsWith(TIME_INDEX_SUFFIX) || n.endsWith(TXN_INDEX_SUFFIX)) && /^\d{20}\./.test(n) && !bases.includes(BigInt(n.slice(0, 20)))) {
      await unlink(join(dir, n)).catch(() => undefined);
    }
  }
  if (bases.length === 0) {
    await segments.create(cp.logStartOffset ?? 0n);
  } else {
    for (const base of bases) segments.add(await LogSegment.open(dir, base, segmentOptions));
  }
  const recoveryPoint = cleanShutdown ? null : (cp.recoveryPoint ?? 0n);
  let firstToRecover = segments.length;
  if (recoveryPoint !== null) {
    firstToRecover = 0;
    for (let i = 0; i < segments.length; i++) if (segments.at(i)!.baseOffset <= recoveryPoint) firstToRecover = i;
  }
  const last = segments.length - 1;
  for (let i = 0; i < firstToRecover && i < last; i++) await segments.at(i)!.loadSummary(segments.at(i + 1)!.baseOffset);
  if (recoveryPoint === null) {
    await segments.active.loadIndexes();
  } else {
    for (let i = firstToRecover; i < segments.length; i++) {
      const seg = segments.at(i)!;
      // No max.message.bytes bound here: it may have been lowered after valid data was written.
      const truncated = await seg.recover();
      // Aborts indexed just before a crash may name markers the recovery cut off.
      await seg.txnIndex.truncateTo(seg.nextOffset);
      await seg.flush();
      await Promise.all([(await seg.offsetIndex()).persist(true), (await seg.timeIndex()).persist(true)]);
      if (truncated > 0 && i < segments.length - 1) {
        // Anything after a damaged batch was never acknowledged as durable: drop later segments.
        for (const later of segments.removeAfter(i)) await later.markDeleted();
        break;
      }
    }
  }
  // An empty active segment after a roll still ends where its predecessor does.
  const active = segments.active;
  state.endOffset = active.nextOffset;
  for (const seg of segments.all) if (seg.nextOffset > state.endOffset && seg !== active) state.endOffset = seg.nextOffset;
  const firstBase = segments.first.baseOffset;
  state.startOffset = clamp(cp.logStartOffset ?? firstBase, firstBase, state.endOffset);
  state.recoveryPoint = state.endOffset;
  state.highWatermark = clamp(cp.highWatermark ?? 0n, state.startOffset, state.endOffset);
  let epochsChanged = epochs.truncateFromEnd(state.endOffset);
  if (epochs.truncateFromStart(state.startOffset)) epochsChanged = true;
  if (epochsChanged) await epochs.persist();
}

function clamp(v: bigint, lo: bigint, hi: bigint): bigint {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * A `.swap` segment is finished (fsynced) compaction output whose swap was interrupted: it
 * replaces every old segment whose offsets it covers. Each step is idempotent, and the swap file
 * takes its final name last, so a crash here is finished by the next open.
 */
async function completeSwaps(dir: string, swapLogs: string[]): Promise<void> {
  for (const name of swapLogs.sort()) {
    const base = BigInt(name.slice(0, 20));
    const swapPath = join(dir, name);
    const end = await endOffsetOfFile(swapPath, base);
    const files = await readdir(dir);
    const logs = files.filter((n) => /^\d{20}\.log$/.test(n)).map((n) => BigInt(n.slice(0, 20)));
    for (const b of logs) {
      if (b >= base && b < end) {
        for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) await unlink(join(dir, segmentFileName(b, suffix))).catch(() => undefined);
      }
    }
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) await unlink(join(dir, segmentFileName(base, suffix))).catch(() => undefined);
    // The output's aborted-transaction index: still `.swap` means the old indexes are all stale;
    // already renamed means the one at `base` is the output's and only later ones are stale.
    const txnSwap = join(dir, segmentFileName(base, TXN_INDEX_SUFFIX + SWAP_SUFFIX));
    const txnSwapPending = files.includes(segmentFileName(base, TXN_INDEX_SUFFIX + SWAP_SUFFIX));
    for (const n of files) {
      if (!/^\d{20}\.txnindex$/.test(n)) continue;
      const b = BigInt(n.slice(0, 20));
      if (b >= base && b < end && (txnSwapPending || b > base)) await unlink(join(dir, n)).catch(() => undefined);
    }
    if (txnSwapPending) await rename(txnSwap, join(dir, segmentFileName(base, TXN_INDEX_SUFFIX)));
    await fsyncDirectory(dir);
    await rename(swapPath, join(dir, segmentFileName(base, LOG_SUFFIX)));
    await fsyncDirectory(dir);
  }
}

/** Offset after the last whole batch of a segment file (its base offset when it has none). */
async function endOffsetOfFile(path: string, baseOffset: bigint): Promise<bigint> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    let pos = 0;
    let end = baseOffset;
    while (pos + BATCH_HEADER_SIZE <= size) {
      const { bytesRead } = await fh.read(head, 0, BATCH_HEADER_SIZE, pos);
      // One header at a time through the shared iterator; the batch must end inside the file.
      const it = new BatchIterator(head.subarray(0, bytesRead), { allowPartial: true });
      if (!it.next() || pos + it.size > size) break;
      end = it.lastOffset + 1n;
      pos += it.size;
    }
    return end;
  } finally {
    await fh.close();
  }
}
