/**
 * Foreign-key table-table joins (KIP-213): each left row subscribes, through an internal topic
 * partitioned like the right table, to the right row its foreign key names; the right side keeps
 * the subscriptions in a store and answers — at subscription and at every change of the right
 * row — through a response topic partitioned like the left table. The left side joins a response
 * only if it still matches the row's current value (a hash of its bytes), so stale answers from a
 * row's previous foreign key are dropped.
 */
import { createHash } from 'node:crypto';
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import { Serdes, type Serde } from '../serdes.js';
import type { KeyValueStore, KeyValueStoreImpl } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import { Stores } from '../state/stores.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import type { Materialized, Named } from './options.js';
import { dslSupplier, keyValueStoreFor, storeGetter, type Change } from './internal.js';
import { KTable } from './ktable.js';
import type { ValueJoiner } from './kstream.js';

const SUBSCRIBE = 1;
const UNSUBSCRIBE = 2;
const UNSUBSCRIBE_AND_PROPAGATE = 3;

function lengthPrefixed(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

export function foreignKeyJoin<K, V, KO, VO, VR>(
  left: KTable<K, V>,
  right: KTable<KO, VO>,
  foreignKey: (value: V) => KO,
  joiner: ValueJoiner<V, VO | null, VR>,
  leftJoin: boolean,
  named: Named | undefined,
  materialized: Materialized<K, VR> | undefined,
): KTable<K, VR> {
  const builder = left.builder;
  const topology = builder.topology;
  const base = named?.name ?? builder.newName('KTABLE-FK-JOIN-');
  const keySerde: Serde<K> = left.keySerde ?? topology.defaultSerde<K>('key');
  const valueSerde: Serde<V> = left.valueSerde ?? topology.defaultSerde<V>('value');
  const foreignKeySerde: Serde<KO> = right.keySerde ?? topology.defaultSerde<KO>('key');
  const rightValueSerde: Serde<VO> = right.valueSerde ?? topology.defaultSerde<VO>('value');
  const subscriptionTopic = `${base}-subscription-registration-topic`;
  const responseTopic = `${base}-subscription-response-topic`;
  const subscriptionStore = `${base}-subscription-store`;
  const resultStore = materialized?.options.storeName ?? `${base}-result-store`;
  const hashOf = (v: V): Buffer => createHash('md5').update(valueSerde.serialize(base, v) ?? Buffer.alloc(0)).digest();

  // Left: register, move or drop the row's subscription.
  const registerName = `${base}-subscription-registration-processor`;
  topology.addProcessor<K, Change<V>, KO, Buffer>(registerName, () => {
    let context: ProcessorContext<KO, Buffer>;
    const send = (fk: KO, type: number, key: K, hash: Buffer | null, timestamp: number, rec: import('../processor/record.js').Record<K, Change<V>>): void => {
      const k = keySerde.serialize(base, key) as Buffer;
      const h = hash ?? Buffer.alloc(0);
      context.forward(rec.withKey(fk).withValue(Buffer.concat([Buffer.from([type, h.length]), h, k])).withTimestamp(timestamp));
    };
    return {
      init: (c) => void (context = c),
      process(r) {
        if (r.key === null || r.key === undefined) return;
        const oldFk = r.value.oldValue === null ? null : foreignKey(r.value.oldValue);
        const newFk = r.value.newValue === null ? null : foreignKey(r.value.newValue);
        const same = oldFk !== null && newFk !== null && (foreignKeySerde.serialize(base, oldFk) as Buffer).equals(foreignKeySerde.serialize(base, newFk) as Buffer);
        if (oldFk !== null && !same) send(oldFk, newFk === null ? UNSUBSCRIBE_AND_PROPAGATE : UNSUBSCRIBE, r.key, null, r.timestamp, r);
        if (newFk !== null) send(newFk, SUBSCRIBE, r.key, hashOf(r.value.newValue as V), r.timestamp, r);
        // A row whose new value has no foreign key (null) leaves the join result.
        if (newFk === null && oldFk === null && r.value.newValue !== null) send(null as unknown as KO, UNSUBSCRIBE_AND_PROPAGATE, r.key, null, r.timestamp, r);
      },
    };
  }, left.nodeName);
  topology.addInternalTopic(subscriptionTopic);
  topology.addSink(`${base}-subscription-registration-sink`, subscriptionTopic, { keySerializer: foreignKeySerde, valueSerializer: Serdes.Bytes() }, registerName);
  const subscriptionSource = `${base}-subscription-registration-source`;
  topology.addSource(subscriptionSource, [subscriptionTopic], { keyDeserializer: foreignKeySerde as Serde<unknown>, valueDeserializer: Serdes.Bytes() as Serde<unknown> });

  // Right: keep subscriptions, answer them now and on every change of the right row.
  const respond = (context: ProcessorContext<K, Buffer>, leftKeyBytes: Buffer, hash: Buffer, value: VO | null, timestamp: number, rec: import('../processor/record.js').Record<unknown, unknown>): void => {
    const v = value === null ? null : rightValueSerde.serialize(base, value);
    const head = Buffer.from([hash.length]);
    const payload = Buffer.concat([head, hash, v === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), v])]);
    context.forward(rec.withKey(keySerde.deserialize(base, leftKeyBytes) as K).withValue(payload).withTimestamp(timestamp));
  };
  const subscriptionProcessor = `${base}-subscription-processor`;
  const rightGetter = right.getter;
  topology.addProcessor<KO, Buffer, K, Buffer>(subscriptionProcessor, () => {
    let context: ProcessorContext<K, Buffer>;
    let store: KeyValueStore<Buffer, Buffer>;
    let get: (key: KO) => ValueAndTimestamp<VO> | null;
    return {
      init(c) {
        context = c;
        store = c.getStateStore<KeyValueStore<Buffer, Buffer> & StateStore>(subscriptionStore);
        get = rightGetter.init(c as ProcessorContext<unknown, unknown>);
      },
      process(r) {
        const type = r.value[0];
        const hash = r.value.subarray(2, 2 + r.value[1]);
        const leftKey = r.value.subarray(2 + r.value[1]);
        if (r.key === null || r.key === undefined) {
          if (type === UNSUBSCRIBE_AND_PROPAGATE) respond(context, leftKey, Buffer.alloc(0), null, r.timestamp, r);
          return;
        }
        const id = Buffer.concat([lengthPrefixed(foreignKeySerde.serialize(base, r.key) as Buffer), leftKey]);
        if (type === SUBSCRIBE) {
          store.put(id, hash);
          const current = get(r.key);
          respond(context, leftKey, hash, current ? current.value : null, current ? Math.max(current.timestamp, r.timestamp) : r.timestamp, r);
        } else {
          store.delete(id);
          if (type === UNSUBSCRIBE_AND_PROPAGATE) respond(context, leftKey, Buffer.alloc(0), null, r.timestamp, r);
        }
      },
    };
  }, subscriptionSource);
  const foreignName = `${base}-subscription-join-foreign`;
  topology.addProcessor<KO, Change<VO>, K, Buffer>(foreignName, () => {
    let context: ProcessorContext<K, Buffer>;
    let store: KeyValueStoreImpl<Buffer, Buffer>;
    return {
      init(c) {
        context = c;
        store = c.getStateStore<KeyValueStoreImpl<Buffer, Buffer>>(subscriptionStore);
      },
      process(r) {
        if (r.key === null || r.key === undefined) return;
        const prefix = lengthPrefixed(foreignKeySerde.serialize(base, r.key) as Buffer);
        for (const e of store.prefixScan(prefix, Serdes.Bytes())) {
          respond(context, e.key.subarray(prefix.length), e.value, r.value.newValue, r.timestamp, r);
        }
      },
    };
  }, right.nodeName);
  topology.addStateStore(Stores.keyValueStoreBuilder(dslSupplier(topology, subscriptionStore, materialized?.options.storeType), Serdes.Bytes(), Serdes.Bytes()), subscriptionProcessor, foreignName);
  if (rightGetter.storeNames.length) topology.connectProcessorAndStateStores([subscriptionProcessor], ...rightGetter.storeNames);
  topology.addInternalTopic(responseTopic);
  topology.addSink(`${base}-subscription-response-sink`, responseTopic, { keySerializer: keySerde, valueSerializer: Serdes.Bytes() }, subscriptionProcessor, foreignName);
  const responseSource = `${base}-subscription-response-source`;
  topology.addSource(responseSource, [responseTopic], { keyDeserializer: keySerde as Serde<unknown>, valueDeserializer: Serdes.Bytes() as Serde<unknown> });

  // Left again: join the answer if it is still about the row's current value.
  const resolverName = `${base}-subscription-response-resolver`;
  const leftGetter = left.getter;
  topology.addProcessor<K, Buffer, K, Change<VR>>(resolverName, () => {
    let context: ProcessorContext<K, Change<VR>>;
    let results: KeyValueStore<K, ValueAndTimestamp<VR>>;
    let get: (key: K) => ValueAndTimestamp<V> | null;
    return {
      init(c) {
        context = c;
        results = c.getStateStore<KeyValueStore<K, ValueAndTimestamp<VR>> & StateStore>(resultStore);
        get = leftGetter.init(c as ProcessorContext<unknown, unknown>);
      },
      process(r) {
        if (r.key === null || r.key === undefined) return;
        const hash = r.value.subarray(1, 1 + r.value[0]);
        const rest = r.value.subarray(1 + r.value[0]);
        const rightValue = rest[0] === 1 ? rightValueSerde.deserialize(base, rest.subarray(1)) : null;
        const current = get(r.key);
        const previous = results.get(r.key);
        let next: VR | null = null;
        if (current !== null) {
          if (!hashOf(current.value).equals(hash)) return; // an answer for an older value of the row
          if (rightValue !== null || leftJoin) next = joiner(current.value, rightValue);
        }
        if (next === null && previous === null) return;
        const timestamp = current ? Math.max(current.timestamp, r.timestamp) : r.timestamp;
        results.put(r.key, next === null ? null : { value: next, timestamp });
        context.forward(r.withValue({ newValue: next, oldValue: previous ? previous.value : null }).withTimestamp(timestamp));
      },
    };
  }, responseSource);
  const resultValueSerde = materialized?.options.valueSerde;
  topology.addStateStore(keyValueStoreFor(topology, resultStore, materialized?.options, materialized?.options.keySerde ?? keySerde, resultValueSerde ?? topology.defaultSerde<VR>('value')), resolverName);
  if (leftGetter.storeNames.length) topology.connectProcessorAndStateStores([resolverName], ...leftGetter.storeNames);
  return new KTable<K, VR>(builder, resolverName, left.keySerde, resultValueSerde, resultStore, storeGetter(resultStore), left.sourceTopics);
}
