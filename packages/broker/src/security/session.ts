/**
 * What the security layer knows of each connection beyond its principal: the listener it came
 * in on (Metadata answers with that listener's endpoints). Kept beside the connection rather
 * than in ConnectionInfo, whose shape is shared with the authorization side.
 */
import type { ConnectionInfo } from '../network/connection.js';

const listenerOfConnection = new WeakMap<ConnectionInfo, string>();

export function setConnectionListener(connection: ConnectionInfo, listenerName: string): void {
  listenerOfConnection.set(connection, listenerName);
}

/** The listener name (upper case) the connection came in on; undefined for connections made outside a listener (tests). */
export function connectionListener(connection: ConnectionInfo): string | undefined {
  return listenerOfConnection.get(connection);
}
