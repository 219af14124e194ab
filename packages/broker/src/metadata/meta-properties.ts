/**
 * `meta.properties` in the data directory (Kafka's name and keys): which cluster and node the logs
 * in it belong to. Written on first start; a later start with another cluster id or node id is
 * refused, because its logs would be taken for another broker's replicas (and truncated or served
 * as if they were).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config/broker-config.js';
import { parseProperties } from '../config/properties.js';

export const META_PROPERTIES = 'meta.properties';

export interface DirectoryIdentity {
  clusterId: string;
  nodeId: number;
}

export function checkOrWriteMetaProperties(dataDir: string, identity: DirectoryIdentity): void {
  const path = join(dataDir, META_PROPERTIES);
  if (existsSync(path)) {
    const props = new Map(parseProperties(readFileSync(path, 'utf8')).map((e) => [e.key, e.value]));
    const clusterId = props.get('cluster.id');
    const nodeId = props.get('node.id');
    if (clusterId !== undefined && clusterId !== identity.clusterId) {
      throw new ConfigError([
        `data directory ${dataDir} belongs to cluster ${clusterId}, but this broker joins cluster ${identity.clusterId} (${path}); use another --data-dir, or remove it to start afresh`,
      ]);
    }
    if (nodeId !== undefined && Number(nodeId) !== identity.nodeId) {
      throw new ConfigError([`data directory ${dataDir} belongs to node ${nodeId}, but this broker is node.id ${identity.nodeId} (${path}); start it with --node-id ${nodeId} or use another --data-dir`]);
    }
    if (clusterId !== undefined && nodeId !== undefined) return;
  }
  mkdirSync(dataDir, { recursive: true });
  const body = [
    '#',
    `#${new Date().toString()}`,
    'version=1',
    `cluster.id=${identity.clusterId}`,
    `node.id=${identity.nodeId}`,
    `directory.id=${randomBytes(16).toString('base64url')}`,
    '',
  ].join('\n');
  writeFileSync(`${path}.tmp`, body);
  renameSync(`${path}.tmp`, path);
}
