// The baseline: a bare Node `http` SSE server written the naive way (one res.write per event per
// subscriber, a JSON frame built per event). It speaks the bench's subset of Herald's API:
// GET /events?topic=T (Last-Event-ID resumes from an in-memory history), POST /events with
// {topic,type,data} or {events:[...]}. With --redis <url> it fans out through Redis pub/sub so two
// instances share events (scenario d).
import http from 'node:http';

/** Starts the baseline on 127.0.0.1:`port`; resolves with `{ server, url }`. */
export async function startBaseline({ port = 0, redisUrl, channel = 'bench' } = {}) {
  const subs = new Map(); // topic -> Set<res>
  const history = []; // [{ seq, topic, frame }]
  let seq = 0;
  const HISTORY = 10_000;

  const fanOut = (topic, frame) => {
    const set = subs.get(topic);
    if (!set) return;
    for (const res of set) res.write(frame);
  };
  const store = (topic, type, data) => {
    seq++;
    const frame = `id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    history.push({ seq, topic, frame });
    if (history.length > HISTORY) history.shift();
    return { id: String(seq), frame };
  };

  let pub;
  if (redisUrl) {
    const { default: Redis } = await import('ioredis');
    pub = new Redis(redisUrl, { lazyConnect: false });
    const sub = new Redis(redisUrl, { lazyConnect: false });
    await sub.subscribe(channel);
    sub.on('message', (_ch, text) => {
      const events = JSON.parse(text);
      for (const e of events) fanOut(e.topic, store(e.topic, e.type, e.data).frame);
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/events') {
      const topic = url.searchParams.get('topic') ?? '';
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
      });
      res.write('retry: 3000\n\n');
      const last = Number(req.headers['last-event-id'] ?? NaN);
      if (Number.isFinite(last)) {
        for (const h of history) if (h.seq > last && h.topic === topic) res.write(h.frame);
      }
      let set = subs.get(topic);
      if (!set) subs.set(topic, (set = new Set()));
      set.add(res);
      res.on('close', () => set.delete(res));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/events') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        let parsed;
        try {
          parsed = JSON.parse(body);
        } catch {
          res.writeHead(400).end();
          return;
        }
        const list = Array.isArray(parsed.events) ? parsed.events : [parsed];
        const events = list.map((e) => ({
          topic: e.topic,
          type: e.type ?? 'message',
          data: e.data,
        }));
        if (pub) {
          pub.publish(channel, JSON.stringify(events)).then(
            () => res.writeHead(202, { 'Content-Type': 'application/json' }).end('{}'),
            () => res.writeHead(503).end(),
          );
          return;
        }
        const ids = [];
        for (const e of events) {
          const { id, frame } = store(e.topic, e.type, e.data);
          ids.push(id);
          fanOut(e.topic, frame);
        }
        res.writeHead(202, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(parsed.events) ? { ids } : { id: ids[0] }));
      });
      return;
    }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 5000;
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}
