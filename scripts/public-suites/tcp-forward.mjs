#!/usr/bin/env node
// Forwards loopback TCP ports to another loopback port: `node tcp-forward.mjs 9095:9092 9098:9092`.
// kafkajs's test harness bootstraps from three brokers (localhost:9092, :9095, :9098); a single
// Sluice broker listens on one port, so the other two are forwarded to it. Clients only bootstrap
// through them: Metadata then names the one broker at its own address. Prints "forwarding" once
// every port listens; stops on SIGTERM/SIGINT.
import net from 'node:net';

const pairs = process.argv.slice(2).map((arg) => {
  const m = /^(\d+):(\d+)$/.exec(arg);
  if (!m) {
    console.error(`tcp-forward: expected LISTEN_PORT:TARGET_PORT, not "${arg}"`);
    process.exit(2);
  }
  return { listen: Number(m[1]), target: Number(m[2]) };
});
if (pairs.length === 0) {
  console.error('usage: node tcp-forward.mjs LISTEN_PORT:TARGET_PORT ...');
  process.exit(2);
}

const servers = [];
const sockets = new Set();
const track = (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
};

await Promise.all(
  pairs.map(
    ({ listen, target }) =>
      new Promise((resolve, reject) => {
        const server = net.createServer((client) => {
          track(client);
          const upstream = net.connect({ host: '127.0.0.1', port: target });
          track(upstream);
          client.pipe(upstream);
          upstream.pipe(client);
          client.on('error', () => upstream.destroy());
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
        });
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: listen }, () => resolve());
        servers.push(server);
      }),
  ),
).catch((err) => {
  console.error(`tcp-forward: ${err.message}`);
  process.exit(1);
});
console.log(`forwarding ${pairs.map((p) => `127.0.0.1:${p.listen} -> ${p.target}`).join(', ')}`);

const stop = () => {
  for (const server of servers) server.close();
  for (const socket of sockets) socket.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
