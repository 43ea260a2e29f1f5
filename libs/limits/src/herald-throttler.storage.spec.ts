import { describe, expect, it } from 'vitest';
import { InMemoryLimitsStore } from './adapters/in-memory.limits-store';
import { HeraldThrottlerStorage, bucketTtlMs } from './herald-throttler.storage';
import { LimitsStats } from './limits.stats';
import { LimitsStore } from './limits.store';

class DownStore extends InMemoryLimitsStore {
  override take(): Promise<never> {
    return Promise.reject(new Error('ECONNREFUSED'));
  }
}

describe('HeraldThrottlerStorage', () => {
  it('should act as a token bucket of size limit refilled at limit per ttl when incremented', async () => {
    let now = 0;
    const storage = new HeraldThrottlerStorage(
      new InMemoryLimitsStore(() => now),
      new LimitsStats(),
    );
    const ttl = bucketTtlMs(2, 4); // 2/s, burst 4 -> 2000 ms
    const records = [];
    for (let i = 0; i < 5; i++) records.push(await storage.increment('k', ttl, 4, ttl, 'default'));
    expect(records.map((r) => r.isBlocked)).toEqual([false, false, false, false, true]);
    expect(records[0]).toMatchObject({ totalHits: 1, timeToExpire: 1 });
    expect(records[4]).toMatchObject({ totalHits: 4, timeToBlockExpire: 1 });
    now = 500;
    expect((await storage.increment('k', ttl, 4, ttl, 'default')).isBlocked).toBe(false);
    expect((await storage.increment('k', ttl, 4, ttl, 'default')).isBlocked).toBe(true);
    expect((await storage.increment('other', ttl, 4, ttl, 'default')).isBlocked).toBe(false);
  });

  it('should fail open and count it when the store errors', async () => {
    const stats = new LimitsStats();
    const store: LimitsStore = new DownStore();
    const storage = new HeraldThrottlerStorage(store, stats);
    const record = await storage.increment('k', 1000, 1, 1000, 'default');
    expect(record.isBlocked).toBe(false);
    expect((await storage.takeToken('k', 1, 1)).allowed).toBe(true);
    expect(stats.failOpenTotal('rate')).toBe(2);
    expect(stats.failOpenTotal()).toBe(2);
    await store.close();
  });
});
