// Presence join storm (run: npm run build && node bench/presence.bench.mjs [clients] [--json];
// `npm run bench -- --only=p` runs it as scenario p).
// N clients (default 1000, distinct `sub`s, each with ?presence=events) connect to one topic at
// once. Herald with PRESENCE_TOPICS on is measured against the same storm with presence off
// (the baseline: time until every stream is open). Reports the time until GET /presence counts
// every client, and the presence events emitted to all clients together, next to what one event
// per pair of clients would be (n*(n-1)/2 joins). Memory broker, one instance. Bounded: every
// wait has a deadline; the gateway is stopped by pid.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = resolve(here, '../dist/apps/gateway/src/main.js');
const N = Number(process.argv.find((a) => /^[0-9]+$/.test(a)) ?? 1000);
const JSON_OUT = process.argv.includes('--json');
const SECRET = randomBytes(32).toString('base64url');
const key = new TextEncoder().encode(SECRET);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...m) => process.stderr.write(`[presence-bench] ${m.join(' ')}\n`);

const sign = (sub, grants) =>
  new SignJWT({ herald: grants })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);

async function startGateway(env) {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      JWT_SECRET: SECRET,
      MAX_CONNECTIONS_PER_USER: '100000',
      MAX_CONNECTIONS_PER_IP: '100000',
      CONNECT_RATE_PER_S: '100000',
      CONNECT_BURST: '100000',
      SHUTDOWN_GRACE_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
    if (m) return { child, url: m[1] };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start:\n${out.slice(-2000)}`);
    }
    await sleep(20);
  }
}

function stopGateway(g) {
  if (g.child.exitCode === null) g.child.kill('SIGKILL');
  return new Promise((r) => (g.child.exitCode !== null ? r() : g.child.once('exit', r)));
}

/** One raw SSE client counting the presence events it receives. */
function client(port, path, token, counts) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  let opened = false;
  let tail = '';
  socket.on('data', (d) => {
    if (!opened) {
      opened = true;
      counts.opened++;
    }
    const text = tail + d.toString('latin1');
    for (const m of text.matchAll(/event: (herald\.(?:join|leave|presence))\n/g)) counts[m[1]]++;
    tail = text.slice(-64);
  });
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n` +
      `Authorization: Bearer ${token}\r\n\r\n`,
  );
  return socket;
}

async function users(url, admin) {
  const res = await fetch(`${url}/presence?topic=storm/room&limit=1`, {
    headers: { Authorization: `Bearer ${admin}` },
  });
  return res.status === 200 ? (await res.json()).users : -1;
}

async function storm(presence, N) {
  const g = await startGateway(presence ? { PRESENCE_TOPICS: 'storm/*' } : {});
  const port = Number(new URL(g.url).port);
  const admin = await sign('bench-admin', { subscribe: ['**'], admin: true });
  const tokens = await Promise.all(
    Array.from({ length: N }, (_, i) => sign(`u${i}`, { subscribe: ['**'] })),
  );
  const counts = { opened: 0, 'herald.join': 0, 'herald.leave': 0, 'herald.presence': 0 };
  const sockets = [];
  const path = `/events?topic=storm/room${presence ? '&presence=events' : ''}`;
  const t0 = performance.now();
  try {
    for (const t of tokens) sockets.push(client(port, path, t, counts));
    const deadline = Date.now() + 60_000;
    let openMs = -1;
    let countedMs = -1;
    while (Date.now() < deadline) {
      if (openMs < 0 && counts.opened >= N) openMs = performance.now() - t0;
      if (presence && countedMs < 0 && (await users(g.url, admin)) === N) {
        countedMs = performance.now() - t0;
      }
      if (openMs >= 0 && (!presence || countedMs >= 0)) break;
      await sleep(20);
    }
    await sleep(500); // let the last batches reach every client
    const emitted = counts['herald.join'] + counts['herald.presence'];
    return {
      clients: N,
      openMs: Math.round(openMs),
      countedMs: Math.round(countedMs),
      emitted,
      ...counts,
    };
  } finally {
    for (const s of sockets) s.destroy();
    await stopGateway(g);
  }
}

/** Both storms: presence off (baseline) then on. */
export async function runPresenceBench(n = N) {
  const baseline = await storm(false, n);
  log(`presence off: all ${n} open after ${baseline.openMs} ms`);
  const herald = await storm(true, n);
  log(
    `presence on: all open after ${herald.openMs} ms, counted after ${herald.countedMs} ms, ` +
      `${herald.emitted} presence events to all clients (one per pair: ${(n * (n - 1)) / 2})`,
  );
  return { clients: n, herald, baseline, pairwiseEvents: (n * (n - 1)) / 2 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runPresenceBench();
  if (JSON_OUT) console.log(`BENCH_JSON ${JSON.stringify(result)}`);
  else console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
