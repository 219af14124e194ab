/**
 * What every state store shares: a name, a byte engine, and change logging. Each write to a
 * logged store is also sent to the store's changelog topic (`<application.id>-<store>-changelog`)
 * as the exact key and value bytes the engine holds, so restoring is copying the changelog back.
 */
import { join } from 'node:path';
import { InMemoryBytesStore, LmdbBytesStore, type BytesStore } from './bytes-store.js';

export type StoreKind = 'keyValue' | 'window' | 'session';

/** Where a store sends its changes; the runtime sends them to the changelog topic. */
export type ChangeLogger = (key: Buffer, value: Buffer | null, timestamp: number) => void;

export interface StoreInitContext {
  /** `<state.dir>/<application.id>/<task id>`; persistent stores keep their files below it. */
  taskDirectory: string;
  logger: ChangeLogger | null;
  /** The record timestamp to log changes with. */
  timestamp(): number;
}

export interface StateStore {
  readonly name: string;
  readonly kind: StoreKind;
  readonly persistent: boolean;
  readonly loggingEnabled: boolean;
  /** Topic configs for the changelog topic (window and session stores add retention). */
  readonly changelogConfigs: Record<string, string>;
  init(context: StoreInitContext): void;
  /** Applies changelog records without logging them again. */
  restore(records: Iterable<{ key: Buffer; value: Buffer | null }>): void;
  flush(): void;
  close(): void;
  isOpen(): boolean;
}

/** The engine choice a store builder was given. */
export interface BytesStoreSupplier {
  readonly name: string;
  readonly persistent: boolean;
  get(taskDirectory: string): BytesStore;
}

export function inMemorySupplier(name: string): BytesStoreSupplier {
  return { name, persistent: false, get: () => new InMemoryBytesStore() };
}

export function lmdbSupplier(name: string): BytesStoreSupplier {
  return { name, persistent: true, get: (dir) => new LmdbBytesStore(join(dir, 'lmdb', name)) };
}

/** Shared plumbing of the typed stores: engine, logging, lifecycle. */
export abstract class AbstractStore implements StateStore {
  abstract readonly kind: StoreKind;
  protected engine: BytesStore | null = null;
  private context: StoreInitContext | null = null;
  loggingEnabled = true;
  changelogConfigs: Record<string, string> = { 'cleanup.policy': 'compact' };

  constructor(protected readonly supplier: BytesStoreSupplier) {}

  get name(): string {
    return this.supplier.name;
  }

  get persistent(): boolean {
    return this.supplier.persistent;
  }

  init(context: StoreInitContext): void {
    this.context = context;
    this.engine = this.supplier.get(context.taskDirectory);
  }

  isOpen(): boolean {
    return this.engine !== null;
  }

  protected get bytes(): BytesStore {
    if (!this.engine) throw new Error(`state store ${this.name} is not open`);
    return this.engine;
  }

  /** Writes to the engine and the changelog. */
  protected write(key: Buffer, value: Buffer | null): void {
    this.bytes.put(key, value);
    if (this.loggingEnabled && this.context?.logger) this.context.logger(key, value, this.context.timestamp());
  }

  restore(records: Iterable<{ key: Buffer; value: Buffer | null }>): void {
    const engine = this.bytes;
    if (engine instanceof LmdbBytesStore) engine.putAll(records);
    else for (const r of records) engine.put(r.key, r.value);
  }

  flush(): void {
    this.engine?.flush();
  }

  close(): void {
    this.engine?.close();
    this.engine = null;
  }
}
