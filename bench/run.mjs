// Herald's benchmark suite (issues 7 and 15). Every scenario runs Herald and the bare Node `http`
// baseline (bench/baseline-server.mjs) in the same run, and nchan (nginx's C pub/sub module,
// bench/nchan-server.mjs) as a peer where it speaks the scenario when `nginx` and
// `libnginx-mod-nchan` are installed; it prints the figures and the ratios, and writes
// bench/results/latest.json and latest.md. Servers run on core 0, load clients and the publisher
// on core 1 (when `taskset` exists). Every loop is bounded in count and time.
//
//   npm run bench                      full run (budget 20 min)
//   npm run bench -- --quick           shorter windows and 5k idle streams (budget 12 min)
//   npm run bench -- --only=s,c        some scenarios (issue 15's table first):
//     s  fan-out, single-event publishes (one per POST, 4 in flight, 100-byte events), 1k / 10k
//     c  latency at 1k x 100/s and 1k x 20/s with server CPU (+ BATCH_LINGER_MS=20, gzip)
//     a  idle memory per stream (auth on, a token per stream), 10k streams
//     k  connections established/s at 10k streams with JWT auth (a token per stream)
//     b  fan-out with batch publishes (up to 100 events per POST), 1k / 10k
//     d  latency across two instances through Redis; e reconnect storm with cursors (10k);
//     f  Redis Cluster (bench/redis-cluster.bench.mjs); m Mercure fan-out
//        (bench/mercure.bench.mjs); p presence join storm (bench/presence.bench.mjs)
//     h  HTTP/2: streams per connection, memory per stream (bench/http2.bench.mjs)
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import {
  request,
  serverNodeArgs,
  spawnNode,
  stop,
  stopAll,
  stopServerProcess,
  tasksetAvailable,
} from './lib/proc.mjs';
import { benchGatewayEnv } from './lib/gateway-env.mjs';
import { redisServerArgs } from './lib/redis.mjs';
import { nchanUnavailable, startNchan } from './nchan-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// The runner is the publisher: pin it to the client core, with the fd limit raised, once.
if (!process.env.BENCH_PINNED && tasksetAvailable()) {
  const child = spawnNode(fileURLToPath(import.meta.url), process.argv.slice(2), {
    core: 1,
    env: { BENCH_PINNED: '1' },
  });
  const code = await new Promise((r) => child.once('exit', (c) => r(c ?? 1)));
  process.exit(code);
}

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ONLY = (args.find((a) => a.startsWith('--only=')) ?? '--only=s,c,a,k,b,d,e,f,m,p,h')
  .slice(7)
  .split(',');
const SERVER_CORE = 0;
const CLIENT_CORE = 1;
const T = QUICK
  ? { warm: 1000, fan: 2500, lat: 3000, idle: 5000, storm: 10_000, connect: 10_000 }
  : { warm: 2000, fan: 8000, lat: 10_000, idle: 10_000, storm: 10_000, connect: 10_000 };
// Profiling aid: fewer idle streams for a heap snapshot that stays small enough to diff.
if (process.env.BENCH_IDLE_STREAMS) T.idle = Number(process.env.BENCH_IDLE_STREAMS);
const DEADLINE = Date.now() + (QUICK ? 12 : 20) * 60_000;
/** Why nchan is not a peer in this run (undefined: it is). */
const NCHAN_OFF = process.env.BENCH_NO_NCHAN ? 'BENCH_NO_NCHAN set' : nchanUnavailable();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...m) => process.stderr.write(`[bench] ${m.join(' ')}\n`);

// ---------------------------------------------------------------- auth (works with or without it)
const JWT_SECRET = randomBytes(32).toString('base64url');
const TOKEN = await new SignJWT({ herald: { subscribe: ['**'], publish: ['**'], admin: false } })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('bench')
  .setIssuedAt()
  .setExpirationTime('2h')
  .sign(new TextEncoder().encode(JWT_SECRET));
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const SECRET_KEY = new TextEncoder().encode(JWT_SECRET);
let streamTokens = [];
/** `n` distinct tokens (subject bench-<i>): a token per stream, as real clients have. */
async function tokensFor(n) {
  for (let i = streamTokens.length; i < n; i++) {
    streamTokens.push(
      await new SignJWT({ herald: { subscribe: ['**'], publish: [], admin: false } })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`bench-${i}`)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(SECRET_KEY),
    );
  }
  return streamTokens.slice(0, n);
}

/** Herald's settings in the bench: real defaults, except caps and rates sized for the load. */
const HERALD_ENV = benchGatewayEnv(JWT_SECRET);

// ---------------------------------------------------------------- processes
async function startServer(kind, env = {}) {
  if (kind === 'nchan') return startNchan({ core: SERVER_CORE });
  const child = spawnNode(resolve(here, 'server-host.mjs'), [kind], {
    core: SERVER_CORE,
    env: kind.startsWith('herald') ? { ...HERALD_ENV, ...env } : env,
    nodeArgs: serverNodeArgs(resolve(here, 'results/prof')),
  });
  try {
    const { url } = await request(child, null, 'ready', 30_000);
    return { kind, child, url, port: Number(new URL(url).port) };
  } catch (err) {
    await stop(child);
    throw err;
  }
}

const serverStats = (s, gc = false) =>
  s.kind === 'nchan' ? Promise.resolve(s.stats()) : request(s.child, { cmd: 'stats', gc }, 'stats');
const resetEld = (s) => request(s.child, { cmd: 'reset' }, 'reset');

async function stopServer(s) {
  if (s.kind === 'nchan') return s.stop();
  await stopServerProcess(s.child);
}

async function startClients(count) {
  const clients = [];
  for (let i = 0; i < count; i++) {
    const child = spawnNode(resolve(here, 'load-client.mjs'), [], { core: CLIENT_CORE });
    clients.push(child);
  }
  await Promise.all(clients.map((c) => request(c, null, 'ready', 15_000)));
  return clients;
}

async function stopClients(clients) {
  await Promise.all(
    clients.map((c) => request(c, { cmd: 'close' }, 'closed', 5000).catch(() => undefined)),
  );
  await Promise.all(clients.map((c) => stop(c)));
}

/** Opens `total` connections spread over the clients; resolves when all reported. */
async function connect(clients, port, total, options = {}) {
  const share = Math.ceil(total / clients.length);
  const replies = await Promise.all(
    clients.map((c, i) => {
      const count = Math.max(0, Math.min(share, total - i * share));
      return request(
        c,
        {
          cmd: 'connect',
          port,
          count,
          path: options.path ?? '/events?topic=bench',
          headers: { ...(options.tokens ? {} : AUTH), ...(options.headers ?? {}) },
          tokens: options.tokens?.slice(i * share, i * share + count),
          sampleEvery: options.sampleEvery ?? 0,
          batch: options.batch ?? 250,
          gzip: options.gzip ?? false,
          waitFirst: options.waitFirst ?? false,
        },
        'connected',
        120_000,
      );
    }),
  );
  return replies.reduce(
    (a, r) => ({
      opened: a.opened + r.opened,
      failed: a.failed + r.failed,
      ms: Math.max(a.ms, r.ms),
      connectP50Ms: Math.max(a.connectP50Ms, r.connectP50Ms),
      connectP99Ms: Math.max(a.connectP99Ms, r.connectP99Ms),
    }),
    { opened: 0, failed: 0, ms: 0, connectP50Ms: 0, connectP99Ms: 0 },
  );
}

async function clientTotals(clients) {
  const all = await Promise.all(clients.map((c) => request(c, { cmd: 'stats' }, 'stats')));
  return all.reduce(
    (a, s) => ({
      frames: a.frames + s.frames,
      bytes: a.bytes + s.bytes,
      closed: a.closed + s.closed,
      firstSeen: a.firstSeen + s.firstSeen,
    }),
    { frames: 0, bytes: 0, closed: 0, firstSeen: 0 },
  );
}

async function latency(clients) {
  const all = await Promise.all(clients.map((c) => request(c, { cmd: 'latency' }, 'latency')));
  const hist = new Map();
  for (const r of all) for (const [ms, n] of r.pairs) hist.set(ms, (hist.get(ms) ?? 0) + n);
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const total = keys.reduce((a, k) => a + hist.get(k), 0);
  const pct = (p) => {
    let seen = 0;
    for (const k of keys) {
      seen += hist.get(k);
      if (seen >= total * p) return k;
    }
    return NaN;
  };
  return { samples: total, p50: pct(0.5), p99: pct(0.99), max: keys.at(-1) ?? NaN };
}

/** Polls until `check()` is truthy or `timeoutMs` passes; returns whether it held. */
async function until(check, timeoutMs, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return Boolean(await check());
}

// ---------------------------------------------------------------- publisher (this process)
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/**
 * Publishes `events` to `server` in one POST: Herald and the baseline take `{topic,type,data}`
 * or `{events:[...]}`; nchan takes one event per POST, its body the data (`?topic=`).
 */
function publish(server, events) {
  if (server.kind === 'nchan') {
    if (events.length !== 1) throw new Error('nchan takes one event per publish');
    const [e] = events;
    return post(`${server.url}/events?topic=${encodeURIComponent(e.topic)}`, e.data);
  }
  return post(`${server.url}/events`, events.length === 1 ? events[0] : { events });
}

function post(url, body) {
  const text = JSON.stringify(body);
  return new Promise((ok, fail) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
          ...AUTH,
        },
      },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (out += c));
        res.on('end', () => {
          if (res.statusCode < 200 || res.statusCode >= 300) {
            fail(new Error(`publish ${res.statusCode}: ${out}`));
          } else ok(res.headers['content-type']?.includes('json') ? JSON.parse(out || '{}') : {});
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('publish timeout')));
    req.on('error', fail);
    req.end(text);
  });
}

const PAD = 'x'.repeat(64);
/** ~100 bytes of JSON carrying the publish time. */
const event = (topic) => ({ topic, type: 'tick', data: { t: Date.now(), p: PAD } });

/**
 * Publishes as fast as the server takes it, `inFlight` POSTs at a time of `batch` events each
 * (default: batches sized to the subscriber count, 2 in flight), while keeping at most `window`
 * events per subscriber in flight (so no server buffers without bound).
 */
async function flood(server, clients, subs, { warmMs, measureMs, batch: fixed, inFlight = 2 }) {
  const batch = fixed ?? Math.max(1, Math.min(100, Math.round(20_000 / subs)));
  const window = 200;
  let published = 0;
  let received = 0;
  let stopAt = Date.now() + warmMs + measureMs;
  const base = (await clientTotals(clients)).frames;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      received = ((await clientTotals(clients)).frames - base) / subs;
      await sleep(25);
    }
  })();
  const worker = async () => {
    while (Date.now() < stopAt) {
      if (published - received > window) {
        await sleep(2);
        continue;
      }
      published += batch;
      await publish(
        server,
        Array.from({ length: batch }, () => event('bench')),
      );
    }
  };
  const workers = Array.from({ length: inFlight }, () => worker());
  await sleep(warmMs);
  const f0 = (await clientTotals(clients)).frames;
  const c0 = await serverStats(server);
  const t0 = Date.now();
  await sleep(measureMs);
  const f1 = (await clientTotals(clients)).frames;
  const c1 = await serverStats(server);
  const t1 = Date.now();
  stopAt = 0;
  await Promise.all(workers);
  polling = false;
  await poller;
  const totals = await clientTotals(clients);
  const deliveries = f1 - f0;
  return {
    deliveriesPerS: Math.round((deliveries * 1000) / (t1 - t0)),
    serverCpuPct: round1(((c1.cpuUs - c0.cpuUs) / ((t1 - t0) * 1000)) * 100),
    // Server CPU per delivery: less sensitive than the rate to a shared machine's other load.
    serverCpuNsPerDelivery:
      deliveries > 0 ? Math.round(((c1.cpuUs - c0.cpuUs) * 1000) / deliveries) : -1,
    batch,
    inFlight,
    closedByServer: totals.closed,
  };
}

/** Publishes single events at `rate`/s for `ms` (bounded count), then waits for delivery. */
async function paced(server, clients, subs, rate, ms, { topic = 'bench', publishTo } = {}) {
  const target = publishTo ?? server;
  const count = Math.round((rate * ms) / 1000);
  await latency(clients); // discard earlier samples
  const before = await clientTotals(clients);
  const c0 = await serverStats(server);
  const t0 = Date.now();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(publish(target, [event(topic)]));
  }
  await Promise.all(pending);
  const t1 = Date.now();
  const c1 = await serverStats(server);
  const expected = before.frames + count * subs;
  await until(async () => (await clientTotals(clients)).frames >= expected, 5000, 50);
  const after = await clientTotals(clients);
  const lat = await latency(clients);
  return {
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    maxMs: lat.max,
    delivered: round1(((after.frames - before.frames) / (count * subs)) * 100),
    serverCpuPct: round1(((c1.cpuUs - c0.cpuUs) / ((t1 - t0) * 1000)) * 100),
    wireBytesPerDelivery: round1((after.bytes - before.bytes) / (count * subs)),
  };
}

const round1 = (x) => Math.round(x * 10) / 10;

// ---------------------------------------------------------------- scenarios
async function withServer(kind, env, fn) {
  const server = await startServer(kind, env);
  const clients = [];
  try {
    return await fn(server, async (n) => {
      const c = await startClients(n);
      clients.push(...c);
      return c;
    });
  } finally {
    await stopClients(clients);
    await stopServer(server);
  }
}

/** RSS and heap per idle stream: `T.idle` streams over 100 topics, a token per stream. */
async function idleMemory(kind) {
  const n = T.idle;
  const tokens = await tokensFor(n);
  return withServer(kind, {}, async (server, clientsOf) => {
    const clients = await clientsOf(4);
    await sleep(500);
    const before = await serverStats(server, true);
    if (process.env.BENCH_HEAP_SNAPSHOT && kind === 'herald') {
      const dir = resolve(here, 'results/prof');
      mkdirSync(dir, { recursive: true });
      await request(
        server.child,
        { cmd: 'heapsnapshot', file: `${dir}/idle-before.heapsnapshot` },
        'heapsnapshot',
        120_000,
      );
    }
    const paths = Array.from({ length: 100 }, (_, i) => `/events?topic=idle/${i}`);
    const { opened, failed } = await connect(clients, server.port, n, {
      path: paths,
      batch: 250,
      tokens,
    });
    await until(async () => (await clientTotals(clients)).firstSeen >= opened, 60_000, 200);
    await sleep(1000);
    const after = await serverStats(server, true);
    const totals = await clientTotals(clients);
    if (process.env.BENCH_HEAP_SNAPSHOT && kind === 'herald') {
      // Profiling aid: bench/heap-top.mjs diffs these two (per-stream retained objects).
      const dir = resolve(here, 'results/prof');
      mkdirSync(dir, { recursive: true });
      await request(
        server.child,
        { cmd: 'heapsnapshot', file: `${dir}/idle-after.heapsnapshot` },
        'heapsnapshot',
        120_000,
      );
    }
    return {
      connections: totals.firstSeen,
      failed: failed + totals.closed,
      rssPerConnKB: round1((after.rss - before.rss) / 1024 / Math.max(1, totals.firstSeen)),
      heapPerConnKB: round1(
        (after.heapUsed - before.heapUsed) / 1024 / Math.max(1, totals.firstSeen),
      ),
    };
  });
}

async function fanOut(kind, subs, publishing = {}) {
  return withServer(kind, {}, async (server, clientsOf) => {
    const clients = await clientsOf(subs >= 4000 ? 4 : 2);
    await connect(clients, server.port, subs);
    await until(async () => (await clientTotals(clients)).firstSeen >= subs, 60_000, 100);
    return flood(server, clients, subs, { warmMs: T.warm, measureMs: T.fan, ...publishing });
  });
}

/**
 * Connections established per second: `T.connect` streams, a token per stream, 256 in flight
 * from 4 client processes; a stream counts once its first frame (headers + `retry:`) arrived.
 */
async function connectRate(kind) {
  const n = T.connect;
  const tokens = await tokensFor(n);
  return withServer(kind, {}, async (server, clientsOf) => {
    const clients = await clientsOf(4);
    await sleep(300);
    if (kind !== 'nchan') await resetEld(server);
    const c0 = await serverStats(server);
    const r = await connect(clients, server.port, n, {
      path: '/events?topic=connect',
      tokens,
      batch: 64,
      waitFirst: true,
    });
    const c1 = await serverStats(server);
    return {
      streams: r.opened,
      failed: r.failed,
      ms: r.ms,
      perS: Math.round((r.opened * 1000) / Math.max(1, r.ms)),
      connectP50Ms: r.connectP50Ms,
      connectP99Ms: r.connectP99Ms,
      serverCpuPct: round1(((c1.cpuUs - c0.cpuUs) / (r.ms * 1000)) * 100),
      // Server CPU per stream opened: less sensitive than the rate to a shared machine's other
      // load and to the load client being the bound (as it can be for bare Node).
      serverCpuUsPerConnect: r.opened > 0 ? Math.round((c1.cpuUs - c0.cpuUs) / r.opened) : -1,
      eldP99Ms: kind === 'nchan' ? undefined : round1(c1.eldP99),
    };
  });
}

/** Runs `fn('nchan')` when nchan is a peer in this run; undefined (logged once) when not. */
let nchanNoted = false;
async function nchanPeer(fn) {
  if (NCHAN_OFF) {
    if (!nchanNoted) log(`nchan: not a peer in this run (${NCHAN_OFF})`);
    nchanNoted = true;
    return undefined;
  }
  try {
    return await fn('nchan');
  } catch (err) {
    log(`nchan: failed: ${String(err.message ?? err).split('\n')[0]}`);
    return undefined;
  }
}

async function paceLatency(kind, subs, rate, env = {}, gzip = false) {
  return withServer(kind, env, async (server, clientsOf) => {
    const clients = await clientsOf(2);
    await connect(clients, server.port, subs, {
      sampleEvery: gzip ? 0 : 4,
      gzip,
      headers: gzip ? { 'Accept-Encoding': 'gzip' } : {},
    });
    await until(async () => (await clientTotals(clients)).firstSeen >= subs, 30_000, 100);
    await sleep(300);
    const r = await paced(server, clients, subs, rate, T.lat);
    if (gzip) {
      delete r.p50Ms;
      delete r.p99Ms;
      delete r.maxMs;
      delete r.delivered;
    }
    return r;
  });
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function withRedis(fn) {
  const port = await freePort();
  const child = spawn('redis-server', redisServerArgs(port), { stdio: 'ignore' });
  const failed = await Promise.race([
    new Promise((r) => child.once('error', () => r(true))),
    sleep(500).then(() => false),
  ]);
  if (failed || child.exitCode !== null) throw new Error('redis-server could not start');
  try {
    return await fn(`redis://127.0.0.1:${port}`);
  } finally {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function redisLatency(kind, redisUrl, subs, rate) {
  const env =
    kind === 'herald'
      ? { BROKER: 'redis', REDIS_URL: redisUrl }
      : { BASELINE_REDIS: redisUrl, BASELINE_CHANNEL: `bench:${randomBytes(4).toString('hex')}` };
  const a = await startServer(kind, env);
  let b;
  let clients = [];
  try {
    b = await startServer(kind, env);
    clients = await startClients(2);
    await connect(clients, b.port, subs, { sampleEvery: 4 });
    await until(async () => (await clientTotals(clients)).firstSeen >= subs, 30_000, 100);
    await sleep(500);
    return await paced(b, clients, subs, rate, T.lat, { publishTo: a });
  } finally {
    await stopClients(clients);
    if (b) await stopServer(b);
    await stopServer(a);
  }
}

async function storm(kind, n) {
  return withServer(kind, {}, async (server, clientsOf) => {
    const clients = await clientsOf(4);
    const first = await publish(
      server,
      Array.from({ length: 100 }, () => event('storm')),
    );
    const replayed = 50;
    const cursor = first.ids[first.ids.length - 1 - replayed];
    await resetEld(server);
    const c0 = await serverStats(server);
    const t0 = Date.now();
    const expected = n * (1 + replayed); // retry frame + replayed events
    await connect(clients, server.port, n, {
      path: '/events?topic=storm',
      headers: { 'Last-Event-ID': cursor },
      batch: Math.ceil(n / 4),
    });
    const ok = await until(
      async () => (await clientTotals(clients)).frames >= expected,
      30_000,
      50,
    );
    const ms = Date.now() - t0;
    const s = await serverStats(server);
    const totals = await clientTotals(clients);
    return {
      clients: n,
      resumed: Math.floor(totals.frames / (1 + replayed)),
      allResumedMs: ok ? ms : -1,
      // Server CPU per resumed client (connect, replay of 50 events): the load clients, four
      // processes on one core parsing every frame, can be the bound of the wall time.
      serverCpuUsPerClient: Math.round((s.cpuUs - c0.cpuUs) / n),
      eldP99Ms: round1(s.eldP99),
      eldMaxMs: round1(s.eldMax),
    };
  });
}

// ---------------------------------------------------------------- table
const rows = [];
const results = {
  startedAt: new Date().toISOString(),
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memGB: round1(totalmem() / 2 ** 30),
    node: process.version,
    taskset: tasksetAvailable(),
  },
  scenarios: {},
};

const ratioOf = (a, b) => (a !== undefined && b ? Math.round((a / b) * 100) / 100 : undefined);

/** One table row: Herald, bare Node and (when a peer here) nchan, with Herald's ratios. */
function row(name, unit, herald, baseline, { better, target, met, nchan }) {
  rows.push({
    name,
    unit,
    herald,
    baseline,
    nchan,
    ratio: ratioOf(herald, baseline),
    nchanRatio: ratioOf(herald, nchan),
    better,
    target,
    met,
  });
}

async function scenario(key, title, fn) {
  if (!ONLY.includes(key)) return;
  if (Date.now() > DEADLINE) {
    log(`${key}: skipped (time budget spent)`);
    results.scenarios[key] = { skipped: 'time budget spent' };
    return;
  }
  log(`${key}: ${title}`);
  const started = Date.now();
  try {
    results.scenarios[key] = await fn();
  } catch (err) {
    log(`${key}: failed: ${err.stack ?? err}`);
    results.scenarios[key] = { error: String(err.message ?? err) };
  }
  log(`${key}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
process.on('exit', stopAll);

await scenario('s', 'fan-out, single-event publishes (4 in flight), 1k and 10k', async () => {
  const out = {};
  const single = { batch: 1, inFlight: 4 };
  for (const subs of [1000, 10_000]) {
    const herald = await fanOut('herald', subs, single);
    const baseline = await fanOut('baseline', subs, single);
    const nchan = await nchanPeer((kind) => fanOut(kind, subs, single));
    const want = subs === 1000 ? 1.0 : 1.5;
    row(
      `s. fan-out deliveries/s, ${subs / 1000}k subs (1 event/POST)`,
      '/s',
      herald.deliveriesPerS,
      baseline.deliveriesPerS,
      {
        nchan: nchan?.deliveriesPerS,
        better: 'higher',
        target: nchan ? `>= ${want}x nchan, no loss` : `>= ${want}x nchan (no nchan here)`,
        met: nchan
          ? herald.deliveriesPerS >= want * nchan.deliveriesPerS && herald.closedByServer === 0
          : undefined,
      },
    );
    row(
      `s. server CPU ns per delivery, ${subs / 1000}k`,
      'ns',
      herald.serverCpuNsPerDelivery,
      baseline.serverCpuNsPerDelivery,
      { nchan: nchan?.serverCpuNsPerDelivery, better: 'lower', target: '', met: undefined },
    );
    row(
      `s. server CPU during fan-out, ${subs / 1000}k`,
      '%',
      herald.serverCpuPct,
      baseline.serverCpuPct,
      { nchan: nchan?.serverCpuPct, better: 'info', target: '', met: undefined },
    );
    out[`subs${subs}`] = { herald, baseline, nchan };
  }
  return out;
});

await scenario('c', 'latency at 1k subscribers (100 and 20 events/s) and gzip', async () => {
  const out = {};
  for (const rate of [100, 20]) {
    const herald = await paceLatency('herald', 1000, rate);
    const baseline = await paceLatency('baseline', 1000, rate);
    const nchan = await nchanPeer((kind) => paceLatency(kind, 1000, rate));
    row(`c. p50 latency, 1k x ${rate}/s`, 'ms', herald.p50Ms, baseline.p50Ms, {
      nchan: nchan?.p50Ms,
      better: 'lower',
      target: '',
      met: undefined,
    });
    row(`c. p99 latency, 1k x ${rate}/s`, 'ms', herald.p99Ms, baseline.p99Ms, {
      nchan: nchan?.p99Ms,
      better: 'lower',
      target: rate === 100 ? '<= nchan, all delivered' : '<= bare',
      met:
        rate === 100
          ? (nchan ? herald.p99Ms <= nchan.p99Ms : herald.p99Ms < 50) && herald.delivered >= 100
          : herald.p99Ms <= baseline.p99Ms,
    });
    row(`c. delivered within 5 s, 1k x ${rate}/s`, '%', herald.delivered, baseline.delivered, {
      nchan: nchan?.delivered,
      better: 'higher',
      target: '',
      met: undefined,
    });
    row(`c. server CPU, 1k x ${rate}/s`, '%', herald.serverCpuPct, baseline.serverCpuPct, {
      nchan: nchan?.serverCpuPct,
      better: 'lower',
      target: rate === 20 ? '<= bare' : '< 70%',
      met: rate === 20 ? herald.serverCpuPct <= baseline.serverCpuPct : herald.serverCpuPct < 70,
    });
    out[`rate${rate}`] = { herald, baseline, nchan };
  }
  // What the adaptive wait buys: the same load with its recommended ceiling (BATCH_LINGER_MS=20:
  // under load, runs spaced so writes carry several events), against the contract's default (0:
  // one flush run per tick, no wait) measured above.
  const linger = await paceLatency('herald', 1000, 100, { BATCH_LINGER_MS: '20' });
  row(
    'c. p99 latency, 1k x 100/s, BATCH_LINGER_MS=20 (vs default 0)',
    'ms',
    linger.p99Ms,
    out.rate100.herald.p99Ms,
    { better: 'lower', target: '', met: undefined },
  );
  row(
    'c. server CPU, 1k x 100/s, BATCH_LINGER_MS=20 (vs default 0)',
    '%',
    linger.serverCpuPct,
    out.rate100.herald.serverCpuPct,
    { better: 'lower', target: '', met: undefined },
  );
  out.linger20 = { herald: linger };
  // gzip: the same 1k x 100/s load with clients that accept gzip, against Herald uncompressed.
  const plain = out.rate100.herald;
  const gzip = await paceLatency('herald', 1000, 100, { COMPRESSION: 'gzip' }, true);
  row(
    'c. gzip: wire bytes per delivery (vs off)',
    'B',
    gzip.wireBytesPerDelivery,
    plain.wireBytesPerDelivery,
    { better: 'lower', target: '', met: undefined },
  );
  row('c. gzip: server CPU, 1k x 100/s (vs off)', '%', gzip.serverCpuPct, plain.serverCpuPct, {
    better: 'info',
    target: '',
    met: undefined,
  });
  out.gzip = { herald: gzip, off: plain };
  return out;
});

await scenario('a', `idle memory at ${T.idle} streams, a token per stream`, async () => {
  const herald = await idleMemory('herald');
  const baseline = await idleMemory('baseline');
  const nchan = await nchanPeer((kind) => idleMemory(kind));
  row(
    `a. RSS per idle stream, ${T.idle / 1000}k`,
    'KB',
    herald.rssPerConnKB,
    baseline.rssPerConnKB,
    {
      nchan: nchan?.rssPerConnKB,
      better: 'lower',
      target: '<= bare',
      met: herald.rssPerConnKB <= baseline.rssPerConnKB,
    },
  );
  row('a. JS heap per idle stream', 'KB', herald.heapPerConnKB, baseline.heapPerConnKB, {
    better: 'lower',
    target: '',
    met: undefined,
  });
  return { herald, baseline, nchan };
});

await scenario('k', `connections established/s at ${T.connect / 1000}k, JWT auth`, async () => {
  const herald = await connectRate('herald');
  const baseline = await connectRate('baseline');
  const nchan = await nchanPeer((kind) => connectRate(kind));
  row(`k. connections established/s, ${T.connect / 1000}k`, '/s', herald.perS, baseline.perS, {
    nchan: nchan?.perS,
    better: 'higher',
    target: '>= 0.8x bare',
    met: herald.failed === 0 && herald.perS >= 0.8 * baseline.perS,
  });
  row('k. connect p99 (request to first frame)', 'ms', herald.connectP99Ms, baseline.connectP99Ms, {
    nchan: nchan?.connectP99Ms,
    better: 'lower',
    target: '',
    met: undefined,
  });
  row(
    'k. server CPU per connect',
    'us',
    herald.serverCpuUsPerConnect,
    baseline.serverCpuUsPerConnect,
    { nchan: nchan?.serverCpuUsPerConnect, better: 'lower', target: '', met: undefined },
  );
  row('k. event-loop delay p99 while connecting', 'ms', herald.eldP99Ms, baseline.eldP99Ms, {
    better: 'lower',
    target: '< 100 ms',
    met: herald.eldP99Ms < 100,
  });
  return { herald, baseline, nchan };
});

await scenario('b', 'fan-out deliveries/s, batch publishes, at maximum publish rate', async () => {
  const out = {};
  for (const subs of [1000, 10_000]) {
    const herald = await fanOut('herald', subs);
    const baseline = await fanOut('baseline', subs);
    const want = subs === 1000 ? 2.0 : 1.5;
    row(
      `b. fan-out deliveries/s, ${subs / 1000}k subs (batch POSTs)`,
      '/s',
      herald.deliveriesPerS,
      baseline.deliveriesPerS,
      {
        better: 'higher',
        target: `>= ${want}x`,
        met: herald.deliveriesPerS >= want * baseline.deliveriesPerS,
      },
    );
    row(
      `b. server CPU during fan-out, ${subs / 1000}k`,
      '%',
      herald.serverCpuPct,
      baseline.serverCpuPct,
      { better: 'info', target: '', met: undefined },
    );
    out[`subs${subs}`] = { herald, baseline };
  }
  return out;
});

await scenario('d', 'latency across two instances through Redis', async () => {
  let probe;
  try {
    probe = await withRedis(async (url) => {
      const s = await startServer('herald', {
        BROKER: 'redis',
        REDIS_URL: url,
        LOG_LEVEL: 'silent',
      });
      await stopServer(s);
      return true;
    });
  } catch (err) {
    log(
      `d: skipped: redis broker unavailable (${String(err.message ?? err)
        .split('\n')[0]
        .slice(0, 160)})`,
    );
    console.log('d: skipped: redis broker unavailable');
    row('d. p99 latency via Redis, 1k x 100/s', 'ms', undefined, undefined, {
      better: 'lower',
      target: 'skipped: redis broker unavailable',
      met: undefined,
    });
    return { skipped: 'redis broker unavailable' };
  }
  if (!probe) return { skipped: 'redis broker unavailable' };
  return withRedis(async (url) => {
    const herald = await redisLatency('herald', url, 1000, 100);
    const baseline = await redisLatency('baseline', url, 1000, 100);
    row('d. p99 latency via Redis, 1k x 100/s', 'ms', herald.p99Ms, baseline.p99Ms, {
      better: 'lower',
      target: '< 60 ms (issue 15)',
      met: herald.p99Ms < 60 && herald.delivered >= 100,
    });
    row('d. p50 latency via Redis, 1k x 100/s', 'ms', herald.p50Ms, baseline.p50Ms, {
      better: 'lower',
      target: '',
      met: undefined,
    });
    return { herald, baseline };
  });
});

await scenario(
  'e',
  `reconnect storm: ${T.storm / 1000}k clients resuming with cursors`,
  async () => {
    const herald = await storm('herald', T.storm);
    const baseline = await storm('baseline', T.storm);
    const k = `${T.storm / 1000}k`;
    row(`e. storm: all ${k} resumed after`, 'ms', herald.allResumedMs, baseline.allResumedMs, {
      better: 'lower',
      target: '< 3000 ms',
      met: herald.allResumedMs >= 0 && herald.allResumedMs < 3000,
    });
    row(
      'e. storm: server CPU per resumed client',
      'us',
      herald.serverCpuUsPerClient,
      baseline.serverCpuUsPerClient,
      { better: 'lower', target: '', met: undefined },
    );
    row('e. storm: event-loop delay p99', 'ms', herald.eldP99Ms, baseline.eldP99Ms, {
      better: 'lower',
      target: '< 100 ms',
      met: herald.eldP99Ms < 100,
    });
    return { herald, baseline };
  },
);
await scenario(
  'f',
  'Redis Cluster: publish rate, delivery p99, per-primary share, CPU',
  async () => {
    const child = spawn(
      process.execPath,
      [resolve(here, 'redis-cluster.bench.mjs'), QUICK ? '2000' : '5000', '--json'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((r) => child.once('exit', r));
    const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (!line) return { skipped: out.trim() || 'redis-cluster bench produced nothing' };
    const r = JSON.parse(line.slice('BENCH_JSON '.length));
    const unit = { better: 'higher', target: 'info', met: undefined };
    for (const run of r.runs ?? [r]) {
      const p = `f. cluster P=${run.partitions}`;
      row(`${p}: publish`, 'events/s', run.publishPerS, undefined, unit);
      row(`${p}: delivery p99`, 'ms', round1(run.deliveryP99Ms), undefined, {
        ...unit,
        better: 'lower',
      });
      const maxShare = Math.max(...run.primaryShares.map((s) => s.share));
      row(`${p}: busiest primary share`, '%', Math.round(maxShare * 100), undefined, {
        better: 'lower',
        target: run.partitions > 1 ? 'each 33% +- 10' : 'info (one slot: one primary)',
        met: run.partitions > 1 ? run.evenShares : undefined,
      });
      row(`${p}: Redis CPU per publish`, 'us', round1(run.redisCpuUsPerPublish), undefined, {
        ...unit,
        better: 'lower',
      });
    }
    return r;
  },
);

await scenario(
  'm',
  'Mercure fan-out: exact, URI-template and URL-pattern subscribers vs GET /events',
  async () => (await import('./mercure.bench.mjs')).mercureScenario({ quick: QUICK, row }),
);

await scenario('p', 'presence: 1,000-client join storm (bench/presence.bench.mjs)', async () => {
  const { runPresenceBench } = await import('./presence.bench.mjs');
  const r = await runPresenceBench(1000);
  const info = { better: 'lower', target: 'info', met: undefined };
  row(
    'p. join storm: all 1k counted by GET /presence',
    'ms',
    r.herald.countedMs,
    r.baseline.openMs,
    info,
  );
  row(
    'p. join storm: presence events to all clients',
    'events',
    r.herald.emitted,
    r.pairwiseEvents,
    {
      better: 'lower',
      target: '< 1 per pair of clients',
      met: r.herald.emitted < r.pairwiseEvents,
    },
  );
  return r;
});

await scenario('h', 'HTTP/2: streams per connection, memory and CPU per stream', () =>
  import('./http2.bench.mjs').then((h2) => h2.benchScenario({ quick: QUICK, row })),
);

// ---------------------------------------------------------------- report
results.finishedAt = new Date().toISOString();
results.table = rows;
const fmt = (v) => (v === undefined || Number.isNaN(v) ? '-' : String(v));
const header = [
  'scenario',
  'unit',
  'herald',
  'bare node',
  'nchan',
  'vs bare',
  'vs nchan',
  'target',
  'met',
];
const lines = rows.map((r) => [
  r.name,
  r.unit,
  fmt(r.herald),
  fmt(r.baseline),
  fmt(r.nchan),
  r.ratio === undefined ? '-' : `${r.ratio}x`,
  r.nchanRatio === undefined ? '-' : `${r.nchanRatio}x`,
  r.target || '',
  r.met === undefined ? '' : r.met ? 'yes' : 'NO',
]);
const table = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...lines.map((l) => `| ${l.join(' | ')} |`),
].join('\n');
mkdirSync(resolve(here, 'results'), { recursive: true });
writeFileSync(resolve(here, 'results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(
  resolve(here, 'results/latest.md'),
  `${results.command} (${results.startedAt})\n\n${table}\n`,
);
console.log(
  `\n${results.command}  (${results.machine.cpus} cores, node ${results.machine.node}, taskset ${results.machine.taskset})\n`,
);
console.log(table);
console.log(`\nJSON: bench/results/latest.json`);
agent.destroy();
process.exit(0);
