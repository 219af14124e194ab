import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lz4Compress, lz4Decompress } from '../../src/compression/lz4.js';
import { lz4BlockBound, lz4CompressBlock, lz4DecompressBlock, xxhash32 } from '../../src/compression/lz4-block.js';
import { assertProtocolError, seededRandom } from '../records/helpers.js';

describe('xxHash32', () => {
  it('matches the reference implementation on known inputs', () => {
    assert.equal(xxhash32(Buffer.from('')), 0x02cc5d05);
    assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
    // A sub-range hashes like the same bytes on their own.
    const padded = Buffer.from('xxNobody inspects the spammish repetitionyy');
    assert.equal(xxhash32(padded, 2, padded.length - 2), 0xe2293b2f);
  });
});

describe('lz4 block codec', () => {
  it('decodes hand-written blocks: literals only, overlapping match, long lengths', () => {
    const out = Buffer.alloc(1000);
    // token 0x50: 5 literals, no match (last sequence)
    let end = lz4DecompressBlock(Buffer.from('5068656c6c6f', 'hex'), 0, 6, out, 0, out.length);
    assert.equal(out.toString('latin1', 0, end), 'hello');
    // token 0x14: 1 literal 'a', offset 1, match length 4+4 = 8 -> 'a' * 9 then last literals 'b'
    end = lz4DecompressBlock(Buffer.from('1461010010' + '62', 'hex'), 0, 6, out, 0, out.length);
    assert.equal(out.toString('latin1', 0, end), 'a'.repeat(9) + 'b');
    // token 0x1f: 1 literal, offset 1, match length 15+4+255+10 = 284, then literal 'z'
    end = lz4DecompressBlock(Buffer.from('1f610100ff0a107a', 'hex'), 0, 8, out, 0, out.length);
    assert.equal(out.toString('latin1', 0, end), 'a'.repeat(285) + 'z');
  });

  it('rejects malformed blocks with ProtocolError', () => {
    const out = Buffer.alloc(100);
    const bad: Array<[string, string]> = [
      ['offset 0', '1461000010'],
      ['offset before the window', '14610200'],
      ['literals past the block', '5068656c'],
      ['match past the output limit', '1f610100ff'],
      ['offset cut short', '146101'],
      ['empty block', ''],
      ['literal length cut short', 'f0ff'],
    ];
    for (const [label, hex] of bad) {
      const block = Buffer.from(hex, 'hex');
      assertProtocolError(() => lz4DecompressBlock(block, 0, block.length, out, 0, out.length), 'corrupt');
      assert.ok(label);
    }
  });

  it('round trips varied inputs block by block within the bound', () => {
    const random = seededRandom(4);
    for (let n = 0; n < 300; n++) {
      const length = Math.floor(random() ** 2 * 70_000);
      const input = Buffer.alloc(length);
      for (let i = 0; i < length; ) {
        const kind = random();
        const run = 1 + Math.floor(random() * 200);
        for (let k = 0; k < run && i < length; k++, i++) {
          input[i] = kind < 0.3 ? Math.floor(random() * 256) : kind < 0.6 ? 7 : i > 100 ? input[i - 1 - Math.floor(random() * 4) * 17] : 65 + (i % 26);
        }
      }
      const packed = Buffer.alloc(lz4BlockBound(length));
      const packedEnd = lz4CompressBlock(input, 0, length, packed, 0);
      assert.ok(packedEnd <= lz4BlockBound(length));
      const out = Buffer.alloc(length);
      assert.equal(lz4DecompressBlock(packed, 0, packedEnd, out, 0, length), length);
      assert.deepEqual(out, input, `case ${n}`);
    }
  });
});

describe('lz4 frames', () => {
  it('decodes a frame with linked (dependent) 64 KiB blocks written by the lz4 CLI', () => {
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"n":${i % 50},"k":"abcdefghij"}\n`).join(''));
    const frame = Buffer.from('04224d1844405e3d020000f10a7b226e223a302c226b223a226162636465666768696a227d0a19001f311900051f321900051f331900051f341900051f351900051f361900051f371900051f381900051f391900051f31fb00070ffc00061f31fd00061f31fe00061f31ff00061f310001061f310101061f310201061f310301061f310401061f320401061f320401061f320401061f320401061f320401061f320401061f320401061f320401061f320401061f320401061f330401061f330401061f330401061f330401061f330401061f330401061f330401061f330401061f330401061f330401061f340401061f340401061f340401061f340401061f340401061f340401061f340401061f340401061f340401061f340401060f0301060f0201060f0101060f0001070f8d04050ffe00060ffd00060ffc00060ffb00060ffa00060f0a05ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd950226e223a343d0000001f308dfa050ff4fbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff5550696a227d0a000000001ab0f364', 'hex');
    assert.equal(frame[4] & 0x20, 0, 'blocks are linked');
    assert.deepEqual(lz4Decompress(frame), text);
  });

  it('stores incompressible blocks raw and round trips across block boundaries', () => {
    const random = randomBytes(200_000);
    const packed = lz4Compress(random);
    assert.ok(packed.readUInt32LE(7) & 0x80000000, 'first block stored uncompressed');
    assert.ok(packed.length < random.length + 100);
    assert.deepEqual(lz4Decompress(packed), random);
    for (const size of [0, 1, 12, 13, 65535, 65536, 65537, 131072 + 5]) {
      const input = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31) % 97));
      assert.deepEqual(lz4Decompress(lz4Compress(input)), input, `size ${size}`);
    }
  });

  it('rejects a damaged header checksum', () => {
    const packed = lz4Compress(Buffer.from('some data that compresses: aaaaaaaaaaaaaaaaaaaaaa'));
    packed[6] ^= 0xff;
    assertProtocolError(() => lz4Decompress(packed), 'corrupt');
  });
});
