/**
 * Burrow's evaluation rules, checked against the worked cases of Burrow's own evaluator tests
 * (core/internal/evaluator/caching_test.go: offsets, lags and timestamps, the rule each triggers and
 * the resulting status). Burrow gives timestamps in ms and "now" in seconds; here both are ms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lagAlwaysNonZero, lagNotDecreasing, offsetsRewind, offsetsStalled, offsetsStopped, recentlyCaughtUp, partitionStatus, groupStatus, CommitWindows, type CommitSample, type PartitionStatus } from '../../src/metrics/burrow.js';

interface Case {
  what: string;
  commits: [offset: number, timestampMs: number, lag: number | null][];
  logEnds: number[];
  currentLag: number;
  nowS: number;
  rules: { lagAlwaysNonZero: boolean; rewind: boolean; stopped: boolean; stalled: boolean; lagNotDecreasing: boolean; recentlyCaughtUp: boolean };
  status: PartitionStatus;
}

const steady = (lags: number[], offsets = [1000, 2000, 3000, 4000, 5000]): Case['commits'] => offsets.map((o, i) => [o, (i + 1) * 100_000, lags[i]]);
const burst = (from: number, count: number): Case['commits'] =>
  Array.from({ length: count }, (_, i) => [from + i, [1512224618356, 1512224619362, 1512224620366, 1512224621367, 1512224622370, 1512224623373, 1512224624378, 1512224625379, 1512224626383, 1512224627383, 1512224628383, 1512224629388, 1512224630391, 1512224631394, 1512224632397][i], 0]);
const rules = (r: Partial<Case['rules']>): Case['rules'] => ({ lagAlwaysNonZero: false, rewind: false, stopped: false, stalled: false, lagNotDecreasing: true, recentlyCaughtUp: false, ...r });

const CASES: Case[] = [
  { what: '0: zero lag somewhere in the window: OK', commits: steady([0, 50, 100, 150, 200]), logEnds: [5200], currentLag: 200, nowS: 600, rules: rules({}), status: 'OK' },
  { what: '1: time since the last commit equal to the window span is not yet STOP', commits: steady([0, 50, 100, 150, 200]), logEnds: [5200], currentLag: 200, nowS: 900, rules: rules({}), status: 'OK' },
  { what: '2: STOP once longer than the span, even with zero lag at the start', commits: steady([0, 50, 100, 150, 200]), logEnds: [5200], currentLag: 200, nowS: 1000, rules: rules({ stopped: true }), status: 'STOP' },
  { what: '3: STOP with lag always non-zero', commits: steady([50, 100, 150, 200, 250]), logEnds: [5250], currentLag: 250, nowS: 1000, rules: rules({ lagAlwaysNonZero: true, stopped: true }), status: 'STOP' },
  { what: '4: offset never moves but lag was zero: OK', commits: steady([0, 50, 100, 150, 200], [1000, 1000, 1000, 1000, 1000]), logEnds: [1200], currentLag: 200, nowS: 600, rules: rules({ stalled: true }), status: 'OK' },
  { what: '5: offset never moves, lag growing: STALL', commits: steady([100, 150, 200, 250, 300], [1000, 1000, 1000, 1000, 1000]), logEnds: [1300], currentLag: 300, nowS: 600, rules: rules({ lagAlwaysNonZero: true, stalled: true }), status: 'STALL' },
  { what: '6: offset never moves, lag fixed: STALL', commits: steady([100, 100, 100, 100, 100], [1000, 1000, 1000, 1000, 1000]), logEnds: [1100], currentLag: 100, nowS: 600, rules: rules({ lagAlwaysNonZero: true, stalled: true }), status: 'STALL' },
  { what: '7: an offset going back is REWIND, though lag decreases', commits: steady([100, 150, 200, 1250, 300], [1000, 2000, 3000, 2000, 4000]), logEnds: [4300], currentLag: 300, nowS: 600, rules: rules({ lagAlwaysNonZero: true, rewind: true, lagNotDecreasing: false }), status: 'REWIND' },
  { what: '8: current lag zero is OK whatever the window says', commits: steady([50, 100, 150, 200, 250]), logEnds: [5250], currentLag: 0, nowS: 1000, rules: rules({ lagAlwaysNonZero: true, stopped: true }), status: 'OK' },
  { what: '9: commits stopped while new data arrived: STOP', commits: burst(792748079, 15), logEnds: [792749024, 792749000, 792748800, 792748600, 792748500], currentLag: 931, nowS: 1512224650, rules: rules({ stopped: true }), status: 'STOP' },
  { what: '10: commits stopped but the log end was at the last commit recently: OK', commits: burst(792748079, 15), logEnds: [792748094, 792748093, 792748093, 792748093], currentLag: 1, nowS: 1512224650, rules: rules({ stopped: true, recentlyCaughtUp: true }), status: 'OK' },
  {
    what: '11: commits whose lag was unknown do not change case 0',
    commits: [1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500].map((o, i) => [o, (i + 2) * 50_000, i % 2 === 0 ? (i / 2) * 50 : null]),
    logEnds: [5700],
    currentLag: 200,
    nowS: 600,
    rules: rules({}),
    status: 'OK',
  },
  // Burrow's rule 3 (the wiki's WARN): offsets advance, lag grows at every commit, commits keep coming.
  { what: 'WARN: consuming, but the lag never decreases', commits: steady([50, 100, 150, 200, 250]), logEnds: [5250], currentLag: 250, nowS: 600, rules: rules({ lagAlwaysNonZero: true }), status: 'WARN' },
];

for (const c of CASES) {
  test(`Burrow case ${c.what}`, () => {
    const window: CommitSample[] = c.commits.map(([offset, timestamp, lag]) => ({ offset, timestamp, lag }));
    const now = c.nowS * 1000;
    assert.equal(lagAlwaysNonZero(window), c.rules.lagAlwaysNonZero, 'lag always non-zero');
    assert.equal(offsetsRewind(window), c.rules.rewind, 'rewind');
    assert.equal(offsetsStopped(window, now), c.rules.stopped, 'stopped');
    assert.equal(offsetsStalled(window), c.rules.stalled, 'stalled');
    assert.equal(lagNotDecreasing(window), c.rules.lagNotDecreasing, 'lag not decreasing');
    assert.equal(recentlyCaughtUp(window, c.logEnds), c.rules.recentlyCaughtUp, 'recently caught up');
    assert.equal(partitionStatus(window, c.logEnds, c.currentLag, now), c.status);
  });
}

test('a group is its worst partition, STOP/STALL/REWIND counting as ERR', () => {
  assert.equal(groupStatus([]), 'OK');
  assert.equal(groupStatus(['OK', 'WARN', 'OK']), 'WARN');
  assert.equal(groupStatus(['WARN', 'STALL']), 'ERR');
  assert.equal(groupStatus(['REWIND']), 'ERR');
  // Partitions whose log end is not known here give no verdict and do not count.
  assert.equal(groupStatus(['NOTFOUND', 'WARN']), 'WARN');
  assert.equal(groupStatus(['NOTFOUND', 'NOTFOUND']), 'NOTFOUND');
});

test('the window keeps the last N commits, and a commit within min-distance replaces the newest', () => {
  const w = new CommitWindows(3, 1000);
  w.add('g', 't', 0, { offset: 1, timestamp: 0, lag: 5 });
  w.add('g', 't', 0, { offset: 2, timestamp: 500, lag: 5 });
  assert.deepEqual(w.window('g', 't', 0).map((c) => c.offset), [2]);
  for (const [offset, timestamp] of [[3, 2000], [4, 3000], [5, 4000]]) w.add('g', 't', 0, { offset, timestamp, lag: 1 });
  assert.deepEqual(w.window('g', 't', 0).map((c) => c.offset), [3, 4, 5]);
  // An older commit (a replay) does not enter.
  w.add('g', 't', 0, { offset: 9, timestamp: 100, lag: 1 });
  assert.deepEqual(w.window('g', 't', 0).map((c) => c.offset), [3, 4, 5]);
  w.retainGroups(new Set(['other']));
  assert.deepEqual(w.window('g', 't', 0), []);
});
