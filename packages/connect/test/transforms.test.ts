/** SMTs and predicates configured with Kafka's `transforms.*`/`predicates.*` syntax. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plugins, Schemas, sourceRecord, structSchema, type SinkRecord, type SourceRecord } from '../src/index.js';
import { buildChain } from '../src/runtime/connector-config.js';

const plugins = new Plugins();
const T = 'org.apache.kafka.connect.transforms.';

function sinkRecord(value: unknown, extra: Partial<SinkRecord> = {}): SinkRecord {
  return { topic: 'orders', kafkaPartition: 2, kafkaOffset: 17, originalTopic: 'orders', originalKafkaPartition: 2, originalKafkaOffset: 17, keySchema: null, key: null, valueSchema: null, value, timestamp: Date.UTC(2024, 0, 15, 10, 30), headers: [], ...extra };
}

test('InsertField, ReplaceField, MaskField, ValueToKey, ExtractField (schemaless)', () => {
  const chain = buildChain({
    transforms: 'insert,replace,mask,key,extract',
    'transforms.insert.type': `${T}InsertField$Value`,
    'transforms.insert.topic.field': 'src_topic',
    'transforms.insert.offset.field': 'src_offset',
    'transforms.insert.static.field': 'dc',
    'transforms.insert.static.value': 'eu-1',
    'transforms.replace.type': `${T}ReplaceField$Value`,
    'transforms.replace.exclude': 'internal',
    'transforms.replace.renames': 'amt:amount',
    'transforms.mask.type': `${T}MaskField$Value`,
    'transforms.mask.fields': 'card',
    'transforms.mask.replacement': '****',
    'transforms.key.type': `${T}ValueToKey`,
    'transforms.key.fields': 'id',
    'transforms.extract.type': `${T}ExtractField$Key`,
    'transforms.extract.field': 'id',
  }, plugins);
  const out = chain.apply(sinkRecord({ id: 7, amt: 9.5, card: '4111', internal: 'x' }))!;
  assert.deepEqual(out.value, { id: 7, amount: 9.5, card: '****', src_topic: 'orders', src_offset: 17, dc: 'eu-1' });
  assert.equal(out.key, 7);
});

test('InsertField and Cast with a schema derive the new schema', () => {
  const chain = buildChain({
    transforms: 'ts,cast',
    'transforms.ts.type': `${T}InsertField$Value`,
    'transforms.ts.timestamp.field': 'at!',
    'transforms.cast.type': `${T}Cast$Value`,
    'transforms.cast.spec': 'qty:string,price:int32',
  }, plugins);
  const schema = structSchema([['qty', Schemas.INT64], ['price', Schemas.FLOAT64]]);
  const out = chain.apply(sinkRecord({ qty: 3, price: 9.99 }, { valueSchema: schema }))!;
  assert.deepEqual(out.value, { qty: '3', price: 9, at: new Date(Date.UTC(2024, 0, 15, 10, 30)) });
  assert.deepEqual(out.valueSchema!.fields!.map((f) => [f.name, f.schema.type, f.schema.optional, f.schema.name]), [
    ['qty', 'string', false, undefined],
    ['price', 'int32', false, undefined],
    ['at', 'int64', false, 'org.apache.kafka.connect.data.Timestamp'],
  ]);
  assert.throws(() => buildChain({ transforms: 'c', 'transforms.c.type': `${T}Cast$Value`, 'transforms.c.spec': 'a:uuid' }, plugins), /Invalid type found in casting spec: uuid/);
});

test('TimestampConverter, RegexRouter and TimestampRouter', () => {
  const chain = buildChain({
    transforms: 'conv,route,daily',
    'transforms.conv.type': `${T}TimestampConverter$Value`,
    'transforms.conv.field': 'when',
    'transforms.conv.target.type': 'string',
    'transforms.conv.format': "yyyy-MM-dd'T'HH:mm:ss.SSS",
    'transforms.route.type': `${T}RegexRouter`,
    'transforms.route.regex': '(ord)ers',
    'transforms.route.replacement': '$1-v2',
    'transforms.daily.type': `${T}TimestampRouter`,
  }, plugins);
  const out = chain.apply(sinkRecord({ when: 1705314600123 }))!;
  assert.deepEqual(out.value, { when: '2024-01-15T10:30:00.123' });
  assert.equal(out.topic, 'ord-v2-20240115');
  const back = buildChain({ transforms: 'c', 'transforms.c.type': `${T}TimestampConverter$Value`, 'transforms.c.target.type': 'unix', 'transforms.c.format': "yyyy-MM-dd'T'HH:mm:ss.SSS", 'transforms.c.unix.precision': 'seconds' }, plugins);
  assert.equal(back.apply(sinkRecord('2024-01-15T10:30:00.123'))!.value, 1705314600);
  // RegexRouter needs a whole-name match, as Java's Matcher.matches().
  const partial = buildChain({ transforms: 'r', 'transforms.r.type': 'RegexRouter', 'transforms.r.regex': 'ord', 'transforms.r.replacement': 'x' }, plugins);
  assert.equal(partial.apply(sinkRecord({}))!.topic, 'orders');
});

test('Filter with TopicNameMatches, HasHeaderKey, RecordIsTombstone and negate', () => {
  const chain = buildChain({
    transforms: 'dropTombstones,onlyOrders,dropMarked',
    'transforms.dropTombstones.type': `${T}Filter`,
    'transforms.dropTombstones.predicate': 'isTombstone',
    'transforms.onlyOrders.type': `${T}Filter`,
    'transforms.onlyOrders.predicate': 'isOrders',
    'transforms.onlyOrders.negate': 'true',
    'transforms.dropMarked.type': `${T}Filter`,
    'transforms.dropMarked.predicate': 'marked',
    predicates: 'isTombstone,isOrders,marked',
    'predicates.isTombstone.type': `${T}predicates.RecordIsTombstone`,
    'predicates.isOrders.type': `${T}predicates.TopicNameMatches`,
    'predicates.isOrders.pattern': 'orders|payments',
    'predicates.marked.type': `${T}predicates.HasHeaderKey`,
    'predicates.marked.name': 'skip',
  }, plugins);
  const src = (topic: string, value: unknown, headers: SourceRecord['headers'] = []) => sourceRecord({ topic, value, headers, sourcePartition: {}, sourceOffset: {} });
  assert.equal(chain.apply(src('orders', null)), null);
  assert.equal(chain.apply(src('audit', 'x')), null);
  assert.equal(chain.apply(src('orders', 'x', [{ key: 'skip', schema: null, value: '1' }])), null);
  assert.equal(chain.apply(src('payments', 'x'))!.value, 'x');
  assert.throws(() => buildChain({ transforms: 'f', 'transforms.f.type': 'Filter', 'transforms.f.predicate': 'nope' }, plugins), /The predicate nope is not defined/);
  assert.throws(() => buildChain({ transforms: 'f', 'transforms.f.type': 'com.example.Nope' }, plugins), /Class com\.example\.Nope could not be found/);
});
