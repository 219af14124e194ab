import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumed, Materialized, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

interface Order {
  product: string;
  qty: number;
}

function run(left: boolean) {
  const builder = new StreamsBuilder();
  const orders = builder.table('orders', Consumed.with(Serdes.String(), Serdes.JSON<Order>()));
  const products = builder.table('products', Consumed.with(Serdes.String(), Serdes.String()));
  const joiner = (o: Order, name: string | null) => `${o.qty}x ${name}`;
  const joined = left
    ? orders.leftJoin(products, (o) => o.product, joiner, undefined, Materialized.as<string, string>('order-view').withValueSerde(Serdes.String()))
    : orders.join(products, (o) => o.product, joiner, undefined, Materialized.as<string, string>('order-view').withValueSerde(Serdes.String()));
  joined.toStream().to('out', Produced.with(Serdes.String(), Serdes.String()));
  const driver = new TopologyTestDriver(builder.build(), { 'application.id': 'fk' });
  const o = driver.createInputTopic('orders', Serdes.String(), Serdes.JSON<Order>());
  const p = driver.createInputTopic('products', Serdes.String(), Serdes.String());
  const out = driver.createOutputTopic('out', Serdes.String(), Serdes.String());
  const steps: string[][] = [];
  const step = (f: () => void) => {
    f();
    steps.push(out.readKeyValuesToList().map((kv) => `${kv.key}=${kv.value}`));
  };
  step(() => o.pipeInput('o1', { product: 'p1', qty: 2 })); // product unknown yet
  step(() => p.pipeInput('p1', 'widget'));
  step(() => p.pipeInput('p1', 'gadget')); // the right row changes
  step(() => p.pipeInput('p2', 'sprocket'));
  step(() => o.pipeInput('o1', { product: 'p2', qty: 3 })); // the foreign key moves
  step(() => p.pipeInput('p1', 'ignored')); // o1 no longer subscribes to p1
  step(() => p.pipeInput('p2', null)); // the right row is deleted
  step(() => o.pipeInput('o1', null)); // the left row is deleted
  const view = driver.getKeyValueStore<string, string>('order-view')!.get('o1');
  assert.ok(driver.producedTopicNames().has('fk-KTABLE-FK-JOIN-0000000004-subscription-registration-topic'));
  driver.close();
  return { steps, view };
}

test('foreign-key inner join follows changes on both sides and of the foreign key', () => {
  const { steps, view } = run(false);
  assert.deepEqual(steps, [[], ['o1=2x widget'], ['o1=2x gadget'], [], ['o1=3x sprocket'], [], ['o1=null'], []]);
  assert.equal(view, null);
});

test('foreign-key left join keeps rows whose foreign key names no row', () => {
  const { steps } = run(true);
  assert.deepEqual(steps, [['o1=2x null'], ['o1=2x widget'], ['o1=2x gadget'], [], ['o1=3x sprocket'], [], ['o1=3x null'], ['o1=null']]);
});
