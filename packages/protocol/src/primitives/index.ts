export { Reader, ZERO_UUID } from './reader.js';
export { Writer, uvarintSize, utf8Length, type SizeQueue } from './writer.js';
