import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { Compression, type CompressionType } from '../../src/records/batch-header.js';
import {
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  XERIAL_BLOCK_SIZE,
  compress,
  compressAsync,
  compressionTypeOf,
  decompress,
  decompressAsync,
  isXerialFramed,
  lz4FrameSizeBound,
  zstdSizeBound,
} from '../../src/compression/index.js';
import { ProtocolError } from '../../src/protocol-error.js';
import { assertProtocolError, seededBytes } from '../records/helpers.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const MiB = 1024 * 1024;

function compressible(length: number): Buffer {
  const parts: string[] = [];
  let total = 0;
  for (let i = 0; total < length; i++) {
    const line = JSON.stringify({ id: i, user: `user-${i % 1000}`, event: ['click', 'view', 'buy'][i % 3], ts: 1_700_000_000_000 + i * 17, ok: i % 5 !== 0 }) + '\n';
    parts.push(line);
    total += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, length);
}

/** The 494-byte text the lz4/zstd CLI vectors below were made from. */
const VECTOR_TEXT = Buffer.from(Array.from({ length: 12 }, (_, i) => `{"id":${i},"user":"user-${i % 7}","event":"click"}\n`).join(''));

const INPUTS: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([7])],
  ['small text', Buffer.from('hello hello hello kafka')],
  ['1 MiB random', seededBytes(MiB, 5)],
  ['1 MiB compressible', compressible(MiB)],
  ['xerial block boundary', compressible(XERIAL_BLOCK_SIZE * 3 + 1)],
];

describe('codec round trips', () => {
  for (const codec of CODECS) {
    const type = Compression[codec];
    for (const [label, input] of INPUTS) {
      it(`${codec}: ${label} (sync and async)`, async () => {
        const packed = compress(type, input);
        assert.deepEqual(decompress(type, packed), input);
        assert.deepEqual(await decompressAsync(type, packed), input);
        const packedAsync = await compressAsync(codec, input);
        assert.deepEqual(decompress(type, packedAsync), input);
        if (label === '1 MiB compressible') assert.ok(packed.length < input.length / 3, `${codec} compresses JSON at least 3x: ${packed.length}`);
      });
    }
  }

  it('none passes data through and compressionTypeOf accepts names and numbers', () => {
    const data = Buffer.from('abc');
    assert.equal(compress('none', data), data);
    assert.equal(decompress(Compression.none, data), data);
    assert.equal(compressionTypeOf('lz4'), 3);
    assert.equal(compressionTypeOf(4), 4);
    assert.throws(() => compressionTypeOf('toString' as 'lz4'), RangeError);
    assert.throws(() => compressionTypeOf(7 as CompressionType), RangeError);
    assertProtocolError(() => decompress(6 as CompressionType, data), 'unsupported');
  });

  it('decompressing an empty payload is a truncated error for every codec', () => {
    for (const codec of CODECS) assertProtocolError(() => decompress(Compression[codec], Buffer.alloc(0)), 'truncated');
  });
});

describe('gzip', () => {
  it('reads what node:zlib writes at any level, including concatenated members', () => {
    const input = compressible(100_000);
    assert.deepEqual(decompress(Compression.gzip, zlib.gzipSync(input, { level: 1 })), input);
    const twoMembers = Buffer.concat([zlib.gzipSync(input.subarray(0, 500)), zlib.gzipSync(input.subarray(500))]);
    assert.deepEqual(decompress(Compression.gzip, twoMembers), input);
  });
});

describe('snappy', () => {
  it('writes snappy-java xerial framing: magic, version 1/1, 32 KiB input blocks', () => {
    const input = compressible(XERIAL_BLOCK_SIZE * 2 + 100);
    const packed = compress(Compression.snappy, input);
    assert.ok(isXerialFramed(packed));
    assert.equal(packed.subarray(0, 8).toString('hex'), '82534e4150505900');
    assert.equal(packed.readInt32BE(8), 1);
    assert.equal(packed.readInt32BE(12), 1);
    const blockLengths: number[] = [];
    for (let pos = 16; pos < packed.length; ) {
      const size = packed.readInt32BE(pos);
      // Each block is raw snappy whose preamble states its input size.
      blockLengths.push(decompress(Compression.snappy, packed.subarray(pos + 4, pos + 4 + size)).length);
      pos += 4 + size;
    }
    assert.deepEqual(blockLengths, [XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, 100]);
  });

  it('reads a hand-built raw snappy block (the form librdkafka produces)', () => {
    // preamble varint 5, literal tag (5-1)<<2, "hello"
    assert.equal(decompress(Compression.snappy, Buffer.from('0510' + Buffer.from('hello').toString('hex'), 'hex')).toString(), 'hello');
    // preamble 8, literal "abcd", copy-1 tag: length 4 ((4-4)<<2 | 1), offset 4 -> "abcdabcd"
    assert.equal(decompress(Compression.snappy, Buffer.from('080c616263640104', 'hex')).toString(), 'abcdabcd');
  });

  it('reads a hand-built xerial stream with several blocks', () => {
    const block1 = Buffer.from('0510' + Buffer.from('hello').toString('hex'), 'hex');
    const block2 = Buffer.from('080c616263640104', 'hex');
    const frame = Buffer.concat([
      Buffer.from('82534e415050590000000001' + '00000001', 'hex'),
      Buffer.from([0, 0, 0, block1.length]),
      block1,
      Buffer.from([0, 0, 0, block2.length]),
      block2,
    ]);
    assert.equal(decompress(Compression.snappy, frame).toString(), 'helloabcdabcd');
    // Cut inside the second block.
    assertProtocolError(() => decompress(Compression.snappy, frame.subarray(0, frame.length - 2)), 'truncated');
  });

  it('interoperates with an independent implementation (snappyjs via kafkajs-snappy)', async () => {
    const require = createRequire(import.meta.url);
    const codecFactory = require('kafkajs-snappy') as () => {
      compress(encoder: { buffer: Buffer }): Promise<Buffer | Uint8Array>;
      decompress(buffer: Buffer): Promise<Buffer | Uint8Array>;
    };
    const codec = codecFactory();
    const input = compressible(200_000);
    const theirs = Buffer.from(await codec.compress({ buffer: input }));
    assert.deepEqual(decompress(Compression.snappy, theirs), input, 'we read their raw snappy');
    const ours = compress(Compression.snappy, input);
    assert.deepEqual(Buffer.from(await codec.decompress(ours)), input, 'they read our xerial framing');
  });

  it('refuses a raw block whose preamble claims more than the limit without inflating it', () => {
    assertProtocolError(() => decompress(Compression.snappy, Buffer.from('ffffffff0f00', 'hex')), 'invalid');
    assertProtocolError(() => decompress(Compression.snappy, Buffer.from('ffffffffff0f', 'hex')), 'corrupt');
    const packed = compress(Compression.snappy, Buffer.alloc(MiB));
    assertProtocolError(() => decompress(Compression.snappy, packed, MiB - 1), 'invalid');
    assert.equal(decompress(Compression.snappy, packed, MiB).length, MiB);
  });
});

describe('lz4 frames', () => {
  it('reads frames written by the lz4 CLI (v1.9.4): content checksum; block checksums with content size', () => {
    const plain =
      '04224d186440a78f000000f1007b226964223a302c2275736572223a0700f2062d30222c226576656e74223a22636c69636b227d0a29001a3129001f312900061a3229001f322900061a3329001f332900061a3429001f342900061a3529001f352900061a3629001f362900061a3729000f1f01071a3829000f1f01071a3929000f1f01071b319b010f2001071b319c010b210150636b227d0a00000000d3992491';
    const checked =
      '04224d187c40ee010000000000003e8f000000f1007b226964223a302c2275736572223a0700f2062d30222c226576656e74223a22636c69636b227d0a29001a3129001f312900061a3229001f322900061a3329001f332900061a3429001f342900061a3529001f352900061a3629001f362900061a3729000f1f01071a3829000f1f01071a3929000f1f01071b319b010f2001071b319c010b210150636b227d0abb35445000000000d3992491';
    assert.deepEqual(decompress(Compression.lz4, Buffer.from(plain, 'hex')), VECTOR_TEXT);
    assert.deepEqual(decompress(Compression.lz4, Buffer.from(checked, 'hex')), VECTOR_TEXT);
    assert.equal(lz4FrameSizeBound(Buffer.from(checked, 'hex')).contentSize, VECTOR_TEXT.length);
    // A damaged content checksum is caught.
    const damaged = Buffer.from(plain, 'hex');
    damaged[damaged.length - 1] ^= 1;
    assertProtocolError(() => decompress(Compression.lz4, damaged), 'corrupt');
  });

  it('writes a standard frame: magic, version 01, independent blocks, a valid descriptor', () => {
    const packed = compress(Compression.lz4, compressible(300_000));
    assert.equal(packed.readUInt32LE(0), 0x184d2204);
    const flg = packed[4];
    assert.equal(flg >> 6, 1, 'version 01');
    assert.ok(flg & 0x20, 'independent blocks, as Kafka readers require');
    const { bound } = lz4FrameSizeBound(packed);
    assert.ok(bound >= 300_000);
  });

  it('refuses a bomb before inflating it and rejects malformed frames', () => {
    const bomb = compress(Compression.lz4, Buffer.alloc(32 * MiB));
    assert.ok(bomb.length < 200_000);
    assertProtocolError(() => decompress(Compression.lz4, bomb, MiB), 'invalid');
    assertProtocolError(() => decompress(Compression.lz4, Buffer.from('04224d18', 'hex')), 'truncated');
    assertProtocolError(() => decompress(Compression.lz4, Buffer.from('00000000000000000000', 'hex')), 'corrupt');
    const packed = compress(Compression.lz4, Buffer.from('some data some data'));
    assertProtocolError(() => decompress(Compression.lz4, Buffer.concat([packed, Buffer.from([1, 2, 3])])), 'corrupt');
  });
});

describe('zstd frames', () => {
  it('reads frames written by the zstd CLI (v1.5.4), streamed (no content size) and from a file', () => {
    const streamed =
      '28b52ffd045875030094037b226964223a302c2275736572223a2d30222c226576656e74223a22636c69636b227d0a313132323333343435353636373038313932313334180090c8e7ea00ecf35c1d038b00f9c0c2802c60392033b008900f2c0cc802960332038b00f9c0c2802c60392059a6f0565bea8234641c';
    const sized =
      '28b52ffd64ee0075030094037b226964223a302c2275736572223a2d30222c226576656e74223a22636c69636b227d0a313132323333343435353636373038313932313334180090c8e7ea00ecf35c1d038b00f9c0c2802c60392033b008900f2c0cc802960332038b00f9c0c2802c60392059a6f0565bea8234641c';
    assert.deepEqual(decompress(Compression.zstd, Buffer.from(streamed, 'hex')), VECTOR_TEXT);
    assert.deepEqual(decompress(Compression.zstd, Buffer.from(sized, 'hex')), VECTOR_TEXT);
    assert.equal(zstdSizeBound(Buffer.from(sized, 'hex')).statedSize, VECTOR_TEXT.length);
    const damaged = Buffer.from(streamed, 'hex');
    damaged[damaged.length - 1] ^= 1;
    assertProtocolError(() => decompress(Compression.zstd, damaged), 'corrupt');
  });

  it('writes standard frames', () => {
    const packed = compress(Compression.zstd, compressible(10_000));
    assert.equal(packed.readUInt32LE(0), 0xfd2fb528);
  });

  it('refuses bombs from headers alone: a stated content size or a run of RLE blocks', () => {
    const bomb = compress(Compression.zstd, Buffer.alloc(64 * MiB));
    assert.ok(bomb.length < 10_000);
    assertProtocolError(() => decompress(Compression.zstd, bomb, MiB), 'invalid');
    // Frame header stating a 1 TiB content size (FCS flag 3, single segment), then one empty raw last block.
    const claims = Buffer.concat([Buffer.from('28b52ffde0', 'hex'), Buffer.from('0000000000010000', 'hex'), Buffer.from('010000', 'hex')]);
    assertProtocolError(() => decompress(Compression.zstd, claims), 'invalid');
    // 4000 RLE blocks of 128 KiB: 500 MiB from 16 KB of input.
    const rle = Buffer.alloc(4 * 4000);
    for (let i = 0; i < 4000; i++) {
      const header = ((128 * 1024) << 3) | (1 << 1) | (i === 3999 ? 1 : 0);
      rle[i * 4] = header & 0xff;
      rle[i * 4 + 1] = (header >> 8) & 0xff;
      rle[i * 4 + 2] = (header >> 16) & 0xff;
      rle[i * 4 + 3] = 0x61;
    }
    const rleFrame = Buffer.concat([Buffer.from('28b52ffd0070', 'hex'), rle]);
    assert.equal(zstdSizeBound(rleFrame).bound, 4000 * 128 * 1024);
    assertProtocolError(() => decompress(Compression.zstd, rleFrame), 'invalid');
    assert.ok(DEFAULT_MAX_DECOMPRESSED_BYTES < 4000 * 128 * 1024);
  });

  it('rejects malformed frames', () => {
    assertProtocolError(() => decompress(Compression.zstd, Buffer.from('28b52f', 'hex')), 'truncated');
    assertProtocolError(() => decompress(Compression.zstd, Buffer.from('0102030405060708', 'hex')), 'corrupt');
    assertProtocolError(() => decompress(Compression.zstd, Buffer.from('28b52ffd0058070000', 'hex')), 'corrupt');
  });
});

describe('decompression bombs and garbage for every codec', () => {
  it('gzip stops inflating at the limit', async () => {
    const bomb = compress(Compression.gzip, Buffer.alloc(16 * MiB));
    assertProtocolError(() => decompress(Compression.gzip, bomb, MiB), 'invalid');
    await assert.rejects(decompressAsync(Compression.gzip, bomb, MiB), (e: unknown) => e instanceof ProtocolError && e.reason === 'invalid');
  });

  it('async decompression applies the same limit', async () => {
    for (const codec of ['snappy', 'lz4', 'zstd'] as const) {
      const bomb = compress(Compression[codec], Buffer.alloc(8 * MiB));
      await assert.rejects(decompressAsync(Compression[codec], bomb, MiB / 2), (e: unknown) => e instanceof ProtocolError && e.reason === 'invalid', codec);
    }
  });

  it('random and mutated payloads give output or ProtocolError only', async () => {
    const source = compressible(20_000);
    for (const codec of CODECS) {
      const packed = compress(Compression[codec], source);
      for (let n = 0; n < 300; n++) {
        const damaged = Buffer.from(n % 3 === 0 ? seededBytes(1 + (n % 200), n + 1) : packed);
        if (n % 3 !== 0) for (let f = 0; f < 1 + (n % 5); f++) damaged[(n * 7919 + f * 104729) % damaged.length] ^= 1 + ((n + f) % 255);
        const input = n % 7 === 0 ? damaged.subarray(0, damaged.length >> 1) : damaged;
        for (const run of [() => decompress(Compression[codec], input, 4 * MiB), () => decompressAsync(Compression[codec], input, 4 * MiB)]) {
          try {
            const out = await run();
            assert.ok(out.length <= 4 * MiB);
          } catch (err) {
            assert.ok(err instanceof ProtocolError, `${codec} case ${n}: ${String(err)}`);
          }
        }
      }
    }
  });
});
