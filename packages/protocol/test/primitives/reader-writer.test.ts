import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol-error.js';
import { Reader, Writer, newSizeQueue, uvarintSize, utf8Length } from '../../src/primitives/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const reason = (r: string) => (e: unknown) => e instanceof ProtocolError && e.reason === r;

test('unsigned varints: boundaries, 5-byte limit, 32-bit overflow, truncation', () => {
  const cases: Array<[number, string]> = [[0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16383, 'ff7f'], [16384, '808001'], [2 ** 31 - 1, 'ffffffff07'], [2 ** 32 - 1, 'ffffffff0f']];
  for (const [value, bytes] of cases) {
    const w = new Writer(uvarintSize(value));
    w.uvarint(value);
    assert.equal(w.buf.toString('hex'), bytes, `encode ${value}`);
    assert.equal(new Reader(hex(bytes)).uvarint(), value, `decode ${value}`);
  }
  assert.throws(() => new Reader(hex('ffffffff1f')).uvarint(), reason('invalid'));
  assert.throws(() => new Reader(hex('ffffffffff01')).uvarint(), reason('invalid'));
  assert.throws(() => new Reader(hex('ff')).uvarint(), reason('truncated'));
  assert.equal(new Reader(hex('03')).varint(), -2);
  assert.equal(new Reader(hex('04')).varint(), 2);
});

test('fixed-width integers are big-endian and sign-correct', () => {
  const w = new Writer(1 + 2 + 2 + 4 + 4 + 8 + 8);
  w.int8(-2);
  w.int16(-300);
  w.uint16(65535);
  w.int32(-5);
  w.uint32(4294967295);
  w.int64(-2n);
  w.float64(1.5);
  const r = new Reader(w.buf);
  assert.deepEqual([r.int8(), r.int16(), r.uint16(), r.int32(), r.uint32(), r.int64(), r.float64()], [-2, -300, 65535, -5, 4294967295, -2n, 1.5]);
  assert.throws(() => r.int8(), reason('truncated'));
});

test('strings and bytes: null markers, negative lengths, lengths beyond the frame', () => {
  assert.equal(new Reader(hex('ffff')).nullableString(), null);
  assert.throws(() => new Reader(hex('ffff')).string(), reason('invalid'));
  assert.throws(() => new Reader(hex('fffe')).nullableString(), reason('invalid'));
  assert.throws(() => new Reader(hex('0005 6162')).string(), reason('invalid'));
  assert.equal(new Reader(hex('00')).compactNullableString(), null);
  assert.throws(() => new Reader(hex('00')).compactString(), reason('invalid'));
  assert.equal(new Reader(hex('03 c3bc')).compactString(), 'ü');
  assert.equal(new Reader(hex('ffffffff')).nullableBytes(), null);
  assert.throws(() => new Reader(hex('7fffffff 00')).bytes(), reason('invalid'));
  assert.throws(() => new Reader(hex('80000000')).nullableBytes(), reason('invalid'));
  const frame = hex('00000002 aabb');
  const b = new Reader(frame).bytes();
  assert.equal(b.buffer, frame.buffer, 'bytes alias the frame');
  assert.deepEqual(b, hex('aabb'));
});

test('array counts are bounded by the bytes remaining, as Kafka bounds them', () => {
  assert.equal(new Reader(hex('00000002 0000')).arrayLength(), 2);
  assert.throws(() => new Reader(hex('00000003 0000')).arrayLength(), reason('invalid'));
  assert.equal(new Reader(hex('ffffffff')).nullableArrayLength(), -1);
  assert.throws(() => new Reader(hex('ffffffff')).arrayLength(), reason('invalid'));
  assert.equal(new Reader(hex('00')).compactNullableArrayLength(), -1);
  assert.throws(() => new Reader(hex('ffffffff0f')).compactArrayLength(), reason('invalid'));
});

test('tagged-field regions must be consumed exactly', () => {
  const r = new Reader(hex('0102 03'));
  const end = r.enter(2);
  r.int8();
  assert.throws(() => r.leave(end), reason('invalid'));
  const r2 = new Reader(hex('01'));
  assert.throws(() => r2.enter(2), reason('invalid'));
});

test('UTF-8 lengths and writes agree with Buffer for ASCII and non-ASCII strings', () => {
  for (const s of ['', 'kafka', 'ü', '日本', '🚀', 'x'.repeat(100), 'ü'.repeat(50)]) {
    const n = utf8Length(s);
    assert.equal(n, Buffer.byteLength(s));
    const w = new Writer(n, newSizeQueue());
    w.utf8(s, n);
    assert.deepEqual(w.buf, Buffer.from(s));
  }
});

test('a non-compact string longer than 32767 bytes is refused instead of wrapping its length', () => {
  const w = new Writer(4);
  assert.throws(() => w.stringLength16(32768), RangeError);
  w.stringLength16(32767);
  assert.equal(w.buf.readInt16BE(0), 32767);
});
