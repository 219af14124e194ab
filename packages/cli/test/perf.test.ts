import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startTestBroker();
  assert.equal((await run('topics', ['--create', '--topic', 'perf', '--bootstrap-server', tb.bootstrap, '--partitions', '2'])).code, 0);
});
after(async () => {
  await tb.stop();
});

const FINAL = /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/;

test('producer-perf-test prints window lines and Kafka’s final line, honouring --throughput', async () => {
  const started = Date.now();
  const r = await run('producer-perf-test', [
    '--topic',
    'perf',
    '--num-records',
    '600',
    '--record-size',
    '100',
    '--throughput',
    '400',
    '--reporting-interval',
    '500',
    '--producer-props',
    `bootstrap.servers=${tb.bootstrap}`,
    'acks=1',
    'linger.ms=2',
  ]);
  const elapsed = Date.now() - started;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const final = FINAL.exec(lines[lines.length - 1]);
  assert.ok(final, r.stdout);
  assert.equal(final[1], '600');
  // 600 records at 400/s cannot finish in much less than 1.5 s.
  assert.ok(elapsed >= 1400, `took ${elapsed} ms`);
  assert.ok(Number(final[2]) <= 440, `rate ${final[2]}`);
  assert.ok(Number(final[6]) <= Number(final[7]) && Number(final[7]) <= Number(final[8]));
  const windows = lines.slice(0, -1);
  assert.ok(windows.length >= 1, r.stdout);
  for (const w of windows) assert.match(w, /^\d+ records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.$/);

  const json = await run('producer-perf-test', ['--bootstrap-server', tb.bootstrap, '--topic', 'perf', '--num-records', '2000', '--record-size', '50', '--throughput', '-1', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const figures = JSON.parse(json.stdout) as { records: number; recordsPerSec: number; failed: number };
  assert.equal(figures.records, 2000);
  assert.equal(figures.failed, 0);

  const missing = await run('producer-perf-test', ['--topic', 'perf', '--num-records', '1', '--record-size', '1', '--throughput', '-1']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing required option --bootstrap-server/);
});

test('consumer-perf-test consumes the records and prints Kafka’s CSV', async () => {
  const r = await run('consumer-perf-test', ['--bootstrap-server', tb.bootstrap, '--topic', 'perf', '--messages', '2600', '--timeout', '10000']);
  assert.equal(r.code, 0, r.stderr);
  const [header, line] = r.stdout.trim().split('\n');
  assert.equal(header, 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
  const cells = line.split(', ');
  assert.equal(cells.length, 10);
  assert.match(cells[0], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3}$/);
  assert.equal(cells[4], '2600');
  // 600 × 100 bytes + 2000 × 50 bytes.
  assert.equal(cells[2], (160_000 / 1048576).toFixed(4));

  const short = await run('consumer-perf-test', ['--bootstrap-server', tb.bootstrap, '--topic', 'perf', '--messages', '5000', '--timeout', '4000', '--hide-header']);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /Exiting before consuming the expected number of messages: timeout \(4000 ms\) exceeded/);
  assert.match(short.stdout, /^[^,]+, [^,]+, [\d.]+, [\d.]+, 2600, /);
});
