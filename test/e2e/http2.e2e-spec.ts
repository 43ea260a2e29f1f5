import { readFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { constants, type ClientHttp2Session } from 'node:http2';
import { createGunzip } from 'node:zlib';
import { EventSource } from 'eventsource';
import { createParser } from 'eventsource-parser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StreamsService, type CloseReason, type SseConnection } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { connectH2, h2Request, openH2Stream, type H2SseStream } from '../support/h2-client';
import { testTls } from '../support/tls';
import { PUBLISHER_TOKEN, bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

const FORBIDDEN = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

describe('HTTP/2 (e2e, real node:http2 client over TLS with ALPN)', () => {
  const tls = testTls('herald-h2-');
  const ca = readFileSync(tls.cert);
  const sessions: ClientHttp2Session[] = [];

  async function session(gw: Gateway, options = {}): Promise<ClientHttp2Session> {
    const s = await connectH2(gw.url, ca, options);
    sessions.push(s);
    return s;
  }

  function publishH2(s: ClientHttp2Session, body: unknown) {
    return h2Request(
      s,
      'POST',
      '/events',
      { 'content-type': 'application/json', ...bearer(PUBLISHER_TOKEN) },
      JSON.stringify(body),
    );
  }

  function tlsGateway(env: Record<string, string> = {}): Promise<Gateway> {
    return startTestGateway({ TLS_CERT_FILE: tls.cert, TLS_KEY_FILE: tls.key, ...env });
  }

  afterEach(() => {
    for (const s of sessions.splice(0)) s.destroy();
  });

  afterAll(async () => {
    await tls.close();
  });

  describe('one gateway', () => {
    let gw: Gateway;
    let streams: StreamsService;
    beforeAll(async () => {
      gw = await tlsGateway({ HEARTBEAT_MS: '200', RETRY_MS: '1500' });
      streams = gw.app.get(StreamsService);
    });
    afterAll(async () => {
      await gw.shutdown();
    });

    it('should negotiate h2 by ALPN and serve health, the demo page and admin over it', async () => {
      const s = await session(gw);
      expect(s.alpnProtocol).toBe('h2');
      // The per-connection stream cap Herald announces (SETTINGS_MAX_CONCURRENT_STREAMS).
      await waitFor(() => s.remoteSettings.maxConcurrentStreams === 128, 'server settings');
      const health = await h2Request(s, 'GET', '/health/ready');
      expect(health.status).toBe(200);
      expect(health.headers['strict-transport-security']).toBeDefined();
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
      const page = await h2Request(s, 'GET', '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain('<html');
      const admin = await h2Request(s, 'GET', '/admin/connections');
      expect(admin.status).toBe(401);
      expect(JSON.parse(admin.body)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      const missing = await h2Request(s, 'GET', '/nope');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ statusCode: 404 });
      for (const r of [health, page, admin, missing]) {
        for (const name of FORBIDDEN) expect(r.headers[name]).toBeUndefined();
      }
    });

    it('should carry 40 concurrent SSE streams on one session: headers, retry, heartbeats, events', async () => {
      const s = await session(gw);
      const before = gw.app.get(StreamsService).registry.size;
      const clients: H2SseStream[] = Array.from({ length: 40 }, (_, i) =>
        openH2Stream(s, `/events?topic=h2/${i % 4}`),
      );
      await Promise.all(clients.map((c) => c.response));
      await waitFor(() => streams.registry.size >= before + 40, '40 streams registered');
      for (const c of clients) {
        expect(c.headers[':status']).toBe(200);
        expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(c.headers['cache-control']).toBe('no-cache, no-transform');
        expect(c.headers['x-accel-buffering']).toBe('no');
        for (const name of FORBIDDEN) expect(c.headers[name]).toBeUndefined();
      }
      // retry: at once, before any event.
      await waitFor(() => clients.every((c) => c.retries.length > 0), 'retry on every stream');
      expect(clients.every((c) => c.retries[0] === 1500)).toBe(true);
      // Heartbeats on an idle stream.
      await waitFor(() => clients.every((c) => c.comments.length >= 2), 'two heartbeats each');
      const published: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await publishH2(s, { topic: `h2/${i % 4}`, data: { i } });
        expect(res.status).toBe(202);
        published.push((JSON.parse(res.body) as { id: string }).id);
      }
      for (const [i, c] of clients.entries()) {
        const want = [0, 1, 2, 3, 4].filter((n) => n % 4 === i % 4).map((n) => published[n]);
        await waitFor(() => c.dataEvents.length >= want.length, `events on stream ${i}`);
        expect(c.dataEvents.map((e) => e.id)).toEqual(want);
      }
      expect(JSON.parse(clients[1].dataEvents[0].data)).toEqual({ i: 1 });
      for (const c of clients) c.close();
      await Promise.all(clients.map((c) => c.closed));
      await waitFor(() => streams.registry.size === before, 'streams unregistered on close');
    });

    it('should refuse bad publishes with JSON errors, answer HEAD, and list and close streams from admin over h2', async () => {
      const s = await session(gw);
      const auth = bearer(PUBLISHER_TOKEN);
      const notJson = await h2Request(
        s,
        'POST',
        '/events',
        { 'content-type': 'text/plain', ...auth },
        'x',
      );
      expect(notJson.status).toBe(415);
      expect(JSON.parse(notJson.body)).toMatchObject({ statusCode: 415 });
      const broken = await h2Request(
        s,
        'POST',
        '/events',
        { 'content-type': 'application/json', ...auth },
        '{"topic":',
      );
      expect(broken.status).toBe(400);
      expect(JSON.parse(broken.body)).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const anonymous = await h2Request(
        s,
        'POST',
        '/events',
        { 'content-type': 'application/json' },
        '{"topic":"a","data":1}',
      );
      expect(anonymous.status).toBe(401);
      for (const r of [notJson, broken, anonymous]) {
        for (const name of FORBIDDEN) expect(r.headers[name]).toBeUndefined();
      }
      // The session survived the refusals.
      const head = await h2Request(s, 'HEAD', '/events?topic=h2/head');
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      for (const name of FORBIDDEN) expect(head.headers[name]).toBeUndefined();

      const stream = openH2Stream(s, '/events?topic=h2/admin');
      await waitFor(() => stream.retries.length > 0, 'stream open');
      const adminToken = bearer(hs256(claims({ admin: true }, { sub: 'ops' })));
      const list = await h2Request(s, 'GET', '/admin/connections', adminToken);
      expect(list.status).toBe(200);
      const listed = (JSON.parse(list.body) as { connections: { id: string; topics: string[] }[] })
        .connections;
      const mine = listed.find((c) => c.topics.includes('h2/admin'));
      expect(mine, 'the h2 stream is listed').toBeDefined();
      const closed = await h2Request(s, 'DELETE', `/admin/connections/${mine!.id}`, adminToken);
      expect(closed.status).toBeLessThan(300);
      await stream.closed;
      expect(s.destroyed).toBe(false);
    });

    it('should hold a connection to 128 concurrent streams: more wait until one closes', async () => {
      const s = await session(gw);
      const before = streams.registry.size;
      const clients = Array.from({ length: 130 }, (_, i) =>
        openH2Stream(s, `/events?topic=h2/many/${i}`),
      );
      await waitFor(() => streams.registry.size >= before + 128, '128 streams open', 15_000);
      const open = () => clients.filter((c) => c.retries.length > 0);
      await waitFor(() => open().length === 128, '128 streams answered', 15_000);
      // The other two are queued by the client (SETTINGS_MAX_CONCURRENT_STREAMS), not failed.
      expect(streams.registry.size).toBe(before + 128);
      expect(clients.filter((c) => c.ended)).toHaveLength(0);
      const [a, b] = open();
      // NO_ERROR resets (Node's default for close()) while heartbeats are being written: the
      // server must still free the streams (it would not, by itself, with a write pending).
      a.close();
      b.close();
      // The queued two go out as soon as the client counts the slots free. Node frees a server
      // stream's slot a tick after its reset arrives, so a request in the same read may be
      // refused with ENHANCE_YOUR_CALM (an EventSource reconnects after `retry`): each of the
      // two is either opened or refused that way, never left hanging.
      const queued = clients.slice(128);
      await waitFor(
        () => queued.every((c) => c.retries.length > 0 || c.ended),
        'the queued two answered',
      );
      for (const c of queued) {
        if (c.retries.length === 0) expect(c.rstCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
      for (const c of clients) c.close();
      await waitFor(() => streams.registry.size === before, 'all closed', 15_000);
      // The connection is intact: a new stream opens on it.
      const again = openH2Stream(s, '/events?topic=h2/many/again');
      await waitFor(() => again.retries.length > 0, 'a new stream on the same connection');
      again.close();
    });

    it('should free a stream the client resets with NO_ERROR while a write is pending', async () => {
      // A tiny stream window: the server's write of the event stays pending.
      const s = await session(gw, { settings: { initialWindowSize: 256 } });
      const known = new Set([...streams.registry.values()].map((c) => c.id));
      const c = openH2Stream(s, '/events?topic=h2/reset');
      const conn: SseConnection = await waitFor(
        () => [...streams.registry.values()].find((x) => !known.has(x.id)),
        'stream registered',
      );
      let reason: CloseReason | undefined;
      conn.onClose((r) => (reason = r));
      const res = await publishH2(s, { topic: 'h2/reset', data: 'x'.repeat(4096) });
      expect(res.status).toBe(202);
      await waitFor(() => conn.unsentBytes > 0, 'a write pending on the stream');
      c.stream.close(constants.NGHTTP2_NO_ERROR);
      await waitFor(() => reason !== undefined, 'the server closed the stream');
      expect(reason).toBe('client');
      expect(streams.registry.size).toBe(known.size);
    });

    it('should resume with Last-Event-ID over h2', async () => {
      const s = await session(gw);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await publishH2(s, { topic: 'h2/resume', data: i });
        ids.push((JSON.parse(res.body) as { id: string }).id);
      }
      const c = openH2Stream(s, '/events?topic=h2/resume', { 'last-event-id': ids[1] });
      await waitFor(() => c.dataEvents.length >= 2, 'replay after the cursor');
      expect(c.dataEvents.map((e) => e.id)).toEqual(ids.slice(2));
      c.close();
    });

    it('should still serve HTTP/1.1 on the same port (an eventsource client over https)', async () => {
      const es = new EventSource(`${gw.url}/events?topic=h2/h1`, {
        fetch: (input, init) => tls.fetch(String(input), init),
      });
      try {
        const got: string[] = [];
        es.addEventListener('message', (e) => got.push(String(e.data)));
        await new Promise<void>((resolve, reject) => {
          es.onopen = () => resolve();
          es.onerror = (e) => reject(new Error(`EventSource error: ${e.message ?? ''}`));
        });
        const res = await tls.fetch(`${gw.url}/events`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...bearer(PUBLISHER_TOKEN) },
          body: JSON.stringify({ topic: 'h2/h1', data: 'over h1' }),
        });
        expect(res.status).toBe(202);
        await waitFor(() => got.length > 0, 'event over HTTP/1.1');
        expect(got[0]).toBe('"over h1"');
      } finally {
        es.close();
      }
    });
  });

  it('should count h2 streams, not connections, against MAX_CONNECTIONS_PER_USER', async () => {
    const gw = await tlsGateway({ MAX_CONNECTIONS_PER_USER: '3' });
    try {
      const s = await session(gw);
      const erin = bearer(hs256(claims({ subscribe: ['**'] }, { sub: 'erin' })));
      const open = Array.from({ length: 3 }, () => openH2Stream(s, '/events?topic=cap', erin));
      await waitFor(() => open.every((c) => c.retries.length > 0), 'three streams open');
      const fourth = openH2Stream(s, '/events?topic=cap', erin);
      await fourth.closed;
      expect(fourth.headers[':status']).toBe(200);
      const shed = fourth.events.find((e) => e.event === 'herald.shed');
      expect(shed, 'the 4th stream on the same session is shed').toBeDefined();
      expect(JSON.parse(shed!.data)).toMatchObject({ reason: 'capacity' });
      for (const name of FORBIDDEN) expect(fourth.headers[name]).toBeUndefined();
      // The session survives the refusal, and a freed slot admits again on it.
      open[0].close();
      await open[0].closed;
      await waitFor(async () => {
        const again = openH2Stream(s, '/events?topic=cap', erin);
        await waitFor(() => again.retries.length > 0 || again.ended, 'answer');
        const admitted = !again.events.some((e) => e.event === 'herald.shed');
        if (!admitted) await again.closed;
        return admitted;
      }, 'a stream admitted after a slot is freed');
    } finally {
      await gw.shutdown();
    }
  });

  it('should cut a stream whose reader stops (HTTP/2 flow control) at MAX_BUFFERED_BYTES while a sibling stream on the same session gets every event', async () => {
    const CAP = 64 * 1024;
    const gw = await tlsGateway({ MAX_BUFFERED_BYTES: String(CAP) });
    try {
      const streams = gw.app.get(StreamsService);
      // A small stream window: the server can put at most 16 KiB in flight on a stalled stream.
      const s = await session(gw, { settings: { initialWindowSize: 16 * 1024 } });
      const fast = openH2Stream(s, '/events?topic=flood');
      await waitFor(() => fast.retries.length > 0, 'fast stream open');
      const known = new Set([...streams.registry.values()].map((c) => c.id));
      const slow = openH2Stream(s, '/events?topic=flood');
      await slow.response;
      slow.stream.pause();
      const conn: SseConnection = await waitFor(
        () => [...streams.registry.values()].find((c) => !known.has(c.id)),
        'slow stream registered',
      );
      let reason: CloseReason | undefined;
      conn.onClose((r) => (reason = r));
      const publisher = await session(gw);
      const payload = 'x'.repeat(4 * 1024);
      const published: string[] = [];
      let maxUnsent = 0;
      for (let i = 0; i < 200 && reason === undefined; i++) {
        const res = await publishH2(publisher, { topic: 'flood', data: payload });
        expect(res.status).toBe(202);
        published.push((JSON.parse(res.body) as { id: string }).id);
        maxUnsent = Math.max(maxUnsent, conn.unsentBytes);
      }
      await waitFor(() => reason !== undefined, 'slow stream cut');
      expect(reason).toBe('slow-consumer');
      // Never more than the cap plus one frame held for it.
      expect(maxUnsent).toBeLessThanOrEqual(CAP + payload.length + 256);
      await waitFor(() => slow.ended, 'slow stream reset');
      // Reset with CANCEL: only that stream, and not mistaken for a clean end.
      expect(slow.rstCode).toBe(constants.NGHTTP2_CANCEL);
      // The session and the sibling stream are unharmed.
      await waitFor(() => fast.dataEvents.length >= published.length, 'fast stream got all');
      expect(fast.dataEvents.map((e) => e.id)).toEqual(published);
      expect(s.destroyed).toBe(false);
    } finally {
      await gw.shutdown();
    }
  });

  it('should cut every stream of a connection whose client stops reading the socket at all', async () => {
    const CAP = 64 * 1024;
    const gw = await tlsGateway({ MAX_BUFFERED_BYTES: String(CAP) });
    // A TCP relay between client and Herald that can stop reading from Herald (a stalled
    // network or a frozen client): nothing on the connection is read, not even WINDOW_UPDATEs.
    let stalled = false;
    const upstreams: Socket[] = [];
    const relay = createServer((client) => {
      const upstream = netConnect(Number(new URL(gw.url).port), '127.0.0.1');
      upstreams.push(upstream);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (!stalled) client.write(chunk);
      });
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayPort = (relay.address() as AddressInfo).port;
    try {
      const streams = gw.app.get(StreamsService);
      const s = await session(gw, {
        createConnection: () =>
          tlsConnect({ port: relayPort, host: '127.0.0.1', ca, ALPNProtocols: ['h2'] }),
      });
      const clients = [0, 1, 2].map(() => openH2Stream(s, '/events?topic=stall'));
      await waitFor(() => clients.every((c) => c.retries.length > 0), 'streams open');
      const conns = [...streams.registry.values()].filter((c) => c.meta.topics.includes('stall'));
      expect(conns).toHaveLength(3);
      const reasons: CloseReason[] = [];
      for (const c of conns) c.onClose((r) => reasons.push(r));
      stalled = true;
      for (const u of upstreams) u.pause();
      const publisher = await session(gw);
      const payload = 'x'.repeat(16 * 1024);
      let maxUnsent = 0;
      for (let i = 0; i < 400 && reasons.length < 3; i++) {
        const res = await publishH2(publisher, { topic: 'stall', data: payload });
        expect(res.status).toBe(202);
        for (const c of conns) maxUnsent = Math.max(maxUnsent, c.unsentBytes);
      }
      await waitFor(() => reasons.length === 3, 'all three streams cut');
      expect(reasons).toEqual(['slow-consumer', 'slow-consumer', 'slow-consumer']);
      expect(maxUnsent).toBeLessThanOrEqual(CAP + payload.length + 256);
    } finally {
      for (const u of upstreams) u.destroy();
      relay.close();
      await gw.shutdown();
    }
  });

  it('should gzip an h2 stream for a client that accepts it, and refuse an oversized publish without breaking the session', async () => {
    const gw = await tlsGateway({ COMPRESSION: 'gzip', MAX_EVENT_BYTES: '1024' });
    try {
      const s = await session(gw);
      const stream = s.request({
        ':path': '/events?topic=h2/gz',
        accept: 'text/event-stream',
        'accept-encoding': 'gzip',
      });
      const headers = await new Promise<Record<string, unknown>>((r) => stream.once('response', r));
      expect(headers['content-encoding']).toBe('gzip');
      expect(headers.vary).toBe('Accept-Encoding');
      const ids: string[] = [];
      const parser = createParser({ onEvent: (e) => ids.push(e.id ?? '') });
      const text = stream.pipe(createGunzip());
      text.setEncoding('utf8');
      text.on('data', (chunk: string) => parser.feed(chunk));
      text.on('error', () => undefined);
      const published: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await publishH2(s, { topic: 'h2/gz', data: { i, pad: 'y'.repeat(200) } });
        published.push((JSON.parse(res.body) as { id: string }).id);
      }
      await waitFor(() => ids.length >= 3, 'three gzip events, each flushed');
      expect(ids).toEqual(published);
      // Far past the body limit: 413 as JSON; the session carries on.
      const big = await h2Request(
        s,
        'POST',
        '/events',
        { 'content-type': 'application/json', ...bearer(PUBLISHER_TOKEN) },
        JSON.stringify({ topic: 'h2/gz', data: 'z'.repeat(400_000) }),
      );
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body)).toMatchObject({ statusCode: 413 });
      // The unread upload is stopped (RST_STREAM NO_ERROR after the response, HTTP/1.1's
      // `Connection: close`), so the stream does not stay half-open on the server.
      await waitFor(() => big.stream.rstCode !== undefined, 'the server reset the unread request');
      expect(big.stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
      big.stream.destroy();
      const after = await publishH2(s, { topic: 'h2/gz', data: 'after' });
      expect(after.status).toBe(202);
      stream.close();
    } finally {
      await gw.shutdown();
    }
  });

  it('should drain h2 streams with herald.drain, end them cleanly, and send GOAWAY', async () => {
    const gw = await tlsGateway({ SHUTDOWN_GRACE_MS: '500' });
    const s = await session(gw);
    const clients = Array.from({ length: 10 }, () => openH2Stream(s, '/events?topic=bye'));
    await waitFor(() => clients.every((c) => c.retries.length > 0), 'streams open');
    let goaway = false;
    s.once('goaway', () => (goaway = true));
    await gw.shutdown();
    await Promise.all(clients.map((c) => c.closed));
    for (const c of clients) {
      const drain = c.events.find((e) => e.event === 'herald.drain');
      expect(drain, 'each stream gets herald.drain').toBeDefined();
      expect(JSON.parse(drain!.data)).toMatchObject({ reason: 'shutdown' });
      expect(c.rstCode, 'ended, not reset').toBeUndefined();
    }
    await waitFor(() => goaway, 'GOAWAY from the server');
  });
});
