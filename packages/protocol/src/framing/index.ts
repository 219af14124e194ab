export * from './frame-reader.js';
export * from './buffer-pool.js';
