/** A record as processors see it: typed key and value, a timestamp, and headers. */

export interface Header {
  key: string;
  value: Buffer | null;
}

/** Kafka record headers: ordered, repeatable keys. */
export class Headers {
  private readonly entries: Header[];

  constructor(entries: Iterable<Header> = []) {
    this.entries = [...entries].map((h) => ({ key: h.key, value: h.value }));
  }

  add(key: string, value: Buffer | string | null): this {
    this.entries.push({ key, value: typeof value === 'string' ? Buffer.from(value) : value });
    return this;
  }

  remove(key: string): this {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].key === key) this.entries.splice(i, 1);
    return this;
  }

  lastHeader(key: string): Header | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].key === key) return this.entries[i];
    return undefined;
  }

  headers(key: string): Header[] {
    return this.entries.filter((h) => h.key === key);
  }

  toArray(): Header[] {
    return this.entries.map((h) => ({ ...h }));
  }

  get size(): number {
    return this.entries.length;
  }

  copy(): Headers {
    return new Headers(this.entries);
  }
}

/** Immutable: the `with*` methods return a new record, as in Kafka's `Record` of the Processor API. */
export class Record<K, V> {
  readonly headers: Headers;

  constructor(
    readonly key: K,
    readonly value: V,
    readonly timestamp: number,
    headers?: Headers,
  ) {
    this.headers = headers ?? new Headers();
  }

  withKey<K2>(key: K2): Record<K2, V> {
    return new Record(key, this.value, this.timestamp, this.headers);
  }

  withValue<V2>(value: V2): Record<K, V2> {
    return new Record(this.key, value, this.timestamp, this.headers);
  }

  withTimestamp(timestamp: number): Record<K, V> {
    return new Record(this.key, this.value, timestamp, this.headers);
  }

  withHeaders(headers: Headers): Record<K, V> {
    return new Record(this.key, this.value, this.timestamp, headers);
  }
}

/** Where the record being processed came from; absent for records made by punctuators. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}
