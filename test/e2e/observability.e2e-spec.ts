import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamsService } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import {
  requireRedis,
  startRedisServer,
  uniqueKeyPrefix,
  type RedisServer,
} from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { LogCapture, scrape, value, type Samples } from '../support/telemetry';
import { claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

const METRICS_TOKEN = 'metrics-token-0123456789';

/** Every `herald_*` series name with its labels (the values are ignored). */
function heraldSeries(samples: Samples): string[] {
  return [...samples.keys()].filter((k) => k.startsWith('herald_')).sort();
}

describe('Observability', () => {
  describe('metrics', () => {
    let gw: Gateway;
    const streams: SseStream[] = [];
    const sockets: Socket[] = [];
    const metrics = () => scrape(gw.url, METRICS_TOKEN);
    const open = async (path: string, headers?: Record<string, string>) => {
      const s = await openStream(gw.url, path, { headers });
      streams.push(s);
      return s;
    };

    beforeAll(async () => {
      gw = await startTestGateway({
        METRICS_TOKEN,
        MAX_BUFFERED_BYTES: '65536',
        HISTORY_SIZE: '50',
        HEARTBEAT_MS: '5000',
      });
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      for (const s of streams) await s.close();
      await gw.app.close();
    });

    it('should answer 401 without the METRICS_TOKEN and Prometheus text with it', async () => {
      expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${gw.url}/metrics`, { headers: { Authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      const res = await fetch(`${gw.url}/metrics`, {
        headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      for (const name of [
        'herald_connections',
        'herald_connections_opened_total',
        'herald_events_published_total',
        'herald_events_delivered_total',
        'herald_delivery_latency_seconds',
        'herald_slow_consumer_disconnects_total',
        'herald_replays_total',
        'herald_shed_total',
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
        'herald_heap_limit_bytes',
      ]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toMatch(/# TYPE herald_delivery_latency_seconds histogram/);
      expect(text).toMatch(/herald_broker_up\{instance_id="[^"]+"\} 1/);
    });

    it('should move every contract metric through subscribe, publish, resume, refusal, slow consumer and shed', async () => {
      const before = await metrics();

      // subscribe + publish + deliver
      const s = await open('/events?topic=m/a');
      await waitFor(
        async () =>
          value(await metrics(), 'herald_connections') === value(before, 'herald_connections') + 1,
        'connections gauge up',
      );
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await publish(gw.url, { topic: 'm/a', data: { i } });
        expect(r.status).toBe(202);
        ids.push(r.body.id as string);
      }
      await s.waitForEvents(3);

      // resume (ok) and an unknown cursor (reset)
      const resumed = await open('/events?topic=m/a', { 'Last-Event-ID': ids[0] });
      await resumed.waitForEvents(2);
      const epochless = ids[0].replace(/^m\.[^.]+\./, 'm.zzzzzz.');
      const reset = await open('/events?topic=m/a', { 'Last-Event-ID': epochless });
      await reset.waitForEvents(1);
      expect(reset.events[0].event).toBe('herald.reset');

      // refused before the stream opens
      expect((await fetch(`${gw.url}/events?topic=bad%20topic`)).status).toBe(400);

      // a slow consumer: a raw socket that never reads
      const slowBefore = value(await metrics(), 'herald_slow_consumer_disconnects_total');
      const address = new URL(gw.url);
      const sock = connect(Number(address.port), address.hostname);
      sockets.push(sock);
      sock.write(
        'GET /events?topic=m/slow HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n',
      );
      sock.pause();
      await waitFor(
        async () =>
          value(await metrics(), 'herald_connections') === value(before, 'herald_connections') + 4,
        'slow stream open',
      );
      const big = 'x'.repeat(60_000);
      for (let batch = 0; batch < 40; batch++) {
        const events = Array.from({ length: 20 }, () => ({ topic: 'm/slow', data: big }));
        expect((await publish(gw.url, { events })).status).toBe(202);
        if (value(await metrics(), 'herald_slow_consumer_disconnects_total') > slowBefore) break;
      }

      // shed: draining refuses new streams
      void gw.app.get(StreamsService).drain();
      const shed = await open('/events?topic=m/a');
      await shed.waitForEvents(1);
      expect(shed.events[0].event).toBe('herald.shed');

      const after = await metrics();
      const delta = (name: string, labels?: Record<string, string>) =>
        value(after, name, labels) - value(before, name, labels);
      expect(delta('herald_connections_opened_total', { result: 'accepted' })).toBe(4);
      expect(delta('herald_connections_opened_total', { result: 'refused' })).toBe(1);
      expect(delta('herald_connections_opened_total', { result: 'shed' })).toBe(1);
      expect(delta('herald_shed_total', { reason: 'draining' })).toBe(1);
      expect(delta('herald_events_published_total')).toBeGreaterThanOrEqual(3 + 20);
      // 3 live to s, 2 replayed, plus what the slow socket took before it was cut
      expect(delta('herald_events_delivered_total')).toBeGreaterThanOrEqual(5);
      expect(delta('herald_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(delta('herald_replays_total', { result: 'ok' })).toBe(1);
      expect(delta('herald_replays_total', { result: 'unknown-cursor' })).toBe(1);
      expect(delta('herald_slow_consumer_disconnects_total')).toBe(1);
      expect(delta('herald_connections_closed_total', { reason: 'slow-consumer' })).toBe(1);
      expect(
        delta('herald_http_requests_total', { route: 'publish', code_class: '2xx' }),
      ).toBeGreaterThanOrEqual(4);

      // drain closes the rest: the gauge returns to its baseline
      await waitFor(
        async () =>
          value(await metrics(), 'herald_connections') === value(before, 'herald_connections'),
        'connections gauge back to baseline',
      );
      const ready = await fetch(`${gw.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    });
  });

  describe('series cardinality', () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway({ HISTORY_SIZE: '1' });
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it('should add no series when publishing to 10,000 distinct topics', async () => {
      const s = await openStream(gw.url, '/events?topic=card/**');
      await publish(gw.url, { topic: 'card/warmup', data: 0 });
      await s.waitForEvents(1);
      await publish(gw.url, { topic: 'bad topic', data: 0 });
      await scrape(gw.url);
      const before = heraldSeries(await scrape(gw.url));
      for (let b = 0; b < 100; b++) {
        const events = Array.from({ length: 100 }, (_, i) => ({
          topic: `card/${b}/${i}`,
          data: i,
        }));
        expect((await publish(gw.url, { events })).status).toBe(202);
      }
      await s.waitForEvents(10_001, 20_000);
      const after = await scrape(gw.url);
      expect(heraldSeries(after)).toEqual(before);
      expect(value(after, 'herald_events_published_total')).toBe(10_001);
      await s.close();
    });
  });

  describe('readiness', () => {
    /** A private redis-server for this suite (port range 6420-6429), killed mid-test. */
    const PORT = 6420;
    const redisReady = requireRedis();
    let redis: RedisServer | undefined;
    let gw: Gateway | undefined;
    beforeAll(async () => {
      if (!redisReady()) return;
      redis = await startRedisServer(PORT);
      gw = await startTestGateway({
        BROKER: 'redis',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: uniqueKeyPrefix('readiness'),
      });
    });
    afterAll(async () => {
      await gw?.app.close();
      await redis?.stop();
    });

    it('should answer ready 503 and live 200 when Redis goes away', async () => {
      const g = gw as Gateway;
      await waitFor(async () => (await fetch(`${g.url}/health/ready`)).status === 200, 'ready');
      expect(value(await scrape(g.url), 'herald_broker_up')).toBe(1);
      await redis?.stop('SIGKILL');
      await waitFor(async () => (await fetch(`${g.url}/health/ready`)).status === 503, '503');
      expect((await fetch(`${g.url}/health/live`)).status).toBe(200);
      for (const path of ['/health/ready', '/health']) {
        const res = await fetch(`${g.url}${path}`);
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({
          status: 'error',
          error: { broker: { status: 'down' } },
          info: { streams: { status: 'up' }, eventLoop: { status: 'up' } },
        });
      }
      expect(value(await scrape(g.url), 'herald_broker_up')).toBe(0);
    });
  });

  describe('logs', () => {
    let gw: Gateway;
    const logs = new LogCapture();
    // Real signed tokens (the header one wins and must be valid); every one is a secret.
    const token = (sub: string, grants: { subscribe?: string[]; publish?: string[] }) =>
      hs256(claims(grants, { sub }));
    const secrets = {
      header: token('hdr-secret-0a1b2c3d4e', { subscribe: ['secure/**'] }),
      cookie: token('cookie-secret-5f6a7b8c', { subscribe: ['secure/**'] }),
      query: token('query-secret-9d0e1f2a', { subscribe: ['secure/**'] }),
      jwt: token('jwt-secret-publisher', { publish: ['secure/**'] }),
      password: 'pw-secret-hunter2',
      card: '4111111111111111',
    };

    beforeAll(async () => {
      gw = await startTestGateway({ LOG_LEVEL: 'trace' }, { logDestination: logs });
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it('should keep every secret out of logs and error bodies and redact payloads for subscribers', async () => {
      const s = await openStream(gw.url, `/events?topic=secure/a&access_token=${secrets.query}`, {
        headers: {
          Authorization: `Bearer ${secrets.header}`,
          Cookie: `herald_token=${secrets.cookie}; other=1`,
          'X-Request-Id': 'client-req-42',
        },
      });
      expect(s.headers.get('x-request-id')).toBe('client-req-42');
      const r = await publish(
        gw.url,
        {
          topic: 'secure/a',
          data: { user: 'ann', password: secrets.password, pay: [{ card_number: secrets.card }] },
        },
        { Authorization: `Bearer ${secrets.jwt}` },
      );
      expect(r.status).toBe(202);
      const [event] = await s.waitForEvents(1);
      expect(JSON.parse(event.data)).toEqual({
        user: 'ann',
        password: '[REDACTED]',
        pay: [{ card_number: '[REDACTED]' }],
      });
      // refusals with a token in the query: neither the body nor the log carries it
      const bad = await fetch(`${gw.url}/events?topic=bad%20topic&access_token=${secrets.query}`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).not.toContain(secrets.query);
      const missing = await fetch(`${gw.url}/nowhere?access_token=${secrets.query}`, {
        headers: { Cookie: `herald_token=${secrets.cookie}`, 'X-Request-Id': 'bad id with spaces' },
      });
      expect(missing.status).toBe(404);
      expect(await missing.text()).not.toContain(secrets.query);
      expect(missing.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      await s.close();

      await waitFor(
        () => logs.records().some((l) => l.msg === 'stream closed'),
        'stream closed log line',
      );
      const text = logs.text;
      for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
      const records = logs.records();
      const requests = records.filter((l) => l.msg === 'request completed');
      expect(requests.length).toBeGreaterThanOrEqual(4);
      for (const line of requests) expect(line.reqId).toEqual(expect.any(String));
      // The stream's request line is logged with its query token removed (auth strips it) or redacted.
      const streamLine = requests.find((l) => String(l.url).includes('secure'));
      expect(streamLine, JSON.stringify(requests.map((l) => l.url))).toBeDefined();
      expect(String(streamLine?.url)).not.toMatch(/access_token=(?!\[REDACTED\])/);
      const opened = records.find((l) => l.msg === 'stream opened');
      expect(opened).toMatchObject({ reqId: 'client-req-42', level: 'info', context: 'Streams' });
      const closed = records.find((l) => l.msg === 'stream closed');
      expect(closed).toMatchObject({ reqId: 'client-req-42', reason: 'client' });
      expect(closed?.durationMs).toEqual(expect.any(Number));
    });
  });
});
