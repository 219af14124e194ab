export * from './generated/index.js';
export * from './framing.js';
export type { TaggedField, ApiInfo } from './runtime.js';
export { ZERO_UUID } from './runtime.js';
export * from '../primitives/index.js';
export * from './offsets-topic.js';
