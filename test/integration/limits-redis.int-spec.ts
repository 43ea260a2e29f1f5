import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectionCaps,
  HeraldThrottlerStorage,
  LimitsStats,
  RedisLimitsStore,
  type CapDecision,
  type RedisLimitsOptions,
} from '@herald/limits';
import { deleteKeys, redisAvailable, redisUrlForTests, uniqueKeyPrefix } from '../support/redis';
import { sleep, waitFor } from '../support/wait';

const prefix = uniqueKeyPrefix('limits');

function store(keyPrefix = prefix, url = redisUrlForTests()): RedisLimitsStore {
  return new RedisLimitsStore({
    redis: { mode: 'single', url },
    keyPrefix,
    commandTimeoutMs: 1000,
  });
}

function options(leaseTtlMs: number): RedisLimitsOptions {
  return {
    driver: 'redis',
    redis: { mode: 'single', url: redisUrlForTests() },
    keyPrefix: prefix,
    leaseTtlMs,
    connectRatePerS: 10,
    connectBurst: 50,
    publishRatePerS: 10,
    publishBurst: 10,
    maxConnections: 10_000,
    maxConnectionsPerUser: 16,
    maxConnectionsPerIp: 64,
  };
}

describe('RedisLimitsStore with two instances (integration)', () => {
  let available = false;
  beforeAll(async () => {
    available = await redisAvailable();
  });
  beforeEach((ctx) => {
    if (!available) ctx.skip();
  });
  const stores: RedisLimitsStore[] = [];
  const caps: ConnectionCaps[] = [];
  const open = (s: RedisLimitsStore) => (stores.push(s), s);

  afterEach(async () => {
    for (const c of caps.splice(0)) c.onModuleDestroy();
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    if (available) await deleteKeys(prefix);
  });

  it('should share one token bucket across instances when 100 takes race', async () => {
    const a = open(store());
    const b = open(store());
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).take('connect:ip:1.2.3.4', 0.01, 50)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(100_000);
  });

  it('should take a batch cost all or none, and check without taking at cost 0', async () => {
    const a = open(store());
    const b = open(store());
    expect(await a.take('cost', 0.001, 10, 8)).toMatchObject({ allowed: true });
    const refused = await b.take('cost', 0.001, 10, 3);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(900); // one more token at 1 per 1000 s
    expect((await a.take('cost', 0.001, 10, 0)).allowed).toBe(true);
    const two = await b.take('cost', 0.001, 10, 2);
    expect(two.allowed).toBe(true);
    expect(two.tokens).toBeLessThan(0.01);
    expect((await a.take('cost', 0.001, 10, 0)).allowed).toBe(false);
  });

  it('should refill the shared bucket at the rate when time passes', async () => {
    const a = open(store());
    const b = open(store());
    for (let i = 0; i < 5; i++) expect((await a.take('refill', 5, 5)).allowed).toBe(true);
    // Drain whatever refilled meanwhile (bounded), so B sees an empty bucket.
    let refused = false;
    for (let i = 0; i < 20 && !refused; i++) refused = !(await b.take('refill', 5, 5)).allowed;
    expect(refused).toBe(true);
    await sleep(300); // 5/s: at least one token
    expect((await b.take('refill', 5, 5)).allowed).toBe(true);
  });

  it('should admit exactly MAX_CONNECTIONS_PER_USER across two instances when 100 acquires race', async () => {
    const stats = new LimitsStats();
    const a = new ConnectionCaps(open(store()), stats, options(10_000));
    const b = new ConnectionCaps(open(store()), stats, options(10_000));
    caps.push(a, b);
    const decisions: CapDecision[] = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).acquire({ sub: 'alice', ip: `10.0.0.${i}` }),
      ),
    );
    const admitted = decisions.filter((d) => d.admitted);
    expect(admitted).toHaveLength(16);
    expect(decisions.filter((d) => !d.admitted && d.limit === 'user')).toHaveLength(84);
    expect(a.active + b.active).toBe(16);
    // One more is refused; after one release, one more fits (on either instance).
    expect((await a.acquire({ sub: 'alice', ip: '1.1.1.1' })).admitted).toBe(false);
    if (admitted[0].admitted) admitted[0].lease.release();
    await waitFor(
      async () => (await b.acquire({ sub: 'alice', ip: '1.1.1.1' })).admitted,
      'slot after release',
    );
    expect(stats.failOpenTotal()).toBe(0);
  });

  it('should heal the count within the lease TTL when one instance stops refreshing', async () => {
    const ttl = 1500;
    const stats = new LimitsStats();
    const storeA = open(store());
    const a = new ConnectionCaps(storeA, stats, options(ttl));
    const b = new ConnectionCaps(open(store()), stats, options(ttl));
    caps.push(a, b);
    for (let i = 0; i < 10; i++)
      expect((await a.acquire({ sub: 'bob', ip: 'x' })).admitted).toBe(true);
    for (let i = 0; i < 6; i++)
      expect((await b.acquire({ sub: 'bob', ip: 'y' })).admitted).toBe(true);
    expect((await b.acquire({ sub: 'bob', ip: 'y' })).admitted).toBe(false);
    // Instance A dies (kill -9): no release, no more refreshes.
    a.onModuleDestroy();
    await storeA.close();
    const died = Date.now();
    let healedAfter = 0;
    for (let i = 0; i < 10; i++) {
      await waitFor(
        async () => (await b.acquire({ sub: 'bob', ip: 'y' })).admitted,
        `slot ${i} after A died`,
        ttl * 4,
        100,
      );
      healedAfter = Date.now() - died;
    }
    expect(healedAfter).toBeGreaterThanOrEqual(ttl / 2); // healed by expiry, not by a release
    // B's own leases are kept alive by its refresh timer: the cap still holds.
    await sleep(ttl * 2);
    expect(b.active).toBe(16);
    expect((await b.acquire({ sub: 'bob', ip: 'y' })).admitted).toBe(false);
  });

  it('should fail open and count it when Redis is unreachable', async () => {
    const stats = new LimitsStats();
    const dead = open(store(prefix, 'redis://127.0.0.1:6419'));
    const storage = new HeraldThrottlerStorage(dead, stats);
    expect((await storage.takeToken('k', 1, 1)).allowed).toBe(true);
    const c = new ConnectionCaps(dead, stats, options(1000));
    caps.push(c);
    const decision = await c.acquire({ sub: 'carol', ip: 'z' });
    expect(decision.admitted).toBe(true);
    expect(stats.failOpenTotal('rate')).toBe(1);
    expect(stats.failOpenTotal('caps')).toBe(1);
    if (decision.admitted) decision.lease.release();
    expect(c.active).toBe(0);
  });
});
