/** Two (or more) brokers in this process sharing an InMemoryClusterMetadata. */
import type { TestContext } from 'node:test';
import { InMemoryClusterMetadata } from '../../src/index.js';
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
