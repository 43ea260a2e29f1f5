// Memory and file descriptors per open SSE stream (docs/operations.md, "Sizing").
// Usage: npm run build && node --expose-gc bench/connection-footprint.mjs [streams]
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { startGateway } = require('../dist/apps/gateway/src/bootstrap.js');
const N = Number(process.argv[2] ?? 2000);
const fds = () => readdirSync('/proc/self/fd').length;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
};

const gw = await startGateway({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  MAX_CONNECTIONS: String(N * 2),
  MAX_CONNECTIONS_PER_IP: String(N * 2),
  MAX_CONNECTIONS_PER_USER: String(N * 2),
  CONNECT_RATE_PER_S: '100000',
  CONNECT_BURST: String(N * 2),
});
const { port } = new URL(gw.url);
await settle();
const before = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, fds: fds() };
const sockets = [];
for (let i = 0; i < N; i++) {
  const s = connect(Number(port), '127.0.0.1');
  s.on('error', () => {});
  s.on('data', () => {});
  s.write(
    `GET /events?topic=fp/${i % 100}&topic=fp/all/** HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`,
  );
  sockets.push(s);
  if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 1000));
await settle();
const after = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, fds: fds() };
// Both ends of each loopback connection live in this process: server-side fds are half.
const perConn = {
  heapBytes: Math.round((after.heap - before.heap) / N),
  rssBytes: Math.round((after.rss - before.rss) / N),
  serverFds: (after.fds - before.fds) / N / 2,
};
console.log(
  JSON.stringify({
    streams: N,
    perConnection: perConn,
    note: 'heap/rss include the client sockets of this same process',
  }),
);
for (const s of sockets) s.destroy();
await gw.app.close();
process.exit(0);
