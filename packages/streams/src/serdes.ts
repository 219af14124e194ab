/**
 * Serdes turn typed keys and values into record bytes and back. `null` always maps to `null`
 * (a tombstone), as in Kafka. Avro/Protobuf/any schema format plugs in through `Serdes.from`.
 */

export interface Serializer<T> {
  serialize(topic: string, data: T | null): Buffer | null;
}

export interface Deserializer<T> {
  deserialize(topic: string, data: Buffer | null): T | null;
}

export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

/** Raised when bytes cannot be read as the serde's type; the deserialization handler decides. */
export class SerializationError extends Error {
  override name = 'SerializationError';
}

function serde<T>(serialize: (data: T, topic: string) => Buffer, deserialize: (data: Buffer, topic: string) => T): Serde<T> {
  return {
    serialize: (topic, data) => (data === null || data === undefined ? null : serialize(data, topic)),
    deserialize: (topic, data) => (data === null || data === undefined ? null : deserialize(data, topic)),
  };
}

function fixedWidth(bytes: Buffer, width: number, type: string): void {
  if (bytes.length !== width) throw new SerializationError(`${type} needs ${width} bytes, got ${bytes.length}`);
}

export const Serdes = {
  String(): Serde<string> {
    return serde((s) => Buffer.from(s, 'utf8'), (b) => b.toString('utf8'));
  },
  /** UTF-8 JSON text. */
  JSON<T>(): Serde<T> {
    return serde(
      (v: T) => Buffer.from(JSON.stringify(v), 'utf8'),
      (b) => {
        try {
          return JSON.parse(b.toString('utf8')) as T;
        } catch (e) {
          throw new SerializationError(`not JSON: ${(e as Error).message}`);
        }
      },
    );
  },
  /** Java's IntegerSerde: 4-byte big-endian two's complement. */
  Integer(): Serde<number> {
    return serde(
      (n: number) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(n);
        return b;
      },
      (b) => {
        fixedWidth(b, 4, 'Integer');
        return b.readInt32BE(0);
      },
    );
  },
  /** Java's LongSerde as a JS number (counts and sums stay exact up to 2^53). */
  Long(): Serde<number> {
    return serde(
      (n: number) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(BigInt(Math.trunc(n)));
        return b;
      },
      (b) => {
        fixedWidth(b, 8, 'Long');
        return Number(b.readBigInt64BE(0));
      },
    );
  },
  /** Java's LongSerde as a bigint, for the whole 64-bit range. */
  BigLong(): Serde<bigint> {
    return serde(
      (n: bigint) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(n);
        return b;
      },
      (b) => {
        fixedWidth(b, 8, 'Long');
        return b.readBigInt64BE(0);
      },
    );
  },
  /** Java's DoubleSerde: IEEE-754 big-endian. */
  Double(): Serde<number> {
    return serde(
      (n: number) => {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(n);
        return b;
      },
      (b) => {
        fixedWidth(b, 8, 'Double');
        return b.readDoubleBE(0);
      },
    );
  },
  Bytes(): Serde<Buffer> {
    return serde((b: Buffer) => b, (b) => b);
  },
  /** The hook for any other format (Avro, Protobuf...): a pair of functions over non-null values. */
  from<T>(serialize: (data: T, topic: string) => Buffer, deserialize: (data: Buffer, topic: string) => T): Serde<T> {
    return serde(serialize, deserialize);
  },
};
