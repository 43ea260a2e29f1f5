// HTTP/2 bench (issue 15, scenario `h` of bench/run.mjs; ARCHITECTURE.md "HTTP/2").
// One Herald process with TLS on core 0, the clients here on core 1. For N idle SSE streams:
// streams per connection, RSS per stream, stream open rate, and server CPU per delivery while
// 100-byte events fan out to all N, over
//   h2     HTTP/2 (ALPN h2), 100 streams per session, Herald's own http2 server;
//   h1     HTTP/1.1 over TLS on the same port (one TLS connection per stream);
//   front  option (c) of the adapter decision: an in-process h2 front forwarding each stream to
//          Herald's HTTP/1.1 server on loopback (a hop per stream), for comparison only.
//
//   npm run build && node bench/http2.bench.mjs [streams] [--json]
// Prints a table, or with --json one line `BENCH_JSON {...}`. Bounded in count and time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { benchGatewayEnv } from './lib/gateway-env.mjs';
import { request as ipc, spawnNode, stop, stopAll } from './lib/proc.mjs';

const STREAMS_PER_SESSION = 100;
const EVENT_BYTES = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...m) => process.stderr.write(`[h2] ${m.join(' ')}\n`);

const HERALD_ENV = benchGatewayEnv('h2-bench-secret-0123456789abcdef-0123456789abcdef', {
  ANONYMOUS_TOPICS: '**',
  HISTORY_SIZE: '1000', // the default: this bench retains nothing it measures
});

// ---------------------------------------------------------------- server process
const entry = process.argv[1] === fileURLToPath(import.meta.url);
if (entry && process.argv[2] === 'serve') {
  const mode = process.argv[3];
  const require = createRequire(import.meta.url);
  require('reflect-metadata');
  const { startGateway } = require('../dist/apps/gateway/src/bootstrap.js');
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  let url;
  if (mode === 'front') {
    const { TLS_CERT_FILE, TLS_KEY_FILE, ...env } = process.env;
    const gw = await startGateway(env);
    const back = new URL(gw.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const front = http2.createSecureServer({
      cert: readFileSync(TLS_CERT_FILE),
      key: readFileSync(TLS_KEY_FILE),
      allowHTTP1: false,
      settings: { maxConcurrentStreams: 128 },
    });
    front.on('stream', (stream, headers) => {
      const fwd = {};
      for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':')) fwd[k] = v;
      const req = http.request({
        host: back.hostname,
        port: back.port,
        method: headers[':method'],
        path: headers[':path'],
        headers: { ...fwd, host: headers[':authority'] ?? 'localhost' },
        agent,
      });
      req.on('response', (res) => {
        const out = { ':status': res.statusCode };
        for (const [k, v] of Object.entries(res.headers)) {
          if (!['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v;
        }
        stream.respond(out);
        res.pipe(stream);
      });
      req.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
      stream.on('close', () => req.destroy());
      stream.on('error', () => req.destroy());
      stream.pipe(req);
    });
    await new Promise((r) => front.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${front.address().port}`;
  } else {
    url = (await startGateway(process.env)).url;
  }
  process.on('message', (m) => {
    if (m.cmd !== 'stats') return;
    if (global.gc) {
      global.gc();
      global.gc();
    }
    const cpu = process.cpuUsage();
    process.send({
      type: 'stats',
      rss: process.memoryUsage().rss,
      heapUsed: process.memoryUsage().heapUsed,
      cpuUs: cpu.user + cpu.system,
      eldP99: eld.percentile(99) / 1e6,
    });
  });
  process.send({ type: 'ready', url });
} else if (entry) {
  await main();
}

// ---------------------------------------------------------------- clients
/** Counts SSE frames (blank-line terminated) on one stream; the first is `retry:`. */
function frameCounter(onFrame) {
  let last = '';
  return (chunk) => {
    const text = last + chunk;
    let at = text.indexOf('\n\n');
    let from = 0;
    while (at !== -1) {
      onFrame();
      from = at + 2;
      at = text.indexOf('\n\n', from);
    }
    last = text.slice(Math.max(from, text.length - 1));
  };
}

async function openH2(url, ca, n, topic, counters) {
  const sessions = [];
  const opened = [];
  for (let i = 0; i < n; i += STREAMS_PER_SESSION) {
    const session = http2.connect(url, { ca, ALPNProtocols: ['h2'] });
    session.on('error', () => undefined);
    await new Promise((resolve, reject) => {
      session.once('connect', resolve);
      session.once('error', reject);
    });
    sessions.push(session);
    for (let j = i; j < Math.min(n, i + STREAMS_PER_SESSION); j++) {
      opened.push(
        new Promise((resolve) => {
          const stream = session.request({
            ':path': `/events?topic=${topic}`,
            accept: 'text/event-stream',
          });
          stream.setEncoding('utf8');
          let first = true;
          stream.on(
            'data',
            frameCounter(() => {
              if (first) {
                first = false;
                resolve();
              } else counters.frames++;
            }),
          );
          stream.on('error', () => resolve());
          stream.on('close', () => counters.closed++);
        }),
      );
    }
  }
  return {
    opened: Promise.all(opened),
    close: () => sessions.forEach((s) => s.destroy()),
    connections: sessions.length,
  };
}

async function openH1(url, ca, n, topic, counters) {
  const agent = new https.Agent({ ca, keepAlive: false, maxSockets: Infinity });
  const reqs = [];
  const opened = [];
  for (let i = 0; i < n; i++) {
    opened.push(
      new Promise((resolve) => {
        const req = https.get(
          `${url}/events?topic=${topic}`,
          { agent, headers: { accept: 'text/event-stream' } },
          (res) => {
            res.setEncoding('utf8');
            let first = true;
            res.on(
              'data',
              frameCounter(() => {
                if (first) {
                  first = false;
                  resolve();
                } else counters.frames++;
              }),
            );
            res.on('close', () => counters.closed++);
          },
        );
        req.on('error', () => resolve());
        reqs.push(req);
      }),
    );
    if (i % 100 === 99) await sleep(5);
  }
  return {
    opened: Promise.all(opened),
    close: () => reqs.forEach((r) => r.destroy()),
    connections: n,
  };
}

/** One publisher over its own HTTP/2 session (or HTTPS keep-alive for `h1`). */
async function publisherFor(url, ca, protocol) {
  const token = await new SignJWT({ herald: { publish: ['**'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('h2-bench')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(HERALD_ENV.JWT_SECRET));
  const authorization = `Bearer ${token}`;
  const body = JSON.stringify({ topic: 'h2bench', data: 'x'.repeat(EVENT_BYTES - 12) });
  if (protocol === 'h1') {
    const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 4 });
    return {
      publish: () =>
        new Promise((resolve, reject) => {
          const req = https.request(`${url}/events`, {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', authorization },
          });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 202 ? resolve() : reject(new Error(`publish ${res.statusCode}`)),
            );
          });
          req.on('error', reject);
          req.end(body);
        }),
      close: () => agent.destroy(),
    };
  }
  const session = http2.connect(url, { ca });
  session.on('error', () => undefined);
  return {
    publish: () =>
      new Promise((resolve, reject) => {
        const s = session.request({
          ':method': 'POST',
          ':path': '/events',
          'content-type': 'application/json',
          authorization,
        });
        s.on('response', (h) => {
          s.resume();
          s.on('end', () =>
            h[':status'] === 202 ? resolve() : reject(new Error(`publish ${h[':status']}`)),
          );
        });
        s.on('error', reject);
        s.end(body);
      }),
    close: () => session.destroy(),
  };
}

// ---------------------------------------------------------------- one variant
async function variant(name, mode, protocol, n, events, certs) {
  const server = spawnNode(fileURLToPath(import.meta.url), ['serve', mode], {
    core: 0,
    nodeArgs: ['--expose-gc'],
    env: { ...HERALD_ENV, TLS_CERT_FILE: certs.cert, TLS_KEY_FILE: certs.key },
  });
  try {
    const { url } = await ipc(server, null, 'ready', 60_000);
    const ca = readFileSync(certs.cert);
    await sleep(500);
    const before = await ipc(server, { cmd: 'stats' }, 'stats');
    const counters = { frames: 0, closed: 0 };
    const t0 = performance.now();
    const open = protocol === 'h1' ? openH1 : openH2;
    const clients = await open(url, ca, n, 'h2bench', counters);
    await Promise.race([clients.opened, sleep(60_000)]);
    const openMs = performance.now() - t0;
    await sleep(1000);
    const idle = await ipc(server, { cmd: 'stats' }, 'stats');
    // Fan-out: `events` single-event publishes, 4 in flight.
    const publisher = await publisherFor(url, ca, protocol);
    const cpu0 = (await ipc(server, { cmd: 'stats' }, 'stats')).cpuUs;
    const p0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < events) {
          next++;
          await publisher.publish();
        }
      }),
    );
    const want = events * n;
    const deadline = Date.now() + 30_000;
    while (counters.frames < want && Date.now() < deadline) await sleep(20);
    const fanMs = performance.now() - p0;
    const after = await ipc(server, { cmd: 'stats' }, 'stats');
    publisher.close();
    clients.close();
    const result = {
      variant: name,
      streams: n,
      connections: clients.connections,
      streamsPerConnection: Math.round((n / clients.connections) * 10) / 10,
      openedPerS: Math.round(n / (openMs / 1000)),
      rssPerStreamKB: Math.round(((idle.rss - before.rss) / 1024 / n) * 10) / 10,
      heapPerStreamKB: Math.round(((idle.heapUsed - before.heapUsed) / 1024 / n) * 10) / 10,
      deliveries: counters.frames,
      lost: want - counters.frames,
      deliveriesPerS: Math.round(counters.frames / (fanMs / 1000)),
      cpuUsPerDelivery:
        Math.round(((after.cpuUs - cpu0) / Math.max(1, counters.frames)) * 100) / 100,
      closedEarly: counters.closed,
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    await stop(server);
  }
}

function makeCertificate(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** Runs the variants: h2, h1 over TLS, and (unless `front` is false) the option (c) front. */
export async function runVariants(n, events, { front = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-h2-bench-'));
  const certs = makeCertificate(dir);
  const out = {};
  try {
    out.h2 = await variant('h2', 'herald', 'h2', n, events, certs);
    out.h1 = await variant('h1 (TLS)', 'herald', 'h1', n, events, certs);
    if (front) out.front = await variant('front (c)', 'front', 'h2', n, events, certs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Scenario `h` of bench/run.mjs: adds its rows with `row` (baseline: HTTP/1.1 over TLS). */
export async function benchScenario({ quick, row }) {
  const r = await runVariants(quick ? 500 : 1000, quick ? 100 : 200);
  const info = { better: 'higher', target: 'info', met: undefined };
  row(
    'h. HTTP/2: streams per connection (vs HTTP/1.1 TLS)',
    'streams',
    r.h2.streamsPerConnection,
    r.h1.streamsPerConnection,
    {
      better: 'higher',
      target: '> 6 (browser h1 cap)',
      met: r.h2.streamsPerConnection > 6,
    },
  );
  row(
    'h. HTTP/2: RSS per idle stream (vs HTTP/1.1 TLS)',
    'KB',
    r.h2.rssPerStreamKB,
    r.h1.rssPerStreamKB,
    {
      better: 'lower',
      target: '<= 1x',
      met: r.h2.rssPerStreamKB <= r.h1.rssPerStreamKB,
    },
  );
  row(
    'h. HTTP/2: server CPU per delivery (vs HTTP/1.1 TLS)',
    'us',
    r.h2.cpuUsPerDelivery,
    r.h1.cpuUsPerDelivery,
    {
      ...info,
      better: 'lower',
    },
  );
  row(
    'h. HTTP/2: streams opened/s (vs HTTP/1.1 TLS)',
    '/s',
    r.h2.openedPerS,
    r.h1.openedPerS,
    info,
  );
  row(
    'h. h2 front hop (option c): CPU per delivery (vs native h2)',
    'us',
    r.front.cpuUsPerDelivery,
    r.h2.cpuUsPerDelivery,
    {
      ...info,
      better: 'lower',
    },
  );
  return r;
}

async function main() {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
  const events = 200;
  let out;
  try {
    out = await runVariants(n, events, { front: !args.includes('--no-front') });
  } finally {
    stopAll();
  }
  if (args.includes('--json')) {
    console.log(`BENCH_JSON ${JSON.stringify({ streams: n, events, variants: out })}`);
  } else {
    console.table(Object.values(out));
  }
  process.exit(0);
}
