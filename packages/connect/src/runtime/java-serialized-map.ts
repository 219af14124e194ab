/**
 * The one Java-serialized object Kafka Connect's standalone worker stores: its offsets file
 * (FileOffsetBackingStore) is a `java.util.HashMap<byte[], byte[]>` written by ObjectOutputStream,
 * keys and values being the internal JSON converter's bytes. This writes that object exactly as
 * Java does and reads it back (also as Java wrote it), so an offsets file moves between a Kafka
 * worker and ours in either direction. Only the grammar this object needs is understood (Java
 * Object Serialization Stream Protocol: HashMap's class descriptor, its custom data, byte arrays,
 * back-references, null); anything else is refused with a clear error.
 */

const STREAM_MAGIC = 0xaced;
const STREAM_VERSION = 5;
const TC_NULL = 0x70;
const TC_REFERENCE = 0x71;
const TC_CLASSDESC = 0x72;
const TC_OBJECT = 0x73;
const TC_ARRAY = 0x75;
const TC_BLOCKDATA = 0x77;
const TC_ENDBLOCKDATA = 0x78;
const TC_BLOCKDATALONG = 0x7a;
const BASE_WIRE_HANDLE = 0x7e0000;
const SC_WRITE_METHOD = 0x01;
const SC_SERIALIZABLE = 0x02;

const HASH_MAP = 'java.util.HashMap';
const HASH_MAP_UID = 362498820763181265n;
const BYTE_ARRAY = '[B';
const BYTE_ARRAY_UID = -5984413125824719648n;
const LOAD_FACTOR = 0.75;

export class JavaSerializationError extends Error {
  constructor(message: string) {
    super(`not a Java-serialized HashMap<byte[], byte[]>: ${message}`);
    this.name = 'JavaSerializationError';
  }
}

/** True when `buf` starts like a Java serialization stream. */
export function isJavaSerialized(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt16BE(0) === STREAM_MAGIC && buf.readUInt16BE(2) === STREAM_VERSION;
}

/** A HashMap<byte[], byte[]> as ObjectOutputStream.writeObject writes it. */
export function writeJavaByteArrayMap(entries: ReadonlyArray<readonly [Buffer | null, Buffer | null]>): Buffer {
  const parts: Buffer[] = [];
  const u8 = (v: number) => parts.push(Buffer.from([v]));
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    parts.push(b);
  };
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  const i64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    parts.push(b);
  };
  const utf = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    u16(b.length);
    parts.push(b);
  };
  u16(STREAM_MAGIC);
  u16(STREAM_VERSION);
  u8(TC_OBJECT);
  u8(TC_CLASSDESC); // handle 0: HashMap's descriptor
  utf(HASH_MAP);
  i64(HASH_MAP_UID);
  u8(SC_WRITE_METHOD | SC_SERIALIZABLE);
  u16(2); // primitive fields, sorted by name
  u8(0x46); // 'F'
  utf('loadFactor');
  u8(0x49); // 'I'
  utf('threshold');
  u8(TC_ENDBLOCKDATA);
  u8(TC_NULL); // AbstractMap is not serializable
  // handle 1: the map. defaultWriteObject: loadFactor, threshold; then HashMap.writeObject's
  // block data (bucket count, size) and the entries.
  let capacity = 16;
  while (entries.length > capacity * LOAD_FACTOR) capacity *= 2;
  const f = Buffer.alloc(4);
  f.writeFloatBE(LOAD_FACTOR);
  parts.push(f);
  i32(entries.length === 0 ? 0 : capacity * LOAD_FACTOR);
  u8(TC_BLOCKDATA);
  u8(8);
  i32(capacity);
  i32(entries.length);
  let byteArrayDesc: number | null = null;
  let nextHandle = BASE_WIRE_HANDLE + 2;
  const array = (bytes: Buffer | null) => {
    if (bytes === null) return u8(TC_NULL);
    u8(TC_ARRAY);
    if (byteArrayDesc === null) {
      u8(TC_CLASSDESC);
      utf(BYTE_ARRAY);
      i64(BYTE_ARRAY_UID);
      u8(SC_SERIALIZABLE);
      u16(0);
      u8(TC_ENDBLOCKDATA);
      u8(TC_NULL);
      byteArrayDesc = nextHandle++;
    } else {
      u8(TC_REFERENCE);
      i32(byteArrayDesc);
    }
    nextHandle++; // the array itself
    i32(bytes.length);
    parts.push(bytes);
  };
  for (const [key, value] of entries) {
    array(key);
    array(value);
  }
  u8(TC_ENDBLOCKDATA);
  return Buffer.concat(parts);
}

/** The entries of a HashMap<byte[], byte[]> that ObjectOutputStream wrote (Kafka's or ours). */
export function readJavaByteArrayMap(buf: Buffer): Array<[Buffer | null, Buffer | null]> {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new JavaSerializationError(`ends after ${buf.length} bytes`);
  };
  const u8 = () => {
    need(1);
    return buf[pos++];
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return buf.readUInt16BE(pos - 2);
  };
  const i32 = () => {
    need(4);
    pos += 4;
    return buf.readInt32BE(pos - 4);
  };
  const i64 = () => {
    need(8);
    pos += 8;
    return buf.readBigInt64BE(pos - 8);
  };
  const utf = () => {
    const n = u16();
    need(n);
    pos += n;
    return buf.toString('utf8', pos - n, pos);
  };
  /** Every object a handle was assigned to, in order: class names for descriptors, bytes for arrays. */
  const handles: Array<{ className: string } | { bytes: Buffer }> = [];

  const classDesc = (): string => {
    const tc = u8();
    if (tc === TC_REFERENCE) {
      const h = handles[i32() - BASE_WIRE_HANDLE];
      if (!h || !('className' in h)) throw new JavaSerializationError('a class reference names no class descriptor');
      return h.className;
    }
    if (tc !== TC_CLASSDESC) throw new JavaSerializationError(`expected a class descriptor, found 0x${tc.toString(16)}`);
    const className = utf();
    const uid = i64();
    const flags = u8();
    const fields = u16();
    for (let i = 0; i < fields; i++) {
      const type = String.fromCharCode(u8());
      utf();
      // Object fields name their type as a string (HashMap has none, but skip them soundly).
      if (type === 'L' || type === '[') {
        const t = u8();
        if (t === TC_REFERENCE) i32();
        else if (t === 0x74) handles.push({ className: utf() }); // TC_STRING, which takes a handle
        else throw new JavaSerializationError('unexpected field type encoding');
      }
    }
    // As ObjectInputStream: the descriptor's handle comes after its field type strings'.
    handles.push({ className });
    if (u8() !== TC_ENDBLOCKDATA) throw new JavaSerializationError(`class annotations of ${className} are not supported`);
    if (u8() !== TC_NULL) throw new JavaSerializationError(`${className} has a serializable superclass`);
    if (className === HASH_MAP && (uid !== HASH_MAP_UID || (flags & SC_WRITE_METHOD) === 0 || fields !== 2)) throw new JavaSerializationError('unexpected HashMap class descriptor');
    if (className === BYTE_ARRAY && uid !== BYTE_ARRAY_UID) throw new JavaSerializationError('unexpected byte[] class descriptor');
    return className;
  };

  const byteArrayOrNull = (): Buffer | null => {
    const tc = u8();
    if (tc === TC_NULL) return null;
    if (tc === TC_REFERENCE) {
      const h = handles[i32() - BASE_WIRE_HANDLE];
      if (!h || !('bytes' in h)) throw new JavaSerializationError('a reference names no byte array');
      return h.bytes;
    }
    if (tc !== TC_ARRAY) throw new JavaSerializationError(`expected a byte[] key or value, found 0x${tc.toString(16)}`);
    const className = classDesc();
    if (className !== BYTE_ARRAY) throw new JavaSerializationError(`keys and values must be byte[], found ${className}`);
    const n = i32();
    if (n < 0) throw new JavaSerializationError('negative array length');
    need(n);
    const bytes = Buffer.from(buf.subarray(pos, pos + n));
    pos += n;
    handles.push({ bytes });
    return bytes;
  };

  if (!isJavaSerialized(buf)) throw new JavaSerializationError('no serialization stream header');
  pos = 4;
  if (u8() !== TC_OBJECT) throw new JavaSerializationError('the stream does not start with an object');
  if (classDesc() !== HASH_MAP) throw new JavaSerializationError('the object is not a java.util.HashMap');
  handles.push({ className: '(the map)' });
  need(8);
  pos += 8; // loadFactor, threshold: Java recomputes the table from the size
  // HashMap.writeObject's block data: the bucket count and the size, possibly in several blocks.
  const header = Buffer.alloc(8);
  let got = 0;
  while (got < 8) {
    const tc = u8();
    const len = tc === TC_BLOCKDATA ? u8() : tc === TC_BLOCKDATALONG ? i32() : -1;
    if (len < 0) throw new JavaSerializationError('HashMap data is missing its size');
    need(len);
    buf.copy(header, got, pos, pos + Math.min(len, 8 - got));
    got += Math.min(len, 8 - got);
    pos += len;
  }
  const size = header.readInt32BE(4);
  if (size < 0) throw new JavaSerializationError('negative size');
  const entries: Array<[Buffer | null, Buffer | null]> = [];
  for (let i = 0; i < size; i++) entries.push([byteArrayOrNull(), byteArrayOrNull()]);
  if (u8() !== TC_ENDBLOCKDATA) throw new JavaSerializationError('trailing data after the entries');
  return entries;
}
