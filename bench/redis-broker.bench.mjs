// Redis broker measurements (run: npm run build && node bench/redis-broker.bench.mjs [redisUrl]).
// Reports publish throughput of the atomic script against a raw XADD+PUBLISH baseline, and
// publish-to-delivery latency on another instance through pub/sub against a baseline of one
// blocking XREAD on a single global stream.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RedisBroker } = require('../dist/libs/broker/src/adapters/redis/redis.broker.js');
const { parseTopicFilter } = require('../dist/libs/topics/src/index.js');
const { Redis } = require('ioredis');

const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
const prefix = `herald-bench:${randomBytes(4).toString('hex')}:`;
const N = 3000;
const data = JSON.stringify({ status: 'shipped', items: [1, 2, 3], note: 'x'.repeat(200) });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
async function ready(b) {
  for (;;) {
    try {
      await b.ping();
      return;
    } catch {
      await sleep(20);
    }
  }
}
async function concurrently(n, width, fn) {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < n) await fn(i++);
    }),
  );
}

const opts = {
  redis: { mode: 'single', url },
  keyPrefix: prefix,
  historySize: 1000,
  historyTtlMs: 3_600_000,
};
const pub = new RedisBroker(opts);
const sub = new RedisBroker(opts);
await Promise.all([ready(pub), ready(sub)]);
const raw = new Redis(url);

// 1. Publish throughput, 32 in flight.
let t = performance.now();
await concurrently(N, 32, (i) => pub.publish([{ topic: `bench/${i % 50}`, type: 'm', data }]));
const scriptRate = N / ((performance.now() - t) / 1000);
t = performance.now();
await concurrently(N, 32, (i) =>
  raw
    .multi()
    .xadd(`${prefix}raw:${i % 50}`, 'MAXLEN', '~', 1000, '*', 't', 'm', 'd', data)
    .publish(`${prefix}raw`, data)
    .exec(),
);
const rawRate = N / ((performance.now() - t) / 1000);

// 2. Latency publish -> delivery on another instance (pub/sub), sequential publishes.
const lat = [];
const sent = new Map();
const s = sub.subscribe([parseTopicFilter('lat/**')]).subscribe((e) => {
  if (e.kind === 'event') lat.push(performance.now() - sent.get(e.data));
});
await sleep(200);
for (let i = 0; i < 1000; i++) {
  const d = JSON.stringify({ i });
  sent.set(d, performance.now());
  await pub.publish([{ topic: `lat/${i % 10}`, type: 'm', data: d }]);
}
while (lat.length < 1000) await sleep(10);
s.unsubscribe();

// Baseline: one global stream read with XREAD BLOCK by a dedicated connection.
const reader = new Redis(url);
const global = `${prefix}global`;
const xlat = [];
let stop = false;
const loop = (async () => {
  let last = '$';
  while (!stop) {
    const r = await reader.xread('BLOCK', 200, 'STREAMS', global, last);
    if (!r) continue;
    for (const [id, f] of r[0][1]) {
      last = id;
      xlat.push(performance.now() - Number(f[1]));
    }
  }
})();
await sleep(100);
for (let i = 0; i < 1000; i++) {
  await raw.xadd(global, 'MAXLEN', '~', 1000, '*', 'at', String(performance.now()), 'd', data);
}
while (xlat.length < 1000) await sleep(10);
stop = true;
await loop;

console.log(`publish (script, 32 in flight): ${scriptRate.toFixed(0)} events/s`);
console.log(`baseline MULTI XADD+PUBLISH:    ${rawRate.toFixed(0)} events/s`);
console.log(`ratio script/baseline:          ${(scriptRate / rawRate).toFixed(2)}`);
console.log(
  `delivery via pub/sub on another instance: p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms`,
);
console.log(
  `baseline XREAD BLOCK on one global stream: p50 ${pct(xlat, 0.5).toFixed(2)} ms, p99 ${pct(xlat, 0.99).toFixed(2)} ms`,
);

// Cleanup.
let cursor = '0';
do {
  const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length) await raw.unlink(...keys);
} while (cursor !== '0');
await pub.close();
await sub.close();
raw.disconnect();
reader.disconnect();
