export * from './protocol-error.js';
export * from './crc32c.js';
export * from './records/batch-header.js';
export * from './records/index.js';
export * from './compression/index.js';
export * from './errors/kafka-errors.js';
export * from './messages/index.js';
export * from './framing/index.js';
