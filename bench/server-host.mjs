// Hosts one server under test in its own process (pinned by the runner) and answers the runner
// over IPC: {cmd:'stats'} -> rss, cpu, event-loop delay; {cmd:'reset'} clears the delay histogram.
// argv: herald | baseline; env HERALD_* for Herald, BASELINE_REDIS for the baseline.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const kind = process.argv[2];
const here = dirname(fileURLToPath(import.meta.url));
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();

process.once('SIGINT', () => process.exit(0));

async function main() {
  let url;
  if (kind === 'herald' || kind === 'herald-raw') {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    const { startGateway } = require(resolve(here, '../dist/apps/gateway/src/bootstrap.js'));
    const gateway = await startGateway(process.env);
    url = gateway.url;
    if (kind === 'herald-raw') rawEventsPath(require, gateway);
  } else {
    const { startBaseline } = await import('./baseline-server.mjs');
    ({ url } = await startBaseline({
      redisUrl: process.env.BASELINE_REDIS || undefined,
      channel: process.env.BASELINE_CHANNEL || 'bench',
    }));
  }
  process.on('message', (m) => {
    if (m.cmd === 'stats') {
      if (m.gc && global.gc) {
        global.gc();
        global.gc();
      }
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      process.send({
        type: 'stats',
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external + mem.arrayBuffers,
        cpuUs: cpu.user + cpu.system,
        eldP50: eld.percentile(50) / 1e6,
        eldP99: eld.percentile(99) / 1e6,
        eldMax: eld.max / 1e6,
      });
    } else if (m.cmd === 'reset') {
      eld.reset();
      process.send({ type: 'reset' });
    }
  });
  process.send({ type: 'ready', url });
}

/**
 * Measurement only (ARCHITECTURE.md, adapter decision): serves GET /events straight from the
 * Node `request` event, skipping Express and Nest's router (and so any guard), to price them.
 */
function rawEventsPath(require, gateway) {
  const streams = require(resolve(here, '../dist/libs/streams/src/index.js'));
  const { Broker } = require(resolve(here, '../dist/libs/broker/src/index.js'));
  const service = gateway.app.get(streams.StreamsService);
  const broker = gateway.app.get(Broker);
  const server = gateway.app.getHttpServer();
  const listeners = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/events?')) {
      const q = new URL(req.url, 'http://localhost').searchParams;
      const header = req.headers['last-event-id'];
      const request = streams.parseSubscription(
        {
          topics: q.getAll('topic'),
          headerCursor: header,
          queryCursor: q.get('lastEventId') ?? undefined,
        },
        32,
        (c) => broker.isWellFormedCursor(c),
      );
      service.open(req, res, request, { ip: req.socket.remoteAddress ?? '' });
      return;
    }
    for (const l of listeners) l.call(server, req, res);
  });
}

main().catch((err) => {
  process.send?.({ type: 'error', message: String(err?.stack ?? err) });
  setTimeout(() => process.exit(1), 100);
});
