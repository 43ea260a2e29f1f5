import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectionCaps,
  HeraldThrottlerStorage,
  LimitsStats,
  RedisLimitsStore,
} from '@herald/limits';
import {
  redisAvailable,
  startRedisServer,
  uniqueKeyPrefix,
  type RedisServer,
} from '../support/redis';
import { waitFor } from '../support/wait';

/** From this engineer's private port range (6410-6419). */
const PORT = 6411;

describe('Limits across a Redis restart (integration)', () => {
  let available = false;
  let redis: RedisServer | undefined;

  beforeAll(async () => {
    available = await redisAvailable();
    if (available) redis = await startRedisServer(PORT);
  });
  beforeEach((ctx) => {
    if (!available) ctx.skip();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('should fail open while Redis is down and re-count held slots once it is back', async () => {
    const stats = new LimitsStats();
    const store = new RedisLimitsStore({
      redis: { mode: 'single', url: redis!.url },
      keyPrefix: uniqueKeyPrefix('limits'),
      commandTimeoutMs: 300,
    });
    const caps = new ConnectionCaps(store, stats, {
      driver: 'redis',
      redis: { mode: 'single', url: redis!.url },
      leaseTtlMs: 900,
      connectRatePerS: 1,
      connectBurst: 1,
      publishRatePerS: 1,
      publishBurst: 1,
      maxConnections: 100,
      maxConnectionsPerUser: 3,
      maxConnectionsPerIp: 100,
    });
    const rate = new HeraldThrottlerStorage(store, stats);
    try {
      const first = await caps.acquire({ sub: 'dave', ip: 'a' });
      expect(first.admitted).toBe(true);
      expect((await caps.acquire({ sub: 'dave', ip: 'a' })).admitted).toBe(true);
      expect((await rate.takeToken('t', 1, 1)).allowed).toBe(true);
      expect((await rate.takeToken('t', 1, 1)).allowed).toBe(false);

      await redis!.stop();
      // Down: checks are allowed (fail open) and counted.
      expect((await caps.acquire({ sub: 'dave', ip: 'a' })).admitted).toBe(true);
      expect((await rate.takeToken('t', 1, 1)).allowed).toBe(true);
      expect(stats.failOpenTotal('caps')).toBeGreaterThanOrEqual(1);
      expect(stats.failOpenTotal('rate')).toBeGreaterThanOrEqual(1);
      expect(caps.active).toBe(3);

      // Back, empty: the refresh re-adds the three held slots, so the cap holds again.
      redis = await startRedisServer(PORT); // empty, same port
      await waitFor(
        async () => {
          const d = await caps.acquire({ sub: 'dave', ip: 'a' });
          if (d.admitted) d.lease.release();
          return !d.admitted && d.limit === 'user';
        },
        'cap enforced again after Redis returned',
        15_000,
        200,
      );
      if (first.admitted) first.lease.release();
      await waitFor(
        async () => {
          const d = await caps.acquire({ sub: 'dave', ip: 'a' });
          return d.admitted;
        },
        'slot after release',
        5000,
        100,
      );
    } finally {
      caps.onModuleDestroy();
      await store.close();
    }
  }, 60_000);
});
