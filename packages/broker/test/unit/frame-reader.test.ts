import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, FrameTooLargeError } from '../../src/network/frame-reader.js';

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

test('a frame inside one chunk is returned without copying', () => {
  const chunk = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de'))]);
  const reader = new FrameReader(100);
  reader.push(chunk);
  const first = reader.next()!;
  assert.equal(first.buffer, chunk.buffer);
  assert.equal(first.toString(), 'abc');
  assert.equal(reader.next()!.toString(), 'de');
  assert.equal(reader.next(), null);
});

test('an oversized or negative size prefix fails as soon as the prefix arrives', () => {
  const reader = new FrameReader(1024);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(1025, 0);
  reader.push(prefix.subarray(0, 2));
  assert.equal(reader.next(), null);
  reader.push(prefix.subarray(2));
  assert.throws(() => reader.next(), (err: unknown) => err instanceof FrameTooLargeError && err.size === 1025);
  const negative = new FrameReader(1024);
  negative.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  assert.throws(() => negative.next(), FrameTooLargeError);
});
