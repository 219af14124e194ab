import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FrameReader, FrameTooLargeError } from '../../src/framing/frame-reader.js';
import { BufferPool } from '../../src/framing/buffer-pool.js';

function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

test('frames split at every byte boundary are reassembled', () => {
  const bodies = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from('world!!'), Buffer.alloc(300, 7)];
  const stream = Buffer.concat(bodies.map(frame));
  for (let step = 1; step <= 9; step++) {
    const reader = new FrameReader(1000);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) {
      reader.push(stream.subarray(i, i + step));
      for (let f = reader.next(); f; f = reader.next()) out.push(Buffer.from(f));
    }
    assert.deepEqual(out, bodies, `step ${step}`);
    assert.equal(reader.bufferedBytes, 0);
  }
});

test('frames own their bytes: the chunks they came in may be reused at once', () => {
  const chunk = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de'))]);
  const reader = new FrameReader(100);
  reader.push(chunk);
  chunk.fill(0);
  assert.equal(reader.next()!.toString(), 'abc');
  assert.equal(reader.next()!.toString(), 'de');
  assert.equal(reader.next(), null);
});

test('a large frame is read straight into its own buffer once its prefix is known', () => {
  const pool = new BufferPool(1 << 30);
  const scratch = Buffer.alloc(1000);
  const reader = new FrameReader(1 << 20, pool, scratch);
  const body = randomBytes(200_000);
  const stream = frame(body);
  // The first read lands in the scratch buffer: the prefix and the start of the body.
  assert.equal(reader.readBuffer(), scratch);
  stream.copy(scratch, 0, 0, 1000);
  reader.received(1000, scratch);
  let at = 1000;
  while (at < stream.length) {
    const into = reader.readBuffer();
    if (stream.length - at >= 16 * 1024) assert.notEqual(into, scratch, 'the rest goes straight into the frame');
    const n = Math.min(into.length, 70_000, stream.length - at);
    stream.copy(into, 0, at, at + n);
    reader.received(n, into);
    at += n;
  }
  const got = reader.next()!;
  assert.ok(pool.isLent(got));
  assert.deepEqual(got, body);
  assert.equal(reader.next(), null);
  // After a large frame only a small first read goes via the scratch (the next one is likely large too).
  assert.equal(reader.readBuffer().buffer, scratch.buffer);
});

test('an oversized or negative size prefix fails as soon as the prefix arrives', () => {
  const reader = new FrameReader(1024);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(1025, 0);
  reader.push(prefix.subarray(0, 2));
  assert.equal(reader.next(), null);
  assert.throws(() => reader.push(prefix.subarray(2)), (err: unknown) => err instanceof FrameTooLargeError && err.size === 1025);
  const negative = new FrameReader(1024);
  assert.throws(() => negative.push(Buffer.from([0xff, 0xff, 0xff, 0xff])), FrameTooLargeError);
});

test('large frames arriving in pieces are filled into one pooled buffer', () => {
  const pool = new BufferPool(1 << 30);
  const bodies = [randomBytes(100_000), Buffer.from('small'), randomBytes(BufferPool.minPooledSize), randomBytes(300_001)];
  const stream = Buffer.concat(bodies.map(frame));
  for (const step of [1000, 4096, 65_536, 65_537, 150_000]) {
    const reader = new FrameReader(1 << 20, pool);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) {
      reader.push(stream.subarray(i, i + step));
      for (let f = reader.next(); f; f = reader.next()) {
        out.push(Buffer.from(f));
        assert.equal(pool.isLent(f), f.length >= BufferPool.minPooledSize, `step ${step}, frame of ${f.length}`);
        pool.release(f);
      }
    }
    assert.deepEqual(out, bodies, `step ${step}`);
    assert.equal(reader.bufferedBytes, 0);
  }
});

test('the frame pool reuses released buffers, ignores double and foreign releases, and caps what it keeps', () => {
  const pool = new BufferPool(1 << 20);
  const a = pool.acquire(100_000);
  assert.equal(a.length, 100_000);
  assert.ok(pool.isLent(a));
  pool.release(a);
  assert.ok(!pool.isLent(a));
  assert.equal(pool.retained, 131_072);
  pool.release(a); // a second release of the same frame must not put its buffer on the list twice
  assert.equal(pool.retained, 131_072);
  const b = pool.acquire(120_000);
  const c = pool.acquire(120_000);
  assert.equal(b.buffer, a.buffer, 'the released buffer is reused');
  assert.notEqual(c.buffer, b.buffer, 'a buffer is lent to one holder at a time');
  pool.release(Buffer.alloc(100_000)); // not from the pool
  assert.equal(pool.retained, 0);
  const big = [pool.acquire(600_000), pool.acquire(600_000)];
  for (const f of big) pool.release(f);
  assert.equal(pool.retained, 1 << 20, 'one 1 MiB buffer kept, the other left to the garbage collector');
  assert.ok(!pool.isLent(pool.acquire(100)), 'small frames are plain allocations');
});
