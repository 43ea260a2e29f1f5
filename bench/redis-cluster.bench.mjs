// Redis Cluster measurements (run: npm run build && node bench/redis-cluster.bench.mjs).
// Starts a local 3-primary Cluster (one replica each, ports 7110-7115, bus +10000), then reports,
// for Herald's broker on it with REDIS_PARTITIONS=1 and =6: publish throughput (32 in flight),
// publish-to-delivery latency on a second instance, each primary's share of the publish scripts
// (INFO commandstats) and the Redis CPU per publish (INFO cpu on the primaries), with the
// single-primary ceiling it implies.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisServerArgs } from './lib/redis.mjs';

const require = createRequire(import.meta.url);
const { RedisBroker } = require('../dist/libs/broker/src/adapters/redis/redis.broker.js');
const { parseTopicFilter } = require('../dist/libs/topics/src/index.js');
const { Redis } = require('ioredis');

const BASE = 7110;
const PORTS = [0, 1, 2, 3, 4, 5].map((i) => BASE + i);
const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5000);
const JSON_OUT = process.argv.includes('--json');
/** Topics of the throughput loop: many, so that 6 partitions get about even shares. */
const TOPICS = 600;
const data = JSON.stringify({ status: 'shipped', items: [1, 2, 3], note: 'x'.repeat(200) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];

for (const bin of ['redis-server', 'redis-cli']) {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
    console.log(`skipped: ${bin} not installed`);
    process.exit(0);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-cluster-'));
const nodes = PORTS.map((port) =>
  spawn(
    'redis-server',
    [
      ...redisServerArgs(port, dir),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '2000',
    ],
    { stdio: 'ignore' },
  ),
);
const query = async (port, ...args) => {
  const c = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(...args);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
};
const fields = (text) =>
  new Map(
    String(text ?? '')
      .split(/\r?\n/)
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
const cleanup = () => {
  for (const n of nodes) if (n.exitCode === null) n.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

try {
  for (const port of PORTS) {
    for (let i = 0; (await query(port, 'PING')) !== 'PONG'; i++) {
      if (i > 200) throw new Error(`redis-server ${port} did not start`);
      await sleep(50);
    }
  }
  const create = spawnSync('redis-cli', [
    '--cluster',
    'create',
    ...PORTS.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '1',
    '--cluster-yes',
  ]);
  if (create.status !== 0)
    throw new Error(`cluster create failed: ${create.stdout}${create.stderr}`);
  for (let i = 0; ; i++) {
    const states = await Promise.all(PORTS.map((p) => query(p, 'CLUSTER', 'INFO')));
    if (states.every((s) => fields(s).get('cluster_state') === 'ok')) break;
    if (i > 300) throw new Error('cluster never became ok');
    await sleep(100);
  }
  const primaries = [];
  for (const p of PORTS) {
    if (fields(await query(p, 'INFO', 'replication')).get('role') === 'master') primaries.push(p);
  }

  /** One measurement with `partitions` write partitions (its own key prefix). */
  const measure = async (partitions) => {
    const prefix = `herald-bench:${randomBytes(4).toString('hex')}:`;
    const opts = {
      redis: { mode: 'cluster', nodes: PORTS.map((port) => ({ host: '127.0.0.1', port })) },
      keyPrefix: prefix,
      historySize: 1000,
      historyTtlMs: 3_600_000,
      partitions,
    };
    const pub = new RedisBroker(opts);
    const sub = new RedisBroker(opts);
    for (const b of [pub, sub]) {
      for (;;) {
        try {
          await b.ping();
          break;
        } catch {
          await sleep(20);
        }
      }
    }
    // Warm the script cache and the connections, then measure from zeroed stats.
    for (let i = 0; i < 200; i++) await pub.publish([{ topic: `warm/${i % 50}`, type: 'm', data }]);
    await Promise.all(primaries.map((p) => query(p, 'CONFIG', 'RESETSTAT')));
    const cpu = async () =>
      Promise.all(
        primaries.map(async (p) => {
          const f = fields(await query(p, 'INFO', 'cpu'));
          return (
            Number(f.get('used_cpu_sys_main_thread') ?? f.get('used_cpu_sys')) +
            Number(f.get('used_cpu_user_main_thread') ?? f.get('used_cpu_user'))
          );
        }),
      );
    const cpuBefore = await cpu();

    // 1. Throughput, 32 in flight, TOPICS topics (many, so that partitions get even shares).
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < N) {
          const i = next++;
          await pub.publish([{ topic: `bench/${i % TOPICS}`, type: 'm', data }]);
        }
      }),
    );
    const rate = N / ((performance.now() - t0) / 1000);
    const cpuAfter = await cpu();

    // 2. Per-primary share of the publish scripts, and Redis CPU per publish.
    const calls = [];
    for (const p of primaries) {
      const stats = fields(await query(p, 'INFO', 'commandstats'));
      const count = (name) =>
        Number(/calls=(\d+)/.exec(stats.get(`cmdstat_${name}`) ?? '')?.[1] ?? 0);
      calls.push(count('evalsha') + count('eval'));
    }
    const total = calls.reduce((a, b) => a + b, 0);
    const cpuUs = cpuAfter.map((after, i) => ((after - cpuBefore[i]) * 1e6) / N);
    const cpuUsPerPublish = cpuUs.reduce((a, b) => a + b, 0);

    // 3. Delivery latency on another instance (a pattern: every partition), sequential publishes.
    const lat = [];
    const sent = new Map();
    const s = sub.subscribe([parseTopicFilter('lat/**')]).subscribe((e) => {
      if (e.kind === 'event') lat.push(performance.now() - sent.get(e.data));
    });
    await sub.ping();
    await sleep(300);
    for (let i = 0; i < 1000; i++) {
      const d = JSON.stringify({ i });
      sent.set(d, performance.now());
      await pub.publish([{ topic: `lat/${i % 60}`, type: 'm', data: d }]);
    }
    for (let i = 0; lat.length < 1000 && i < 500; i++) await sleep(10);
    s.unsubscribe();
    await pub.close();
    await sub.close();
    const shares = primaries.map((p, i) => ({
      port: p,
      calls: calls[i],
      share: calls[i] / Math.max(total, 1),
      cpuUsPerPublish: cpuUs[i],
    }));
    const busiest = Math.max(...cpuUs);
    return {
      partitions,
      publishes: N,
      topics: TOPICS,
      publishPerS: Math.round(rate),
      deliveryP50Ms: pct(lat, 0.5),
      deliveryP99Ms: pct(lat, 0.99),
      delivered: lat.length,
      primaryShares: shares,
      evenShares: shares.every((x) => Math.abs(x.share - 1 / 3) <= 0.1),
      redisCpuUsPerPublish: cpuUsPerPublish,
      // The busiest primary's CPU per publish bounds the rate: one core / that.
      ceilingPerS: Math.round(1e6 / busiest),
    };
  };

  const runs = [];
  for (const partitions of [1, 6]) runs.push(await measure(partitions));
  for (const r of runs) {
    console.log(
      `REDIS_PARTITIONS=${r.partitions} on a local 3-primary Cluster (${N} publishes over ${TOPICS} topics, 32 in flight)`,
    );
    console.log(`  publish throughput: ${r.publishPerS} events/s`);
    console.log(
      `  delivery on another instance: p50 ${r.deliveryP50Ms.toFixed(2)} ms, p99 ${r.deliveryP99Ms.toFixed(2)} ms (${r.delivered} events)`,
    );
    for (const x of r.primaryShares) {
      console.log(
        `  primary ${x.port}: ${x.calls} publish scripts (${(100 * x.share).toFixed(1)}%), ${x.cpuUsPerPublish.toFixed(1)} us CPU per publish`,
      );
    }
    console.log(`  each primary within 1/3 +- 10 points: ${r.evenShares ? 'yes' : 'NO'}`);
    console.log(`  Redis CPU per publish (all primaries): ${r.redisCpuUsPerPublish.toFixed(1)} us`);
    console.log(`  ceiling (one core / busiest primary's CPU per publish): ~${r.ceilingPerS}/s`);
  }
  const [one] = runs;
  const singleCeiling = Math.round(1e6 / one.redisCpuUsPerPublish);
  console.log(
    `projection: publishes/s ~= P x single-primary ceiling (~${singleCeiling}/s here), with P <= primaries`,
  );
  if (JSON_OUT) {
    // Top-level fields: the P=1 run (as before); `runs`: every run.
    console.log(
      `BENCH_JSON ${JSON.stringify({ ...one, singlePrimaryCeilingPerS: singleCeiling, runs })}`,
    );
  }
} finally {
  cleanup();
}
