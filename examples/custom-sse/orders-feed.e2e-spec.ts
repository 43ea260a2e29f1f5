import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteKeys,
  redisUrlForTests,
  requireRedis,
  uniqueKeyPrefix,
} from '../../test/support/redis';
import {
  CUSTOM_SSE_MAIN,
  spawnReadyGateway,
  type SpawnedGateway,
} from '../../test/support/spawn-gateway';
import { openStream, publish } from '../../test/support/sse-client';
import { bearer, claims, hs256 } from '../../test/support/tokens';
import { sleep, waitFor } from '../../test/support/wait';

/**
 * `npm run example:custom-sse` as built by `npm run build`, beside a gateway on one Redis. The
 * stream behaviour both endpoints share is test/integration/stream-endpoints.int-spec.ts.
 */
describe('examples/custom-sse (built app beside a gateway)', () => {
  const redisReady = requireRedis();
  const prefix = uniqueKeyPrefix('custom-sse');
  const env = {
    BROKER: 'redis',
    REDIS_URL: redisUrlForTests(),
    REDIS_KEY_PREFIX: prefix,
    INGEST_STREAM: `${prefix}ingest`,
    ANONYMOUS_TOPICS: '',
  };
  let gateway: SpawnedGateway;
  let feed: SpawnedGateway;

  beforeAll(async () => {
    if (!redisReady()) return;
    [gateway, feed] = await Promise.all([
      spawnReadyGateway({ ...env, INSTANCE_ID: 'gw' }),
      spawnReadyGateway({ ...env, INSTANCE_ID: 'orders-feed' }, 15_000, CUSTOM_SSE_MAIN),
    ]);
  });
  afterAll(async () => {
    for (const p of [gateway, feed]) p?.kill('SIGKILL');
    await Promise.all([gateway?.exited, feed?.exited]);
    await deleteKeys(prefix);
  });

  it('should answer /health/live and /health/ready from Herald health module', async () => {
    expect((await fetch(`${feed.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${feed.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok' });
  });

  it("should stream the gateway's orders/42 events, resume, list in the admin API and drain on SIGTERM", async () => {
    const token = hs256(claims({ subscribe: ['orders/*'] }, { sub: 'buyer' }));
    const s = await openStream(feed.url, '/orders/42/feed', { headers: bearer(token) });
    expect(s.status).toBe(200);
    await sleep(100);
    const first = await publish(gateway.url, {
      topic: 'orders/42',
      type: 'order.updated',
      data: 1,
    });
    await s.waitForEvents(1);
    expect(s.dataEvents.map((e) => e.id)).toEqual([first.body.id]);
    const admin = hs256(claims({ admin: true }, { sub: 'ops' }));
    const listed = await waitFor(async () => {
      const res = await fetch(`${gateway.url}/admin/connections`, { headers: bearer(admin) });
      const body = (await res.json()) as { connections: { sub: string; instance: string }[] };
      return body.connections.find((c) => c.sub === 'buyer');
    }, 'listed by the gateway');
    expect(listed.instance).toBe('orders-feed');
    const next = await publish(gateway.url, { topic: 'orders/42', type: 'order.updated', data: 2 });
    const resumed = await openStream(feed.url, '/orders/42/feed', {
      headers: { ...bearer(token), 'Last-Event-ID': first.body.id as string },
    });
    await resumed.waitForEvents(1);
    expect(resumed.dataEvents.map((e) => e.id)).toEqual([next.body.id]);
    feed.kill('SIGTERM');
    await s.waitForEnd(10_000);
    expect(s.events.map((e) => e.event)).toContain('herald.drain');
    expect(await feed.exited).toBe(0);
    await resumed.close();
  });
});
