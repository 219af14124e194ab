export { Reader, ZERO_UUID } from './reader.js';
export { Writer, uvarintSize, utf8Length, newSizeQueue, DETACH_MIN, type SizeQueue } from './writer.js';
