/**
 * `sluice cluster status`'s etcd view: each member's own status and health (etcd's maintenance
 * status per endpoint), on a real 3-member etcd with one member killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeers } from '@sluice/test-peers';
import { etcdMemberHealth } from '../../src/cluster/etcd-health.js';
import { startEtcdCluster } from '../../src/cluster/etcd-server.js';
import { freePort } from '../support/process-cluster.js';

test('every etcd member reports its own health, leader, version and raft state; a killed member shows as unhealthy while the others stay healthy', { timeout: 90_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const root = mkdtempSync(join(tmpdir(), 'sluice-etcd-health-'));
  const specs = [];
  for (let i = 1; i <= 3; i++) specs.push({ name: `etcd${i}`, dataDir: join(root, `etcd${i}`), host: '127.0.0.1', clientPort: await freePort(), peerPort: await freePort() });
  const members = await startEtcdCluster(specs);
  t.after(async () => {
    await Promise.all(members.map((m) => m.kill()));
    rmSync(root, { recursive: true, force: true });
  });
  const endpoints = members.map((m) => m.clientUrl);

  const all = await etcdMemberHealth([endpoints[0]]);
  assert.deepEqual(all.map((m) => m.name).sort(), ['etcd1', 'etcd2', 'etcd3'], 'the member list comes from one endpoint');
  assert.deepEqual(all.map((m) => m.endpoint).sort(), [...endpoints].sort());
  for (const m of all) {
    assert.equal(m.healthy, true, `${m.name}: ${m.errors.join('; ')}`);
    assert.match(m.id, /^[0-9a-f]+$/);
    assert.match(m.version ?? '', /^3\./);
    assert.ok((m.dbSizeBytes ?? 0) > 0 && (m.raftTerm ?? 0) >= 1 && (m.raftIndex ?? 0) > 0);
  }
  assert.equal(all.filter((m) => m.leader).length, 1, 'exactly one leader');

  // Kill a follower: it is listed (the member list still has it) and unhealthy; the rest are fine.
  const followerName = all.find((m) => !m.leader)!.name;
  const victim = members.find((x) => x.spec.name === followerName)!;
  await victim.kill();
  const after = await etcdMemberHealth(endpoints);
  assert.equal(after.length, 3);
  const dead = after.find((m) => m.name === victim.spec.name)!;
  assert.equal(dead.healthy, false);
  assert.ok(dead.errors.length > 0 && dead.version === null, dead.errors.join('; '));
  for (const m of after.filter((x) => x !== dead)) assert.equal(m.healthy, true, `${m.name}: ${m.errors.join('; ')}`);
});
