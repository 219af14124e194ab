/** The Kafka Connect version this worker's REST API and record formats follow. */
export const CONNECT_VERSION = '3.9.0';
