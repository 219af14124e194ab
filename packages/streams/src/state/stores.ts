/**
 * Kafka Streams' `Stores` factory: pick an engine (in-memory or persistent LMDB), then a typed
 * store builder with serdes. Builders are what a topology holds; each task builds its own store.
 */
import type { Serde } from '../serdes.js';
import { KeyValueStoreImpl } from './key-value-store.js';
import { inMemorySupplier, lmdbSupplier, type BytesStoreSupplier, type StateStore, type StoreKind } from './store.js';
import { SessionStoreImpl, WindowStoreImpl } from './window-store.js';

export interface StoreBuilder<S extends StateStore = StateStore> {
  readonly name: string;
  readonly kind: StoreKind;
  readonly loggingEnabled: boolean;
  withLoggingDisabled(): StoreBuilder<S>;
  withLoggingEnabled(configs?: Record<string, string>): StoreBuilder<S>;
  build(): S;
}

export interface WindowBytesStoreSupplier extends BytesStoreSupplier {
  readonly retentionMs: number;
  readonly windowSizeMs: number;
  readonly retainDuplicates: boolean;
}

export interface SessionBytesStoreSupplier extends BytesStoreSupplier {
  readonly retentionMs: number;
}

class Builder<S extends StateStore> implements StoreBuilder<S> {
  loggingEnabled = true;
  private logConfigs: Record<string, string> = {};

  constructor(
    readonly name: string,
    readonly kind: StoreKind,
    private readonly make: () => S,
  ) {}

  withLoggingDisabled(): this {
    this.loggingEnabled = false;
    return this;
  }

  withLoggingEnabled(configs: Record<string, string> = {}): this {
    this.loggingEnabled = true;
    this.logConfigs = configs;
    return this;
  }

  build(): S {
    const store = this.make();
    (store as { loggingEnabled: boolean }).loggingEnabled = this.loggingEnabled;
    Object.assign(store.changelogConfigs, this.logConfigs);
    return store;
  }
}

function windowSupplier(base: BytesStoreSupplier, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean): WindowBytesStoreSupplier {
  if (windowSizeMs > retentionMs) throw new Error(`window store ${base.name}: the retention period (${retentionMs} ms) must be at least the window size (${windowSizeMs} ms)`);
  return { ...base, get: base.get, retentionMs, windowSizeMs, retainDuplicates };
}

export const Stores = {
  inMemoryKeyValueStore: (name: string): BytesStoreSupplier => inMemorySupplier(name),
  /** LMDB-backed; files under `<state.dir>/<application.id>/<task>/lmdb/<name>`. */
  persistentKeyValueStore: (name: string): BytesStoreSupplier => lmdbSupplier(name),
  inMemoryWindowStore: (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean): WindowBytesStoreSupplier =>
    windowSupplier(inMemorySupplier(name), retentionMs, windowSizeMs, retainDuplicates),
  persistentWindowStore: (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean): WindowBytesStoreSupplier =>
    windowSupplier(lmdbSupplier(name), retentionMs, windowSizeMs, retainDuplicates),
  inMemorySessionStore: (name: string, retentionMs: number): SessionBytesStoreSupplier => ({ ...inMemorySupplier(name), retentionMs }),
  persistentSessionStore: (name: string, retentionMs: number): SessionBytesStoreSupplier => ({ ...lmdbSupplier(name), retentionMs }),

  keyValueStoreBuilder<K, V>(supplier: BytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>): StoreBuilder<KeyValueStoreImpl<K, V>> {
    return new Builder(supplier.name, 'keyValue', () => new KeyValueStoreImpl(supplier, keySerde, valueSerde));
  },
  windowStoreBuilder<K, V>(supplier: WindowBytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>): StoreBuilder<WindowStoreImpl<K, V>> {
    return new Builder(supplier.name, 'window', () => new WindowStoreImpl(supplier, keySerde, valueSerde, supplier.retentionMs, supplier.windowSizeMs, supplier.retainDuplicates));
  },
  sessionStoreBuilder<K, V>(supplier: SessionBytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>): StoreBuilder<SessionStoreImpl<K, V>> {
    return new Builder(supplier.name, 'session', () => new SessionStoreImpl(supplier, keySerde, valueSerde, supplier.retentionMs));
  },
};
