/**
 * A broker's metadata store in a process of its own, for tests that must stop or kill the holder
 * of a session (SIGSTOP: it stops renewing its lease; SIGKILL: it dies without revoking it).
 * Arguments: endpoints (comma-separated), prefix, node id, session timeout ms, heartbeat ms.
 * Prints one JSON line per event: {"registered":epoch}, then {"controller":id,"epoch":n} changes.
 */
import { EtcdMetadataStore } from '../../src/metadata/etcd-metadata-store.js';

const [endpoints, prefix, nodeId, sessionMs, heartbeatMs] = process.argv.slice(2);
const store = new EtcdMetadataStore({
  endpoints: endpoints.split(','),
  prefix,
  nodeId: Number(nodeId),
  sessionTimeoutMs: Number(sessionMs),
  heartbeatIntervalMs: Number(heartbeatMs),
  requestTimeoutMs: 2000,
});
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
store.onChange((c) => {
  if (c.kind === 'controller-changed') say({ controller: c.controllerId, epoch: c.controllerEpoch });
});
await store.open();
const registration = await store.registerBroker({ nodeId: Number(nodeId), host: '127.0.0.1', port: 9000 + Number(nodeId), rack: null });
say({ registered: String(registration.brokerEpoch), controller: store.controllerId(), epoch: store.controllerEpoch() });
process.on('SIGTERM', () => {
  store.close().then(() => process.exit(0));
});
setInterval(() => undefined, 1 << 30);
