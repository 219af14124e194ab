import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildControlBatch, buildRecordBatch } from '@sluice/protocol';
import { LogManager } from '@sluice/storage';
import { run } from './helpers.js';

async function writeSegment(dir: string, topic: string, batches: Buffer[], roll = false): Promise<string> {
  const logs = await LogManager.open({ dataDir: dir, cleanerEnabled: false });
  const log = await logs.createLog(topic, 0);
  for (const b of batches) await log.appendAsLeader(b);
  if (roll) await log.roll();
  await logs.shutdown();
  return join(dir, `${topic}-0`);
}

test('dump-log prints batch headers, records with --print-data-log, and checks CRCs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dump-'));
  try {
    const ts = 1_700_000_000_000n;
    const partDir = await writeSegment(dir, 'orders', [
      buildRecordBatch([{ key: Buffer.from('k1'), value: Buffer.from('hello'), timestamp: ts, headers: [{ key: 'h', value: Buffer.from('x') }] }, { value: Buffer.from('world'), timestamp: ts + 1n }]),
      buildRecordBatch([{ key: Buffer.from('k2'), value: Buffer.from('zipped'), timestamp: ts + 2n }], { compression: 'gzip' }),
      buildControlBatch('commit', { producerId: 7n, producerEpoch: 1, coordinatorEpoch: 3, timestamp: ts + 3n }),
    ]);
    const logFile = join(partDir, '00000000000000000000.log');

    const headersOnly = await run('dump-log', ['--files', logFile]);
    assert.equal(headersOnly.code, 0, headersOnly.stderr);
    const lines = headersOnly.stdout.trim().split('\n');
    assert.equal(lines[0], `Dumping ${logFile}`);
    assert.equal(lines[1], 'Log starting offset: 0');
    assert.equal(lines.length, 5);
    assert.match(lines[2], /^baseOffset: 0 lastOffset: 1 count: 2 .* position: 0 CreateTime: 1700000000001 size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/);
    assert.match(lines[3], /^baseOffset: 2 lastOffset: 2 count: 1 .*compresscodec: gzip .*isvalid: true$/);
    assert.match(lines[4], /producerId: 7 producerEpoch: 1 .*isTransactional: true isControl: true/);

    const data = await run('dump-log', ['--files', logFile, '--print-data-log']);
    assert.equal(data.code, 0, data.stderr);
    assert.match(data.stdout, /\| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 5 sequence: -1 headerKeys: \[h\] key: k1 payload: hello\n/);
    assert.match(data.stdout, /\| offset: 1 CreateTime: 1700000000001 keySize: -1 valueSize: 5 sequence: -1 headerKeys: \[\] payload: world\n/);
    assert.match(data.stdout, /\| offset: 2 .* key: k2 payload: zipped\n/);
    assert.match(data.stdout, /endTxnMarker: COMMIT coordinatorEpoch: 3/);

    const json = await run('dump-log', ['--files', logFile, '--print-data-log', '--json']);
    const objects = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { baseOffset: number; records: Array<{ key: string | null; payload: string }> });
    assert.equal(objects.length, 3);
    assert.deepEqual(objects[1].records.map((r) => [r.key, r.payload]), [['k2', 'zipped']]);

    // Flip one payload byte of the first batch: its CRC no longer matches and the exit code says so.
    const fh = await open(logFile, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, 70);
    byte[0] ^= 0xff;
    await fh.write(byte, 0, 1, 70);
    await fh.close();
    const corrupt = await run('dump-log', ['--files', logFile]);
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.stdout.split('\n')[2], /isvalid: false$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dump-log reports a torn tail as invalid bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dump-'));
  try {
    const partDir = await writeSegment(dir, 't', [buildRecordBatch([{ value: Buffer.from('a') }])]);
    const logFile = join(partDir, '00000000000000000000.log');
    const fh = await open(logFile, 'a');
    await fh.write(Buffer.from(buildRecordBatch([{ value: Buffer.from('torn write') }]).subarray(0, 40)));
    await fh.close();
    const r = await run('dump-log', ['--files', logFile]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Found 40 invalid bytes at the end of 00000000000000000000\.log \(truncated\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dump-log prints and verifies offset and time indexes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dump-'));
  try {
    // Big batches so the sparse index (every 4096 bytes) gets several entries; a roll persists the indexes.
    const batches = Array.from({ length: 6 }, (_, i) =>
      buildRecordBatch([{ value: Buffer.alloc(5000, i), timestamp: 1_700_000_000_000n + BigInt(i) * 10n }]),
    );
    const partDir = await writeSegment(dir, 'idx', batches, true);
    const files = (await readdir(partDir)).sort();
    const index = join(partDir, files.find((f) => f.endsWith('.index') && f.startsWith('00000000000000000000'))!);
    const timeindex = index.replace(/\.index$/, '.timeindex');

    const dumped = await run('dump-log', ['--files', `${index},${timeindex}`]);
    assert.equal(dumped.code, 0, dumped.stdout + dumped.stderr);
    const offsetLines = dumped.stdout.split('\n').filter((l) => l.startsWith('offset: '));
    assert.ok(offsetLines.length >= 2, dumped.stdout);
    assert.match(offsetLines[0], /^offset: \d+ position: \d+$/);
    const timeLines = dumped.stdout.split('\n').filter((l) => l.startsWith('timestamp: '));
    assert.ok(timeLines.length >= 2, dumped.stdout);

    const verified = await run('dump-log', ['--files', index, '--verify-index-only']);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /all \d+ entries match the log/);
    const sane = await run('dump-log', ['--files', index, '--index-sanity-check']);
    assert.match(sane.stdout, /passed sanity check/);

    // Point the second entry at a wrong position: verification names the mismatch.
    const fh = await open(index, 'r+');
    const pos = Buffer.alloc(4);
    pos.writeInt32BE(1, 0);
    await fh.write(pos, 0, 4, 12);
    await fh.close();
    const broken = await run('dump-log', ['--files', index, '--verify-index-only']);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /Mismatches in :.*\.index\n {2}Index offset: \d+, position 1 is not the start of a batch/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}
function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}
function int64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}
function str(s: string): Buffer {
  return Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
}

function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return Buffer.concat([int16(1), str(group), str(topic), int32(partition)]);
}

function offsetCommitValueV3(offset: bigint, metadata: string, commitTimestamp: bigint): Buffer {
  return Buffer.concat([int16(3), int64(offset), int32(5), str(metadata), int64(commitTimestamp)]);
}

test('dump-log --offsets-decoder decodes __consumer_offsets commits and tombstones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dump-'));
  try {
    const partDir = await writeSegment(dir, '__consumer_offsets', [
      buildRecordBatch([
        { key: offsetCommitKey('billing', 'orders', 2), value: offsetCommitValueV3(42n, 'm', 1_700_000_000_000n) },
        { key: offsetCommitKey('billing', 'orders', 3), value: null },
      ]),
    ]);
    const r = await run('dump-log', ['--files', join(partDir, '00000000000000000000.log'), '--offsets-decoder']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /key: \{"type":"offset_commit","version":1,"group":"billing","topic":"orders","partition":2\} payload: \{"version":3,"offset":42,"leaderEpoch":5,"metadata":"m","commitTimestamp":1700000000000,"expireTimestamp":-1\}/);
    assert.match(r.stdout, /"partition":3\} payload: <DELETE>/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dump-log usage errors name the problem and exit 2', async () => {
  const missing = await run('dump-log', []);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing required option --files/);
  const typo = await run('dump-log', ['--filez', 'x.log']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown option --filez\n {2}hint: did you mean --files\?/);
  const help = await run('dump-log', ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--print-data-log/);
  const absent = await run('dump-log', ['--files', '/nonexistent/00000000000000000000.log']);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /cannot read .*: no such file/);
});

test('dump-log prints a .txnindex and a producer .snapshot, and flags a damaged snapshot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dump-'));
  try {
    const txn = (producerId: bigint, seq: number) => buildRecordBatch([{ value: Buffer.from('t') }, { value: Buffer.from('t') }], { producerId, producerEpoch: 3, baseSequence: seq, isTransactional: true });
    const partDir = await writeSegment(dir, 'payments', [
      txn(11n, 0), // 0-1
      txn(12n, 0), // 2-3, left open
      buildControlBatch('abort', { producerId: 11n, producerEpoch: 3, coordinatorEpoch: 5 }), // 4
    ]);
    const names = await readdir(partDir);
    assert.ok(names.includes('00000000000000000000.txnindex'), names.join(' '));
    assert.ok(names.includes('00000000000000000005.snapshot'), names.join(' '));

    const index = await run('dump-log', ['--files', join(partDir, '00000000000000000000.txnindex')]);
    assert.equal(index.code, 0, index.stderr);
    assert.match(index.stdout, /^version: 0 producerId: 11 firstOffset: 0 lastOffset: 4 lastStableOffset: 2$/m);

    const snapshotFile = join(partDir, '00000000000000000005.snapshot');
    const snapshot = await run('dump-log', ['--files', snapshotFile]);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    assert.match(snapshot.stdout, /^Snapshot offset: 5 producers: 2 entries: 2$/m);
    assert.match(snapshot.stdout, /^producerId: 11 producerEpoch: 3 coordinatorEpoch: 5 currentTxnFirstOffset: none .* firstSequence: 0 lastSequence: 1 lastOffset: 1 offsetDelta: 1$/m);
    assert.match(snapshot.stdout, /^producerId: 12 producerEpoch: 3 coordinatorEpoch: -1 currentTxnFirstOffset: 2 .* lastSequence: 1 lastOffset: 3 offsetDelta: 1$/m);
    const json = await run('dump-log', ['--files', snapshotFile, '--json']);
    const producers = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { producerId: number; currentTxnFirstOffset: number });
    assert.deepEqual(producers.map((p) => [p.producerId, p.currentTxnFirstOffset]).sort(), [[11, -1], [12, 2]]);

    const fh = await open(snapshotFile, 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 20);
    await fh.close();
    const damaged = await run('dump-log', ['--files', snapshotFile]);
    assert.equal(damaged.code, 1);
    assert.match(damaged.stdout, /is damaged: snapshot CRC \d+ does not match its data/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
