// The zig-zag varint helpers in varint.ts stay internal: the message codecs have their own.
export * from './batch-header.js';
export * from './record-batch.js';
export * from './control-records.js';
export * from './sequence.js';
