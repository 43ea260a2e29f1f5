// Hosts one server under test in its own process (pinned by the runner) and answers the runner
// over IPC: {cmd:'stats'} -> rss, cpu, event-loop delay; {cmd:'reset'} clears the delay histogram;
// {cmd:'heapsnapshot', file} writes a heap snapshot (after a GC).
// argv: herald | baseline; env HERALD_* for Herald, BASELINE_REDIS for the baseline.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
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
  if (kind === 'herald') {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    const { startGateway } = require(resolve(here, '../dist/apps/gateway/src/bootstrap.js'));
    const gateway = await startGateway(process.env);
    url = gateway.url;
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
    } else if (m.cmd === 'heapsnapshot') {
      global.gc?.();
      process.send({ type: 'heapsnapshot', file: writeHeapSnapshot(m.file) });
    } else if (m.cmd === 'reset') {
      eld.reset();
      process.send({ type: 'reset' });
    }
  });
  process.send({ type: 'ready', url });
}

main().catch((err) => {
  process.send?.({ type: 'error', message: String(err?.stack ?? err) });
  setTimeout(() => process.exit(1), 100);
});
