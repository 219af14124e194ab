import type { Serde } from '../serdes.js';
import { AbstractStore, type BytesStoreSupplier } from './store.js';

export interface KeyValue<K, V> {
  key: K;
  value: V;
}

export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | null;
  /** Keys from..to inclusive, in serialized-key byte order (as in Kafka Streams). */
  range(from: K | null, to: K | null): Array<KeyValue<K, V>>;
  all(): Array<KeyValue<K, V>>;
  approximateNumEntries(): number;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  put(key: K, value: V | null): void;
  putIfAbsent(key: K, value: V): V | null;
  delete(key: K): V | null;
}

/** Exclusive upper bound just after `b` for an inclusive range end. */
export function after(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.from([0])]);
}

export class KeyValueStoreImpl<K, V> extends AbstractStore implements KeyValueStore<K, V> {
  readonly kind = 'keyValue' as const;

  constructor(
    supplier: BytesStoreSupplier,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
  ) {
    super(supplier);
  }

  private keyBytes(key: K): Buffer {
    const b = this.keySerde.serialize(this.name, key);
    if (b === null) throw new Error(`store ${this.name}: null keys are not allowed`);
    return b;
  }

  get(key: K): V | null {
    const v = this.bytes.get(this.keyBytes(key));
    return v === undefined ? null : this.valueSerde.deserialize(this.name, v);
  }

  put(key: K, value: V | null): void {
    this.write(this.keyBytes(key), value === null ? null : this.valueSerde.serialize(this.name, value));
  }

  putIfAbsent(key: K, value: V): V | null {
    const old = this.get(key);
    if (old === null) this.put(key, value);
    return old;
  }

  delete(key: K): V | null {
    const old = this.get(key);
    if (old !== null) this.put(key, null);
    return old;
  }

  range(from: K | null, to: K | null): Array<KeyValue<K, V>> {
    const f = from === null ? undefined : this.keyBytes(from);
    const t = to === null ? undefined : after(this.keyBytes(to));
    return [...this.bytes.range(f, t)].map((e) => ({ key: this.keySerde.deserialize(this.name, e.key) as K, value: this.valueSerde.deserialize(this.name, e.value) as V }));
  }

  all(): Array<KeyValue<K, V>> {
    return this.range(null, null);
  }

  /** Entries whose serialized key starts with the serialized prefix (Kafka's `prefixScan`). */
  prefixScan<P>(prefix: P, prefixSerializer: { serialize(topic: string, data: P | null): Buffer | null }): Array<KeyValue<K, V>> {
    const from = prefixSerializer.serialize(this.name, prefix) ?? Buffer.alloc(0);
    // The first key after every key with this prefix: the prefix plus one, carrying past 0xff bytes.
    let to: Buffer | undefined = Buffer.from(from);
    let i = to.length - 1;
    while (i >= 0 && to[i] === 0xff) i--;
    if (i < 0) to = undefined;
    else {
      to = to.subarray(0, i + 1);
      to[i]++;
    }
    return [...this.bytes.range(from, to)].map((e) => ({ key: this.keySerde.deserialize(this.name, e.key) as K, value: this.valueSerde.deserialize(this.name, e.value) as V }));
  }

  approximateNumEntries(): number {
    return this.bytes.approximateNumEntries();
  }
}
