// A load client process: many raw `net` SSE connections. It parses only what it must: it counts
// frame ends (`\n\n`) and bytes, and on sampled connections extracts the publish timestamp
// (`"t":<ms>`) to histogram publish-to-receive latency (1 ms buckets).
// IPC: {cmd:'connect', port, path, count, headers, tokens, sampleEvery, batch, waitFirst}
//      -> {type:'connected', opened, failed, ms, connectP50Ms, connectP99Ms}; {cmd:'stats'} ->
//      counters; {cmd:'latency'} -> histogram since the last call; {cmd:'close'}.
// `batch` connections are in flight at once (a sliding window); with `waitFirst` a connection
// counts as in flight until its first frame (the server accepted, routed, authorized and
// answered it), so `ms` is the time to establish all `count` streams. `tokens[i]` (optional)
// is connection i's own bearer token.
import net from 'node:net';

const sockets = [];
let frames = 0;
let bytes = 0;
let closed = 0;
let firstSeen = 0;
let allFirstAt = 0;
let connectStartedAt = 0;
let target = 0;
const MAX_MS = 60_000;
let hist = new Uint32Array(MAX_MS + 1);
const LF = 10;

function countFrames(buf, state) {
  let n = 0;
  if (state.lf && buf.length > 0 && buf[0] === LF) n++;
  let i = buf.indexOf('\n\n');
  while (i !== -1) {
    n++;
    i = buf.indexOf('\n\n', i + 2);
  }
  state.lf = buf.length > 0 && buf[buf.length - 1] === LF;
  return n;
}

function sampleLatency(buf, state) {
  state.text += buf.toString('latin1');
  const end = state.text.lastIndexOf('\n\n');
  if (end === -1) return;
  const now = Date.now();
  const done = state.text.slice(0, end);
  state.text = state.text.slice(end + 2);
  let i = done.indexOf('"t":');
  while (i !== -1) {
    let j = i + 4;
    let t = 0;
    for (; j < done.length; j++) {
      const c = done.charCodeAt(j);
      if (c < 48 || c > 57) break;
      t = t * 10 + (c - 48);
    }
    const ms = Math.max(0, Math.min(MAX_MS, now - t));
    hist[ms]++;
    i = done.indexOf('"t":', j);
  }
}

function open(port, path, headers, sample, gzip, waitFirst = false) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const state = { lf: false, first: false, text: '', sample, gzip };
    let settled = false;
    const done = (ok) => {
      if (!settled) {
        settled = true;
        resolve(ok);
      }
    };
    socket.on('connect', () => {
      let head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      socket.write(`${head}\r\n`);
      if (!waitFirst) done(true);
      else setTimeout(() => done(false), 30_000).unref();
    });
    socket.on('data', (buf) => {
      bytes += buf.length;
      const n = state.gzip ? 0 : countFrames(buf, state);
      frames += n;
      if (!state.first && (n > 0 || state.gzip)) {
        state.first = true;
        if (++firstSeen === target) allFirstAt = Date.now();
        done(true);
      }
      if (state.sample) sampleLatency(buf, state);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => {
      closed++;
      done(false);
    });
    sockets.push(socket);
  });
}

process.on('message', async (m) => {
  switch (m.cmd) {
    case 'connect': {
      const {
        port,
        path,
        count,
        headers = {},
        tokens,
        sampleEvery = 0,
        batch = 200,
        gzip = false,
        waitFirst = false,
      } = m;
      target += count;
      connectStartedAt = Date.now();
      let opened = 0;
      let failed = 0;
      let nextIndex = 0;
      const took = [];
      const worker = async () => {
        while (nextIndex < count) {
          const i = nextIndex++;
          const own = tokens ? { ...headers, Authorization: `Bearer ${tokens[i]}` } : headers;
          const t0 = Date.now();
          const ok = await open(
            port,
            typeof path === 'string' ? path : path[i % path.length],
            own,
            sampleEvery > 0 && i % sampleEvery === 0,
            gzip,
            waitFirst,
          );
          if (ok) {
            opened++;
            took.push(Date.now() - t0);
          } else failed++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(batch, count) }, worker));
      took.sort((a, b) => a - b);
      const pct = (p) => took[Math.min(took.length - 1, Math.floor(took.length * p))] ?? -1;
      process.send({
        type: 'connected',
        opened,
        failed,
        ms: Date.now() - connectStartedAt,
        connectP50Ms: pct(0.5),
        connectP99Ms: pct(0.99),
      });
      break;
    }
    case 'stats':
      process.send({
        type: 'stats',
        frames,
        bytes,
        closed,
        firstSeen,
        firstAllMs: allFirstAt ? allFirstAt - connectStartedAt : -1,
      });
      break;
    case 'latency': {
      const pairs = [];
      for (let ms = 0; ms <= MAX_MS; ms++) if (hist[ms] > 0) pairs.push([ms, hist[ms]]);
      hist = new Uint32Array(MAX_MS + 1);
      process.send({ type: 'latency', pairs });
      break;
    }
    case 'close':
      for (const s of sockets) s.destroy();
      process.send({ type: 'closed' });
      setTimeout(() => process.exit(0), 50);
      break;
    default:
      break;
  }
});
process.send({ type: 'ready' });
