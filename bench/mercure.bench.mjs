// Mercure fan-out (scenario `m` of bench/run.mjs; alone: npm run build && node
// bench/mercure.bench.mjs [subscribers] [measureMs]). One Herald with MERCURE=on on core 0, load
// clients on core 1, this process publishes. In the same run and on the same server it measures
// deliveries/s to N subscribers of:
//   - plain `GET /events?topic=bench` (the baseline: Herald's own dialect and topic index),
//   - Mercure `match=` exact selectors, all N on the one topic published to,
//   - N distinct legacy URI templates and N distinct URL patterns (each one tested per update),
// plus, in-process, what one pattern subscriber costs per update in the SelectorIndex, and server
// CPU per delivery of each (the steadier figure on a shared machine: the load clients, the
// publisher and another engineer's server can bound the rates). BENCH_CPU_PROF=1 profiles the
// server; BENCH_MERCURE_ONLY=exact,... runs some kinds only (standalone runs, not scenario m);
// BENCH_MERCURE_RATE=<updates/s> paces one publisher instead of four unpaced ones.
// Every loop is bounded in count and time.
import http from 'node:http';
import { createRequire } from 'node:module';
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchGatewayEnv } from './lib/gateway-env.mjs';
import {
  request,
  serverNodeArgs,
  spawnNode,
  stop,
  stopAll,
  stopServerProcess,
} from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round1 = (x) => Math.round(x * 10) / 10;
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
function hs256(payload, secret) {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const SECRET = randomBytes(32).toString('base64url');
const HERALD_TOKEN = hs256(
  {
    sub: 'bench',
    exp: Math.floor(Date.now() / 1000) + 7200,
    herald: { subscribe: ['**'], publish: ['**'] },
  },
  SECRET,
);
const MERCURE_TOKEN = hs256({ mercure: { publish: ['*'], subscribe: ['*'] } }, SECRET);
const ENV = benchGatewayEnv(SECRET, {
  ANONYMOUS_TOPICS: '**',
  MERCURE: 'on',
  MERCURE_ANONYMOUS: 'true',
});
const TOPIC = 'https://example.com/books/1';
const PAD = 'x'.repeat(64);

/** What one update costs in the SelectorIndex with `n` subscribers of each kind (in-process). */
function indexCost(n, rounds) {
  const { SelectorIndex, compileSelector, legacySelector } = require(
    resolve(here, '../dist/libs/mercure/src/mercure.selector.js'),
  );
  const kinds = {
    exact: (i) => compileSelector(`https://example.com/books/${i}`, 'exact'),
    template: (i) => legacySelector(`https://example.com/books/{id${i}}`),
    urlpattern: (i) => compileSelector(`https://example.com/books/:id${i}`, 'urlpattern'),
  };
  const out = {};
  for (const [kind, make] of Object.entries(kinds)) {
    const index = new SelectorIndex();
    for (let i = 0; i < n; i++) index.add(make(i), i);
    let matched = 0;
    for (let r = 0; r < Math.min(20, rounds); r++) matched = index.match([TOPIC]).size; // warm
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) matched = index.match([TOPIC]).size;
    const ns = Number(process.hrtime.bigint() - t0) / rounds;
    out[kind] = {
      subscribers: n,
      matched,
      usPerUpdate: round1(ns / 1000),
      nsPerSubscriber: round1(ns / n),
    };
  }
  // The fan-out scenario's own shape: every subscriber on the one exact topic of the update.
  const one = new SelectorIndex();
  for (let i = 0; i < n; i++) one.add(compileSelector(TOPIC, 'exact'), i);
  let visited = 0;
  const visit = () => visited++;
  const round = () =>
    one.forEachMatch ? one.forEachMatch([TOPIC], visit) : one.match([TOPIC]).forEach(visit);
  for (let r = 0; r < Math.min(20, rounds); r++) round();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) round();
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  out.exactOneTopic = {
    subscribers: n,
    matched: visited / (rounds + Math.min(20, rounds)),
    usPerUpdate: round1(ns / 1000),
  };
  return out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function post(url, path, type, body, token) {
  return new Promise((ok, fail) => {
    const req = http.request(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': type,
          'Content-Length': Buffer.byteLength(body),
          Authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          res.statusCode === 200 || res.statusCode === 202
            ? ok(text)
            : fail(new Error(`publish ${res.statusCode}: ${text}`)),
        );
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('publish timeout')));
    req.on('error', fail);
    req.end(body);
  });
}
const publishPlain = (url) =>
  post(
    url,
    '/events',
    'application/json',
    JSON.stringify({ topic: 'bench', type: 'tick', data: { t: Date.now(), p: PAD } }),
    HERALD_TOKEN,
  );
const publishMercure = (url) =>
  post(
    url,
    '/.well-known/mercure',
    'application/x-www-form-urlencoded',
    new URLSearchParams({
      topic: TOPIC,
      data: JSON.stringify({ t: Date.now(), p: PAD }),
    }).toString(),
    MERCURE_TOKEN,
  );

async function totals(clients) {
  const all = await Promise.all(clients.map((c) => request(c, { cmd: 'stats' }, 'stats')));
  return all.reduce(
    (a, s) => ({
      frames: a.frames + s.frames,
      closed: a.closed + s.closed,
      firstSeen: a.firstSeen + s.firstSeen,
    }),
    { frames: 0, closed: 0, firstSeen: 0 },
  );
}

/** Opens `n` subscribers on `paths`, publishes as fast as they keep up, measures deliveries/s. */
async function fanOut(server, n, paths, publish, { warmMs, measureMs }) {
  const clients = [0, 1].map(() => spawnNode(resolve(here, 'load-client.mjs'), [], { core: 1 }));
  try {
    await Promise.all(clients.map((c) => request(c, null, 'ready', 15_000)));
    const share = Math.ceil(n / clients.length);
    const replies = await Promise.all(
      clients.map((c, i) =>
        request(
          c,
          {
            cmd: 'connect',
            port: server.port,
            count: Math.max(0, Math.min(share, n - i * share)),
            path: paths.slice(i * share, (i + 1) * share),
            headers: {},
            batch: 100,
          },
          'connected',
          120_000,
        ),
      ),
    );
    const opened = replies.reduce((a, r) => a + r.opened, 0);
    // Every stream open (its preamble seen) before the first publish, bounded: a stream opened
    // after publishing began misses those updates, and the publisher (which keeps at most 64
    // updates ahead of the average subscriber) would then stall on a gap that never closes.
    const openBy = Date.now() + 30_000;
    while ((await totals(clients)).firstSeen < opened && Date.now() < openBy) await sleep(50);
    await sleep(100);
    const base = (await totals(clients)).frames;
    let published = 0;
    let received = 0;
    let publishMs = 0;
    let publishes = 0;
    let stopAt = Date.now() + warmMs + measureMs;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        received = ((await totals(clients)).frames - base) / Math.max(1, opened);
        await sleep(25);
      }
    })();
    const worker = async () => {
      while (Date.now() < stopAt) {
        if (published - received > 64) {
          await sleep(2);
          continue;
        }
        published++;
        const p0 = performance.now();
        await publish(server.url);
        publishMs += performance.now() - p0;
        publishes++;
      }
    };
    // BENCH_MERCURE_RATE=<updates/s>: one publisher at a fixed pace instead (the same update
    // rate for every kind of stream, so server CPU per delivery compares like with like).
    const rate = Number(process.env.BENCH_MERCURE_RATE ?? 0);
    const paced = async () => {
      const start = Date.now();
      while (Date.now() < stopAt) {
        const due = start + (published * 1000) / rate;
        if (due > Date.now()) {
          await sleep(due - Date.now());
          continue;
        }
        published++;
        const p0 = performance.now();
        await publish(server.url);
        publishMs += performance.now() - p0;
        publishes++;
      }
    };
    const workers = rate > 0 ? [paced()] : [worker(), worker(), worker(), worker()];
    await sleep(warmMs);
    const f0 = (await totals(clients)).frames;
    const c0 = await request(server.child, { cmd: 'stats' }, 'stats');
    const t0 = Date.now();
    await sleep(measureMs);
    const f1 = (await totals(clients)).frames;
    const c1 = await request(server.child, { cmd: 'stats' }, 'stats');
    const t1 = Date.now();
    stopAt = 0;
    await Promise.all(workers);
    polling = false;
    await poller;
    return {
      subscribers: opened,
      deliveriesPerS: Math.round(((f1 - f0) * 1000) / (t1 - t0)),
      updatesPerS: Math.round(((f1 - f0) * 1000) / (t1 - t0) / Math.max(1, opened)),
      serverCpuPct: round1(((c1.cpuUs - c0.cpuUs) / ((t1 - t0) * 1000)) * 100),
      // Server CPU per delivery: what the rate costs, whatever bounds it (less noise-prone).
      serverNsPerDelivery: f1 > f0 ? Math.round(((c1.cpuUs - c0.cpuUs) * 1000) / (f1 - f0)) : 0,
      // Mean time a publish took to answer (the publishers wait for it).
      publishMs: round1(publishMs / Math.max(1, publishes)),
      published,
      closedByServer: (await totals(clients)).closed,
    };
  } finally {
    await Promise.all(
      clients.map((c) => request(c, { cmd: 'close' }, 'closed', 5000).catch(() => undefined)),
    );
    await Promise.all(clients.map((c) => stop(c)));
  }
}

/** Runs the whole Mercure measurement; returns the figures. */
export async function runMercureBench({ subscribers = 500, measureMs = 4000, warmMs = 1000 } = {}) {
  const micro = indexCost(subscribers, 2000);
  const child = spawnNode(resolve(here, 'server-host.mjs'), ['herald'], {
    core: 0,
    env: ENV,
    nodeArgs: serverNodeArgs(resolve(here, 'results/prof')),
  });
  try {
    const { url } = await request(child, null, 'ready', 30_000);
    const server = { child, url, port: Number(new URL(url).port) };
    const t = { warmMs, measureMs };
    const n = subscribers;
    const same = (p) => Array.from({ length: n }, () => p);
    const enc = encodeURIComponent;
    // BENCH_MERCURE_ONLY=exact,template (say) runs only those (a profile of one kind of stream).
    const only = process.env.BENCH_MERCURE_ONLY?.split(',');
    const run = (kind, paths, publish) =>
      only === undefined || only.includes(kind)
        ? fanOut(server, n, paths, publish, t)
        : Promise.resolve(undefined);
    const plain = await run('plain', same('/events?topic=bench'), publishPlain);
    const exact = await run(
      'exact',
      same(`/.well-known/mercure?match=${enc(TOPIC)}`),
      publishMercure,
    );
    const template = await run(
      'template',
      Array.from(
        { length: n },
        (_, i) => `/.well-known/mercure?topic=${enc(`https://example.com/books/{id${i}}`)}`,
      ),
      publishMercure,
    );
    const urlpattern = await run(
      'urlpattern',
      Array.from(
        { length: n },
        (_, i) =>
          `/.well-known/mercure?match_urlpattern=${enc(`https://example.com/books/:id${i}`)}`,
      ),
      publishMercure,
    );
    return { subscribers: n, plain, exact, template, urlpattern, indexCost: micro };
  } finally {
    await stopServerProcess(child);
    agent.destroy();
  }
}

/** Scenario `m` of bench/run.mjs: runs the bench and adds its rows through `row`. */
export async function mercureScenario({ quick, row }) {
  const r = await runMercureBench(
    quick ? { subscribers: 300, measureMs: 2500 } : { subscribers: 1000, measureMs: 6000 },
  );
  const info = { better: 'higher', target: 'info', met: undefined };
  const plain = r.plain.deliveriesPerS;
  row(
    `m. GET /events fan-out, ${r.subscribers} subs (Mercure baseline)`,
    'deliveries/s',
    plain,
    undefined,
    info,
  );
  row(
    `m. Mercure match= exact, ${r.subscribers} subs`,
    'deliveries/s',
    r.exact.deliveriesPerS,
    plain,
    info,
  );
  row(
    `m. Mercure ${r.subscribers} distinct URI templates`,
    'deliveries/s',
    r.template.deliveriesPerS,
    plain,
    info,
  );
  row(
    `m. Mercure ${r.subscribers} distinct URL patterns`,
    'deliveries/s',
    r.urlpattern.deliveriesPerS,
    plain,
    info,
  );
  const cost = { better: 'lower', target: 'info', met: undefined };
  // Server CPU per delivery (publish path included): what the rates cost, less sensitive than
  // the rates to a loaded machine (the load clients and the publisher share it).
  const names = {
    plain: 'GET /events',
    exact: 'Mercure match= exact',
    template: 'Mercure URI templates',
    urlpattern: 'Mercure URL patterns',
  };
  for (const [kind, name] of Object.entries(names)) {
    row(
      `m. server CPU per delivery, ${name}`,
      'ns',
      r[kind].serverNsPerDelivery,
      kind === 'plain' ? undefined : r.plain.serverNsPerDelivery,
      cost,
    );
  }
  for (const kind of ['template', 'urlpattern']) {
    const c = r.indexCost[kind];
    row(
      `m. index: matching cost per update per ${kind} subscriber`,
      'ns',
      c.nsPerSubscriber,
      undefined,
      cost,
    );
  }
  row(
    `m. index: cost per update, ${r.subscribers} subscribers on one exact topic`,
    'us',
    r.indexCost.exactOneTopic.usPerUpdate,
    undefined,
    cost,
  );
  row(
    `m. index: cost per update, ${r.subscribers} distinct exact subscribers (one matches)`,
    'us',
    r.indexCost.exact.usPerUpdate,
    undefined,
    cost,
  );
  return r;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  process.on('exit', stopAll);
  const subscribers = Number(process.argv[2] ?? 500);
  const measureMs = Number(process.argv[3] ?? 4000);
  const r = await runMercureBench({ subscribers, measureMs });
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
