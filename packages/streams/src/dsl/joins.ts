/**
 * Stream joins. Stream-stream joins are windowed: each side buffers its records in a window store
 * and looks up the other side's; left/outer results for records that found no partner are emitted
 * only once the join window (plus grace) has closed, as in Kafka Streams 3.x (no spurious
 * [A, null] results). Stream-table and stream-globalTable joins look the table up per record.
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import type { Record } from '../processor/record.js';
import { Serdes, type Serde } from '../serdes.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { WindowStore } from '../state/window-store.js';
import { Stores } from '../state/stores.js';
import type { Joined, Named, StreamJoined } from './options.js';
import { dslSupplier, windowStoreFor } from './internal.js';
import { KStream, type ValueJoiner } from './kstream.js';
import type { GlobalKTable, KTable } from './ktable.js';
import type { JoinWindows } from './windows.js';
import { dropped } from './grouped-stream.js';

export type JoinKind = 'inner' | 'left' | 'outer';

function copartitioned<K, V>(stream: KStream<K, V>): KStream<K, V> {
  return stream.repartitionRequired ? stream.builder.repartitionStream(stream, undefined, stream.keySerde, stream.valueSerde, undefined, undefined, true) : stream;
}

/** Outer-buffer keys: `[timestamp u64][side u8][seq u32][key bytes]`, so a scan reads them in time order. */
function outerKey(ts: number, side: number, seq: number, key: Buffer): Buffer {
  const head = Buffer.alloc(13);
  head.writeBigUInt64BE(BigInt(Math.max(0, ts)));
  head.writeUInt8(side, 8);
  head.writeUInt32BE(seq >>> 0, 9);
  return Buffer.concat([head, key]);
}

export function streamStreamJoin<K, V, VO, VR>(
  leftIn: KStream<K, V>,
  rightIn: KStream<K, VO>,
  kind: JoinKind,
  joiner: ValueJoiner<V | null, VO | null, VR>,
  windows: JoinWindows,
  streamJoined: StreamJoined<K, V, VO> | undefined,
): KStream<K, VR> {
  const builder = leftIn.builder;
  const topology = builder.topology;
  const left = copartitioned(leftIn);
  const right = copartitioned(rightIn);
  const o = streamJoined?.options;
  const keySerde = o?.keySerde ?? left.keySerde ?? right.keySerde ?? topology.defaultSerde<K>('key');
  const leftSerde = o?.valueSerde ?? left.valueSerde ?? topology.defaultSerde<V>('value');
  const rightSerde = o?.otherValueSerde ?? right.valueSerde ?? topology.defaultSerde<VO>('value');
  const thisName = o?.name ? `${o.name}-join-this` : builder.newName(kind === 'outer' ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-');
  const otherName = o?.name ? `${o.name}-join-other` : builder.newName(kind === 'inner' ? 'KSTREAM-JOINOTHER-' : 'KSTREAM-OUTEROTHER-');
  const mergeName = o?.name ? `${o.name}-join-merge` : builder.newName('KSTREAM-MERGE-');
  const thisStore = o?.storeName ? `${o.storeName}-this-join-store` : `${thisName}-store`;
  const otherStore = o?.storeName ? `${o.storeName}-other-join-store` : `${otherName}-store`;
  const outerStore = kind === 'inner' ? null : o?.storeName ? `${o.storeName}-outer-shared-join-store` : builder.newName('KSTREAM-OUTERSHARED-') + '-store';
  const { beforeMs, afterMs, graceMs } = windows;
  const retention = beforeMs + afterMs + graceMs;
  const size = beforeMs + afterMs;
  const times = new WeakMap<object, { streamTime: number; seq: number }>();

  const mat = { loggingEnabled: o?.loggingEnabled ?? true, logConfig: {}, storeType: o?.storeType };
  topology.addProcessor(thisName, sideSupplier(true), left.nodeName);
  topology.addProcessor(otherName, sideSupplier(false), right.nodeName);
  topology.addStateStore(windowStoreFor<K, V>(topology, thisStore, mat, keySerde, leftSerde, retention, size, false, true), thisName, otherName);
  topology.addStateStore(windowStoreFor<K, VO>(topology, otherStore, mat, keySerde, rightSerde, retention, size, false, true), thisName, otherName);
  if (outerStore) {
    const b = Stores.keyValueStoreBuilder(dslSupplier(topology, outerStore, o?.storeType), Serdes.Bytes(), Serdes.Bytes());
    topology.addStateStore(mat.loggingEnabled ? b : b.withLoggingDisabled(), thisName, otherName);
  }
  topology.addProcessor(mergeName, () => {
    let context: ProcessorContext<K, VR>;
    return { init: (c) => void (context = c), process: (r: Record<K, VR>) => context.forward(r) };
  }, thisName, otherName);
  return new KStream<K, VR>(builder, mergeName, left.keySerde, undefined, false);

  function sideSupplier(isLeft: boolean): ProcessorSupplier<K, unknown, K, VR> {
    // Left records wait `after` for a partner, right records `before`.
    const needsOuter = kind === 'outer' || (kind === 'left' && isLeft);
    return () => {
      let context: ProcessorContext<K, VR>;
      let own: WindowStore<K, unknown>;
      let other: WindowStore<K, unknown>;
      let outer: KeyValueStore<Buffer, Buffer> | null = null;
      let time: { streamTime: number; seq: number };
      const join = (mine: unknown, theirs: unknown): VR => (isLeft ? joiner(mine as V, theirs as VO) : joiner(theirs as V, mine as VO));
      const emitExpired = (record: Record<K, unknown>): void => {
        if (!outer) return;
        for (const e of outer.range(null, null)) {
          const ts = Number(e.key.readBigUInt64BE(0));
          if (ts + Math.min(beforeMs, afterMs) + graceMs > time.streamTime) break;
          const side = e.key.readUInt8(8);
          if (ts + (side === 0 ? afterMs : beforeMs) + graceMs > time.streamTime) continue;
          const key = keySerde.deserialize(outerStore as string, e.key.subarray(13)) as K;
          const value = side === 0 ? leftSerde.deserialize(outerStore as string, e.value) : rightSerde.deserialize(outerStore as string, e.value);
          outer.delete(e.key);
          context.forward(record.withKey(key).withValue(side === 0 ? joiner(value as V, null) : joiner(null, value as VO)).withTimestamp(ts));
        }
      };
      return {
        init(c) {
          context = c;
          own = c.getStateStore<WindowStore<K, unknown> & StateStore>(isLeft ? thisStore : otherStore);
          other = c.getStateStore<WindowStore<K, unknown> & StateStore>(isLeft ? otherStore : thisStore);
          if (outerStore) outer = c.getStateStore<KeyValueStore<Buffer, Buffer> & StateStore>(outerStore);
          let t = times.get(c.taskId);
          if (!t) times.set(c.taskId, (t = { streamTime: -1, seq: 0 }));
          time = t;
        },
        process(r) {
          if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null key or value');
          const ts = r.timestamp;
          time.streamTime = Math.max(time.streamTime, ts);
          if (ts < time.streamTime - retention) return dropped(context as ProcessorContext<unknown, unknown>, `record at ${ts} is too late for the join window (stream time ${time.streamTime})`);
          emitExpired(r);
          own.put(r.key, r.value, ts);
          const from = isLeft ? ts - beforeMs : ts - afterMs;
          const to = isLeft ? ts + afterMs : ts + beforeMs;
          const matches = other.fetchRange(r.key, Math.max(0, from), to);
          const keyBytes = keySerde.serialize(thisStore, r.key) as Buffer;
          for (const m of matches) {
            // The partner's pending left/outer result is void now that it joined.
            if (outer && (kind === 'outer' || !isLeft)) {
              const otherSide = isLeft ? 1 : 0;
              for (const e of outer.range(outerKey(m.windowStart, otherSide, 0, Buffer.alloc(0)), outerKey(m.windowStart, otherSide + 1, 0, Buffer.alloc(0)))) {
                if (e.key.subarray(13).equals(keyBytes)) outer.delete(e.key);
              }
            }
            context.forward(r.withValue(join(r.value, m.value)).withTimestamp(Math.max(ts, m.windowStart)));
          }
          if (matches.length === 0 && needsOuter && outer) {
            if (ts + (isLeft ? afterMs : beforeMs) + graceMs <= time.streamTime) {
              context.forward(r.withValue(isLeft ? joiner(r.value as V, null) : joiner(null, r.value as VO)));
            } else {
              const valueBytes = (isLeft ? leftSerde.serialize(thisStore, r.value as V) : rightSerde.serialize(otherStore, r.value as VO)) as Buffer;
              outer.put(outerKey(ts, isLeft ? 0 : 1, time.seq++, keyBytes), valueBytes);
            }
          }
        },
      };
    };
  }
}

export function streamTableJoin<K, V, VT, VR>(streamIn: KStream<K, V>, table: KTable<K, VT>, leftJoin: boolean, joiner: ValueJoiner<V, VT | null, VR>, joined: Joined<K, V, VT> | undefined): KStream<K, VR> {
  const builder = streamIn.builder;
  const stream = copartitioned(streamIn);
  const name = joined?.options.name ?? builder.newName(leftJoin ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-');
  const getter = table.getter;
  builder.topology.addProcessor<K, V, K, VR>(name, () => {
    let context: ProcessorContext<K, VR>;
    let get: (key: K) => { value: VT } | null;
    return {
      init(c) {
        context = c;
        get = getter.init(c as ProcessorContext<unknown, unknown>);
      },
      process(r) {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null key or value');
        const t = get(r.key);
        if (!t && !leftJoin) return;
        context.forward(r.withValue(joiner(r.value, t ? t.value : null)));
      },
    };
  }, stream.nodeName);
  if (getter.storeNames.length) builder.topology.connectProcessorAndStateStores([name], ...getter.storeNames);
  return new KStream<K, VR>(builder, name, stream.keySerde, undefined, false);
}

export function streamGlobalTableJoin<K, V, KG, VG, VR>(
  stream: KStream<K, V>,
  table: GlobalKTable<KG, VG>,
  leftJoin: boolean,
  keySelector: (key: K, value: V) => KG,
  joiner: ValueJoiner<V, VG | null, VR>,
  named: Named | undefined,
): KStream<K, VR> {
  const builder = stream.builder;
  const name = named?.name ?? builder.newName(leftJoin ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-');
  const getter = table.getter();
  builder.topology.addProcessor<K, V, K, VR>(name, () => {
    let context: ProcessorContext<K, VR>;
    let get: (key: KG) => { value: VG } | null;
    return {
      init(c) {
        context = c;
        get = getter.init(c as ProcessorContext<unknown, unknown>);
      },
      process(r) {
        if (r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null value');
        const gk = keySelector(r.key, r.value);
        const t = gk === null || gk === undefined ? null : get(gk);
        if (!t && !leftJoin) return;
        context.forward(r.withValue(joiner(r.value, t ? t.value : null)));
      },
    };
  }, stream.nodeName);
  return new KStream<K, VR>(builder, name, stream.keySerde, undefined, stream.repartitionRequired);
}

