/**
 * Table-table (equi-)joins: either side's change looks up the other side's current value and
 * emits the join result's change, with the larger of the two timestamps (Kafka Streams' rules).
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import type { Materialized, Named } from './options.js';
import { keyValueStoreFor, storeGetter, type Change, type ValueGetterSupplier } from './internal.js';
import { KTable } from './ktable.js';
import type { ValueJoiner } from './kstream.js';
import type { JoinKind } from './joins.js';

export function tableTableJoin<K, V, VO, VR>(
  left: KTable<K, V>,
  right: KTable<K, VO>,
  kind: JoinKind,
  joiner: ValueJoiner<V | null, VO | null, VR>,
  named: Named | undefined,
  materialized: Materialized<K, VR> | undefined,
): KTable<K, VR> {
  const builder = left.builder;
  const topology = builder.topology;
  const prefix = kind === 'inner' ? 'KTABLE-JOIN' : kind === 'left' ? 'KTABLE-LEFTJOIN' : 'KTABLE-OUTERJOIN';
  const base = named?.name;
  const thisName = base ? `${base}-join-this` : builder.newName(`${prefix}THIS-`);
  const otherName = base ? `${base}-join-other` : builder.newName(`${prefix}OTHER-`);
  const mergeName = base ?? builder.newName('KTABLE-MERGE-');
  const storeName = materialized ? (materialized.options.storeName ?? builder.newName('KTABLE-MERGE-STATE-STORE-')) : null;

  /** The join result for a left value and a right value, or null when the join kind has no row. */
  const result = (l: V | null, r: VO | null): VR | null => {
    if (kind === 'inner' && (l === null || r === null)) return null;
    if (kind === 'left' && l === null) return null;
    if (kind === 'outer' && l === null && r === null) return null;
    return joiner(l, r);
  };

  function side<VS, VX>(isLeft: boolean, otherGetter: ValueGetterSupplier<K, VX>): ProcessorSupplier<K, Change<VS>, K, Change<VR>> {
    return () => {
      let context: ProcessorContext<K, Change<VR>>;
      let get: (key: K) => ValueAndTimestamp<VX> | null;
      return {
        init(c) {
          context = c;
          get = otherGetter.init(c as ProcessorContext<unknown, unknown>);
        },
        process(r) {
          if (r.key === null || r.key === undefined) return;
          const o = get(r.key);
          const ov = o ? o.value : null;
          const calc = (v: VS | null): VR | null => (isLeft ? result(v as V | null, ov as VO | null) : result(ov as V | null, v as VO | null));
          const newValue = calc(r.value.newValue);
          const oldValue = calc(r.value.oldValue);
          if (newValue === null && oldValue === null) return;
          context.forward(r.withValue({ newValue, oldValue }).withTimestamp(o ? Math.max(o.timestamp, r.timestamp) : r.timestamp));
        },
      };
    };
  }

  topology.addProcessor(thisName, side<V, VO>(true, right.getter), left.nodeName);
  topology.addProcessor(otherName, side<VO, V>(false, left.getter), right.nodeName);
  if (right.getter.storeNames.length) topology.connectProcessorAndStateStores([thisName], ...right.getter.storeNames);
  if (left.getter.storeNames.length) topology.connectProcessorAndStateStores([otherName], ...left.getter.storeNames);
  topology.addProcessor<K, Change<VR>, K, Change<VR>>(mergeName, () => {
    let context: ProcessorContext<K, Change<VR>>;
    let store: KeyValueStore<K, ValueAndTimestamp<VR>> | null = null;
    return {
      init(c) {
        context = c;
        if (storeName) store = c.getStateStore<KeyValueStore<K, ValueAndTimestamp<VR>> & StateStore>(storeName);
      },
      process(r) {
        if (store) store.put(r.key, r.value.newValue === null ? null : { value: r.value.newValue, timestamp: r.timestamp });
        context.forward(r);
      },
    };
  }, thisName, otherName);
  const valueSerde = materialized?.options.valueSerde;
  if (storeName) {
    topology.addStateStore(keyValueStoreFor(topology, storeName, materialized?.options, materialized?.options.keySerde ?? left.keySerde ?? topology.defaultSerde<K>('key'), valueSerde ?? topology.defaultSerde<VR>('value')), mergeName);
  }
  const leftGetter = left.getter;
  const rightGetter = right.getter;
  const getter: ValueGetterSupplier<K, VR> = storeName
    ? storeGetter(storeName)
    : {
        storeNames: [...leftGetter.storeNames, ...rightGetter.storeNames],
        init(c) {
          const gl = leftGetter.init(c);
          const gr = rightGetter.init(c);
          return (k) => {
            const l = gl(k);
            const r = gr(k);
            const v = result(l ? l.value : null, r ? r.value : null);
            return v === null ? null : { value: v, timestamp: Math.max(l?.timestamp ?? -1, r?.timestamp ?? -1) };
          };
        },
      };
  return new KTable<K, VR>(builder, mergeName, left.keySerde, valueSerde, storeName, getter, [...left.sourceTopics, ...right.sourceTopics]);
}
