/** Converters: JsonConverter's envelopes byte-for-byte as Kafka writes them, and the others. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteArrayConverter, DataException, JsonConverter, Schemas, SimpleHeaderConverter, StringConverter, structSchema, type Schema } from '../src/index.js';
import { castValue } from '../src/transforms/cast.js';

test('JsonConverter with schemas.enable writes Kafka\'s envelope and reads it back', () => {
  const c = new JsonConverter();
  c.configure({}, false);
  // Kafka: {"schema":{"type":"string","optional":false},"payload":"hello"}
  assert.equal(c.fromConnectData('t', Schemas.STRING, 'hello')!.toString(), '{"schema":{"type":"string","optional":false},"payload":"hello"}');
  const schema = structSchema([['id', Schemas.INT64], ['name', Schemas.OPTIONAL_STRING], ['ok', Schemas.BOOLEAN], ['raw', Schemas.OPTIONAL_BYTES]], { name: 'com.example.User' });
  const value = { id: 42, name: null, ok: true, raw: Buffer.from([1, 2, 3]) };
  const bytes = c.fromConnectData('t', schema, value)!;
  assert.equal(
    bytes.toString(),
    '{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"boolean","optional":false,"field":"ok"},{"type":"bytes","optional":true,"field":"raw"}],"optional":false,"name":"com.example.User"},"payload":{"id":42,"name":null,"ok":true,"raw":"AQID"}}',
  );
  const back = c.toConnectData('t', bytes);
  assert.deepEqual(back.schema, schema);
  assert.deepEqual(back.value, value);
  const ts: Schema = Schemas.TIMESTAMP;
  assert.equal(c.fromConnectData('t', ts, new Date(1700000000123))!.toString(), '{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":1700000000123}');
  assert.equal(c.fromConnectData('t', null, null), null, 'a null value with no schema is a tombstone');
  assert.throws(() => c.toConnectData('t', Buffer.from('{"a":1}')), (e: Error) => e instanceof DataException && /requires "schema" and "payload" fields/.test(e.message));
  assert.throws(() => c.fromConnectData('t', Schemas.INT64, 'x'), DataException);
});

test('JsonConverter with schemas.enable=false writes plain JSON and reads schemaless', () => {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': 'false' }, true);
  assert.equal(c.fromConnectData('t', null, { a: [1, 'b'], c: null })!.toString(), '{"a":[1,"b"],"c":null}');
  assert.deepEqual(c.toConnectData('t', Buffer.from('{"a":1}')), { schema: null, value: { a: 1 } });
  assert.throws(() => c.toConnectData('t', Buffer.from('{nope')), /Converting byte\[\] to Kafka Connect data failed/);
  assert.throws(() => new JsonConverter().configure({ 'schemas.enable': 'yes' }, false), /Expected value to be either true or false/);
});

test('StringConverter, ByteArrayConverter and SimpleHeaderConverter', () => {
  const s = new StringConverter();
  s.configure({}, false);
  assert.equal(s.fromConnectData('t', null, 'héllo')!.toString('utf8'), 'héllo');
  assert.deepEqual(s.toConnectData('t', Buffer.from('x')), { schema: Schemas.OPTIONAL_STRING, value: 'x' });
  assert.equal(s.fromConnectData('t', null, null), null);
  const b = new ByteArrayConverter();
  assert.deepEqual(b.fromConnectData('t', Schemas.BYTES, Buffer.from([9])), Buffer.from([9]));
  assert.throws(() => b.fromConnectData('t', Schemas.STRING, 'x'), /not compatible/);
  const h = new SimpleHeaderConverter();
  assert.deepEqual(h.toConnectHeader('t', 'k', Buffer.from('12')), { schema: Schemas.INT64, value: 12 });
  assert.deepEqual(h.toConnectHeader('t', 'k', Buffer.from('true')), { schema: Schemas.BOOLEAN, value: true });
  assert.deepEqual(h.toConnectHeader('t', 'k', Buffer.from('text')), { schema: Schemas.STRING, value: 'text' });
  assert.equal(h.fromConnectHeader('t', 'k', null, { a: 1 })!.toString(), '{"a":1}');
});

test('INT64 values are Java longs: integers past 2^53 go through JsonConverter and Cast exactly', () => {
  const c = new JsonConverter();
  c.configure({}, false);
  const schema = structSchema([['lsn', Schemas.INT64], ['n', Schemas.INT32]]);
  const bytes = c.fromConnectData('t', schema, { lsn: 9007199254740993n, n: 7 })!;
  assert.match(bytes.toString(), /"payload":\{"lsn":9007199254740993,"n":7\}/);
  assert.deepEqual(c.toConnectData('t', bytes).value, { lsn: 9007199254740993n, n: 7 }, 'the long comes back exact; small ints stay numbers');
  assert.deepEqual(c.toConnectData('t', Buffer.from('{"schema":{"type":"int64","optional":false},"payload":-9223372036854775808}')).value, -9223372036854775808n);
  const plain = new JsonConverter();
  plain.configure({ 'schemas.enable': 'false' }, false);
  assert.deepEqual(plain.toConnectData('t', Buffer.from('{"pos":12345678901234567890}')).value, { pos: 12345678901234567890n });
  assert.equal(plain.fromConnectData('t', null, { pos: 12345678901234567890n })!.toString(), '{"pos":12345678901234567890}');
  // Cast narrows a long as Java does (low bits kept); to int64 it stays exact.
  assert.equal(castValue(9007199254740993n, 'int64'), 9007199254740993n);
  assert.equal(castValue('9007199254740993', 'int64'), 9007199254740993n);
  assert.equal(castValue(0x1_0000_0005n, 'int32'), 5);
  assert.equal(castValue(9007199254740993n, 'float64'), 9007199254740992);
  assert.equal(castValue(1n, 'boolean'), true);
});
