import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { requireRedis, startRedisServer, type RedisServer } from '../support/redis';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

/** Private redis-server port of this suite (6530-6539 belong to the review suites). */
const REDIS_PORT = 6530;

/**
 * A Redis that stops answering without closing its connections (a stalled or paused server, a
 * network partition) makes every command time out. The admin API (served through the cluster
 * bus) must then refuse with a 503, never a 500, also for an admin token without `sub`
 * (which skips the revocation check, so the bus is the first thing to reach Redis).
 */
describe('Admin API while Redis stalls (private redis-server, SIGSTOP)', () => {
  requireRedis();
  let redis: RedisServer;
  let gw: Gateway;
  const noSub: Record<string, unknown> = { ...claims({ admin: true }) };
  delete noSub.sub;
  const admin = hs256(noSub);

  beforeAll(async () => {
    redis = await startRedisServer(REDIS_PORT);
    gw = await startTestGateway({ BROKER: 'redis', REDIS_URL: redis.url, ANONYMOUS_TOPICS: '' });
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`)).status === 200,
      'gateway ready',
      15_000,
    );
  });
  afterAll(async () => {
    if (redis?.child.pid !== undefined) process.kill(redis.child.pid, 'SIGCONT');
    await gw?.app.close();
    await redis?.stop();
  });

  it('should answer 503, not 500, while Redis does not answer', async () => {
    const get = (path: string) => fetch(`${gw.url}${path}`, { headers: bearer(admin) });
    expect((await get('/admin/connections')).status).toBe(200);
    process.kill(redis.child.pid as number, 'SIGSTOP');
    try {
      for (const path of ['/admin/connections', '/admin/overview']) {
        const res = await get(path);
        const body = (await res.json()) as { statusCode: number; message: string };
        expect({ path, status: res.status, statusCode: body.statusCode }).toEqual({
          path,
          status: 503,
          statusCode: 503,
        });
        expect(body.message).toMatch(/redis|cluster/i);
      }
    } finally {
      process.kill(redis.child.pid as number, 'SIGCONT');
    }
    await waitFor(
      async () => (await get('/admin/connections')).status === 200,
      'admin API back',
      10_000,
    );
  }, 40_000);

  it('should answer a publish with 503 (outcome unknown) instead of hanging while Redis does not answer', async () => {
    // No `sub`: the revocation check (which fails closed with its own 503) is skipped, so the
    // publish itself is what reaches the stalled Redis.
    const noSubPublisher: Record<string, unknown> = { ...claims({ publish: ['**'] }) };
    delete noSubPublisher.sub;
    const publisher = hs256(noSubPublisher);
    const post = () =>
      fetch(`${gw.url}/events`, {
        method: 'POST',
        headers: { ...bearer(publisher), 'Content-Type': 'application/json' },
        body: JSON.stringify({ topic: 'stall/a', data: 1 }),
      });
    expect((await post()).status).toBe(202);
    process.kill(redis.child.pid as number, 'SIGSTOP');
    try {
      // Without a command timeout the request never ends: the race below would take the abort.
      const res = await post();
      const body = (await res.json()) as { statusCode: number; message: string };
      expect({ status: res.status, statusCode: body.statusCode }).toEqual({
        status: 503,
        statusCode: 503,
      });
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(body.message).toMatch(/Idempotency-Key/);
    } finally {
      process.kill(redis.child.pid as number, 'SIGCONT');
    }
    await waitFor(async () => (await post()).status === 202, 'publishes accepted again', 15_000);
  }, 40_000);
});
