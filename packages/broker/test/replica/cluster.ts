/** Two (or more) brokers in this process sharing an InMemoryClusterMetadata. */
import type { TestContext } from 'node:test';
import { InMemoryClusterMetadata } from '../../src/index.js';
import { partitionState } from '../../src/metadata/metadata-store.js';
import { startTestBroker, type TestBroker } from '../helpers.js';

export async function startCluster(t: TestContext, nodeIds: number[], options: Record<string, string | number | boolean> = {}): Promise<{ cluster: InMemoryClusterMetadata; brokers: TestBroker[] }> {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.dispose();
  });
  for (const nodeId of nodeIds) brokers.push(await startTestBroker({ ...options, metadataStore: cluster.storeFor(nodeId), nodeId }));
  return { cluster, brokers };
}

/** Resolves once every broker's reconciler has applied every change so far. */
export async function settle(brokers: TestBroker[]): Promise<void> {
  for (const b of brokers) await b.broker.context.topics.reconciler.caughtUp();
}

/** A partition's state as the shared metadata has it now. */
export const stateOf = (cluster: InMemoryClusterMetadata, topic: string, p = 0) => partitionState(cluster.topicsByName.get(topic)!.partitions[p]);

/** Waits until `check` holds; fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
