import { connect } from 'node:net';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry, type CloseReason, type SseConnection } from '@herald/streams';
import { OrdersFeedAppModule } from '../../examples/custom-sse/orders-feed.module';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

/** A stream endpoint under test: Herald's `GET /events`, or a team's `@StreamRoute` app. */
interface Endpoint {
  readonly name: string;
  /** Path streaming topic `orders/<id>`. */
  path(id: string): string;
  /** Starts the app serving the endpoint, or undefined to stream from the gateway itself. */
  start?: (env: Record<string, string>) => Promise<Gateway>;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'GET /events', path: (id) => `/events?topic=orders/${id}` },
  {
    name: 'GET /orders/:id/feed (examples/custom-sse)',
    path: (id) => `/orders/${id}/feed`,
    start: (env) =>
      startTestGateway(
        { ...env, INSTANCE_ID: 'orders-feed' },
        { module: (config) => OrdersFeedAppModule.forRoot(config) },
      ),
  },
];

const CAP = 128 * 1024;

interface Shed {
  readonly reason: string;
}
const subscriber = (sub: string, extra: Record<string, unknown> = {}) =>
  hs256(claims({ subscribe: ['orders/*'] }, { sub, ...extra }));
const admin = hs256(claims({ admin: true }, { sub: 'ops' }));

/**
 * The stream behaviour every stream endpoint inherits from Herald's pipeline, run against
 * `GET /events` and a team's own endpoint in a separate app beside a gateway on one Redis.
 */
describe.each(ENDPOINTS)('Stream endpoint $name (Redis, beside a gateway)', (endpoint) => {
  const redisReady = requireRedis();
  const prefix = uniqueKeyPrefix('endpoints');
  const env = {
    BROKER: 'redis',
    REDIS_URL: redisUrlForTests(),
    REDIS_KEY_PREFIX: prefix,
    INGEST_STREAM: `${prefix}ingest`,
    ANONYMOUS_TOPICS: '',
    MAX_CONNECTIONS_PER_USER: '2',
    HEARTBEAT_MS: '400',
    RETRY_MS: '200',
    TOKEN_EXPIRY_WARNING_MS: '1000',
    MAX_BUFFERED_BYTES: String(CAP),
  };
  let gateway: Gateway;
  let app: Gateway;
  let url: string;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    if (!redisReady()) return;
    gateway = await startTestGateway({ ...env, INSTANCE_ID: 'gateway' });
    app = endpoint.start ? await endpoint.start(env) : gateway;
    url = app.url;
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    if (app !== gateway) await app?.shutdown();
    await gateway?.shutdown();
    await deleteKeys(prefix);
  });

  const open = async (id: string, token?: string, headers: Record<string, string> = {}) => {
    const s = await openStream(url, endpoint.path(id), {
      headers: { ...(token === undefined ? {} : bearer(token)), ...headers },
    });
    streams.push(s);
    return s;
  };
  const publishTo = async (id: string, data: unknown): Promise<string> => {
    const res = await publish(gateway.url, { topic: `orders/${id}`, type: 'order.updated', data });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const listed = async () => {
    const res = await fetch(`${gateway.url}/admin/connections`, { headers: bearer(admin) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      connections: { id: string; sub: string | null; instance: string }[];
    };
    return body.connections;
  };

  it('should refuse with 401 without a token, 403 outside the grants and 400 for a bad cursor', async () => {
    const none = await fetch(`${url}${endpoint.path('1')}`, {
      headers: { Accept: 'text/event-stream' },
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await none.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    const other = hs256(claims({ subscribe: ['orders/7'] }, { sub: 'u-403' }));
    const denied = await fetch(`${url}${endpoint.path('1')}`, {
      headers: { Accept: 'text/event-stream', ...bearer(other) },
    });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    const bad = await fetch(`${url}${endpoint.path('1')}`, {
      headers: {
        Accept: 'text/event-stream',
        'Last-Event-ID': 'nope',
        ...bearer(subscriber('u-400')),
      },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: 400 });
  });

  it('should deliver to an EventSource what the gateway publishes, then resume after Last-Event-ID', async () => {
    const token = subscriber('u-live');
    const es = new EventSource(`${url}${endpoint.path('42')}`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init?.headers, ...bearer(token) } }),
    });
    const got: { id: string; type: string; data: string }[] = [];
    es.addEventListener('order.updated', (e) =>
      got.push({ id: e.lastEventId, type: e.type, data: e.data as string }),
    );
    try {
      await waitFor(() => es.readyState === EventSource.OPEN, 'EventSource open');
      await sleep(100);
      const ids = [await publishTo('42', { n: 1 }), await publishTo('43', { n: 2 })];
      ids.push(await publishTo('42', { n: 3 }));
      await waitFor(() => got.length >= 2, 'two events');
      expect(got.map((e) => e.id)).toEqual([ids[0], ids[2]]);
      expect(JSON.parse(got[0].data)).toEqual({ n: 1 });
      const later = [await publishTo('42', { n: 4 }), await publishTo('42', { n: 5 })];
      const resumed = await open('42', token, { 'Last-Event-ID': ids[2] });
      await resumed.waitForEvents(2);
      expect(resumed.dataEvents.map((e) => e.id)).toEqual(later);
    } finally {
      es.close();
    }
  });

  it('should send heartbeat comments on an idle stream', async () => {
    const s = await open('idle', subscriber('u-beat'));
    expect(s.status).toBe(200);
    expect(s.retries[0] ?? (await waitFor(() => s.retries[0], 'retry'))).toBe(200);
    await waitFor(() => s.comments.length >= 2, 'two heartbeats', 3000);
  });

  it('should warn with herald.token-expiring, then end at exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const s = await open('exp', subscriber('u-exp', { exp }));
    expect(s.status).toBe(200);
    await s.waitForEnd(8000);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(s.events.map((e) => e.event)).toContain('herald.token-expiring');
  });

  it('should shed past MAX_CONNECTIONS_PER_USER, counting the gateway and this endpoint together', async () => {
    const token = subscriber('u-cap');
    const onGateway = await openStream(gateway.url, '/events?topic=orders/cap', {
      headers: bearer(token),
    });
    streams.push(onGateway);
    const second = await open('cap', token);
    await waitFor(() => second.retries.length > 0, 'second stream opened');
    const third = await open('cap', token);
    await third.waitForEnd();
    const reasons = third.events.map((e) => [e.event, (JSON.parse(e.data) as Shed).reason]);
    expect(reasons).toEqual([['herald.shed', 'capacity']]);
    await second.close();
    await waitFor(async () => {
      const again = await open('cap', token);
      await waitFor(() => again.retries.length > 0 || again.ended, 'answer');
      await sleep(50);
      return !again.ended;
    }, 'admitted again once a stream closed');
  });

  it("should appear in the gateway's admin list with its instance and close on DELETE", async () => {
    const s = await open('admin', subscriber('u-admin'));
    const entry = await waitFor(
      async () => (await listed()).find((c) => c.sub === 'u-admin'),
      'listed',
    );
    expect(entry.instance).toBe(app.config.INSTANCE_ID);
    const res = await fetch(`${gateway.url}/admin/connections/${entry.id}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(res.status).toBe(204);
    await s.waitForEnd();
    expect(s.failure).toBeUndefined();
  });

  it("should close on the gateway's revocation and answer 204 to the revoked EventSource", async () => {
    const token = subscriber('u-revoked', { iat: Math.floor(Date.now() / 1000) - 5 });
    const s = await open('rev', token);
    await waitFor(async () => (await listed()).some((c) => c.sub === 'u-revoked'), 'listed');
    const res = await fetch(`${gateway.url}/admin/revocations`, {
      method: 'POST',
      headers: { ...bearer(admin), 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub: 'u-revoked' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ closed: 1 });
    await s.waitForEnd();
    const again = await fetch(`${url}${endpoint.path('rev')}`, {
      headers: { Accept: 'text/event-stream', ...bearer(token) },
    });
    expect(again.status).toBe(204);
  });

  it('should cut a client that stops reading as a slow consumer', async () => {
    const registry = app.app.get(ConnectionRegistry);
    const known = new Set([...registry.values()].map((c) => c.id));
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined);
    socket.write(
      `GET ${endpoint.path('flood')} HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n` +
        `Authorization: Bearer ${subscriber('u-slow')}\r\n\r\n`,
    );
    const slow: SseConnection = await waitFor(
      () => [...registry.values()].find((c) => !known.has(c.id)),
      'slow stream registered',
    );
    let reason: CloseReason | undefined;
    slow.onClose((r) => (reason = r));
    const payload = 'x'.repeat(16 * 1024);
    for (let n = 0; n < 4000 && reason === undefined; n++) await publishTo('flood', { n, payload });
    await waitFor(() => reason, 'slow consumer cut', 10_000);
    expect(reason).toBe('slow-consumer');
    socket.destroy();
  });

  it('should drain with herald.drain when the app shuts down', async () => {
    const s = await open('drain', subscriber('u-drain'));
    await waitFor(() => s.retries.length > 0, 'open');
    await app.shutdown();
    await s.waitForEnd();
    expect(s.events.map((e) => e.event)).toContain('herald.drain');
  });
});
