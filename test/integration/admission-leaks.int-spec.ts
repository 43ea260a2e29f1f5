import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '@herald/broker';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { openStream, publish } from '../support/sse-client';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { scrape, value } from '../support/telemetry';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

/** Private proxy port of this suite (6450-6459 belong to the admission/fault suites). */
const PROXY_PORT = 6452;
/** Each direction: about 250 ms per Redis round trip. */
const ONE_WAY_MS = 125;

/**
 * Sends one stream request on a raw socket and destroys the socket `leaveAfterMs` later, wherever
 * the gateway is by then: in the guard's revocation check, the connect-rate take, the lease
 * acquire, the post-admission revocation check, or the replay of an open stream.
 */
function leaveAfter(
  port: number,
  path: string,
  token: string,
  leaveAfterMs: number,
  cursor?: string,
) {
  return new Promise<void>((done) => {
    const socket = connect(port, '127.0.0.1');
    const finish = () => {
      socket.destroy();
      done();
    };
    socket.on('error', finish);
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n` +
          `Authorization: Bearer ${token}\r\n` +
          (cursor === undefined ? '' : `Last-Event-ID: ${cursor}\r\n`) +
          '\r\n',
      );
      setTimeout(finish, leaveAfterMs);
    });
  });
}

/**
 * RELIABILITY 36 / issue 11 defect 5: with Redis ~250 ms away, a client that leaves at any await
 * on the way to opening its stream must leave nothing behind (registry entry, admin listing,
 * connections gauge, per-user lease, broker subscription).
 */
describe('Clients that leave during admission, with a slow Redis', () => {
  requireRedis();
  let proxy: TcpProxy;
  let gw: Gateway;
  let redis: Redis;
  const prefix = uniqueKeyPrefix('leaks');
  const sub = 'leaver';
  const token = hs256(claims({ subscribe: ['leaks/**'] }, { sub }));
  const admin = hs256(claims({ admin: true }, { sub: 'ops' }));
  const leaseKey = `${prefix}limits:{leases}:lease:user:${sub}`;

  beforeAll(async () => {
    proxy = await startTcpProxy({
      targetPort: 6379,
      port: PROXY_PORT,
      upstreamDelayMs: ONE_WAY_MS,
      downstreamDelayMs: ONE_WAY_MS,
    });
    redis = new Redis(redisUrlForTests());
    gw = await startTestGateway({
      BROKER: 'redis',
      REDIS_URL: proxy.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      ANONYMOUS_TOPICS: '',
      MAX_CONNECTIONS_PER_USER: '100',
      INSTANCE_ID: 'leaks-1',
    });
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`)).status === 200,
      'gateway ready',
      15_000,
    );
  });
  afterAll(async () => {
    await gw?.app.close();
    await proxy?.stop();
    await deleteKeys(prefix);
    redis?.disconnect();
  });

  it('should free slot, lease, registry entry and subscription of every client that left on the way', async () => {
    const port = Number(new URL(gw.url).port);
    const broker = gw.app.get(Broker);
    const registry = gw.app.get(ConnectionRegistry);
    const baseSubs = broker.stats().subscriptions;
    // A cursor so that some clients also leave during their replay.
    const first = await publish(gw.url, { topic: 'leaks/a', data: { n: 0 } });
    expect(first.status).toBe(202);
    for (let n = 1; n <= 5; n++) await publish(gw.url, { topic: 'leaks/a', data: { n } });
    const cursor = String(first.body.id);
    // Leave every 10 ms from 20 ms to 1.4 s after the request: across the guard's revocation
    // check (~250 ms), the rate take and lease acquire (~500 ms), the revocation re-check
    // (~250 ms) and, with a cursor, the replay.
    const leaves: Promise<void>[] = [];
    for (let at = 20, i = 0; at <= 1400; at += 10, i++) {
      leaves.push(
        i % 2 === 0
          ? leaveAfter(port, '/events?topic=leaks/a', token, at)
          : leaveAfter(port, '/events?topic=leaks/a&topic=leaks/b', token, at, cursor),
      );
      // Paced so that fewer than the cap are in flight at once: every one is admitted, not shed.
      await sleep(12);
    }
    await Promise.all(leaves);
    // Whatever is still in flight through the slow Redis settles within a few round trips.
    await waitFor(() => registry.size === 0, 'registry empty', 10_000, 50);
    await waitFor(() => broker.stats().subscriptions === baseSubs, 'subscriptions freed', 10_000);
    await waitFor(
      async () => value(await scrape(gw.url), 'herald_connections') === 0,
      'connections gauge back to 0',
      10_000,
      100,
    );
    await waitFor(
      async () => (await redis.zcard(leaseKey)) === 0,
      'per-user leases released',
      10_000,
    );
    const listed = await fetch(`${gw.url}/admin/connections`, { headers: bearer(admin) });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { count: number }).count).toBe(0);
    // Nothing holds the user's slots: a new stream is admitted and holds the only lease.
    const s = await openStream(gw.url, '/events?topic=leaks/a', { headers: bearer(token) });
    try {
      await waitFor(() => registry.size === 1, 'new stream open', 10_000);
      expect(s.status).toBe(200);
      expect(s.events.every((e) => e.event !== 'herald.shed')).toBe(true);
      expect(await redis.zcard(leaseKey)).toBe(1);
    } finally {
      await s.close();
    }
  });
});
