export * from './errors.js';
export { Connection, requestChannel, type ConnectionOptions, type SaslAuthenticator, type RequestEvent } from './connection/connection.js';
export { clientRange, negotiateVersion, type VersionTable } from './connection/versions.js';
export * from './cluster/cluster.js';
export * from './producer/partitioners.js';
export { Producer, type ProducerOptions, type ProducerRecord, type RecordMetadata, type Serializer } from './producer/producer.js';
export * from './admin/admin.js';
export * from './consumer/assignors.js';
export { Consumer, type ConsumerOptions, type ConsumerRecord, type ConsumerBatch, type RebalanceListener, type OffsetToCommit } from './consumer/consumer.js';
