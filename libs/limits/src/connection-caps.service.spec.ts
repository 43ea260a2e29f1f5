import { describe, expect, it } from 'vitest';
import { InMemoryLimitsStore } from './adapters/in-memory.limits-store';
import { ConnectionCaps } from './connection-caps.service';
import type { LimitsModuleOptions } from './limits.options';
import { LimitsStats } from './limits.stats';
import { LimitsStore } from './limits.store';

const OPTIONS: LimitsModuleOptions = {
  driver: 'memory',
  connectRatePerS: 10,
  connectBurst: 50,
  publishRatePerS: 10,
  publishBurst: 10,
  maxConnections: 5,
  maxConnectionsPerUser: 2,
  maxConnectionsPerIp: 3,
};

class FailingStore extends LimitsStore {
  take(): Promise<never> {
    return Promise.reject(new Error('down'));
  }
  acquire(): Promise<never> {
    return Promise.reject(new Error('down'));
  }
  refresh(): Promise<void> {
    return Promise.resolve();
  }
  release(): Promise<never> {
    return Promise.reject(new Error('down'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('ConnectionCaps', () => {
  it('should refuse the user past MAX_CONNECTIONS_PER_USER and admit again after a release', async () => {
    const caps = new ConnectionCaps(new InMemoryLimitsStore(), new LimitsStats(), OPTIONS);
    const a = await caps.acquire({ sub: 'alice', ip: '1.1.1.1' });
    const b = await caps.acquire({ sub: 'alice', ip: '2.2.2.2' });
    const c = await caps.acquire({ sub: 'alice', ip: '3.3.3.3' });
    expect([a.admitted, b.admitted, c.admitted]).toEqual([true, true, false]);
    expect(c).toEqual({ admitted: false, limit: 'user' });
    expect((await caps.acquire({ sub: 'bob', ip: '1.1.1.1' })).admitted).toBe(true);
    if (a.admitted) {
      a.lease.release();
      a.lease.release(); // idempotent
    }
    expect((await caps.acquire({ sub: 'alice', ip: '1.1.1.1' })).admitted).toBe(true);
    expect((await caps.acquire({ sub: 'alice', ip: '1.1.1.1' })).admitted).toBe(false);
  });

  it('should cap anonymous streams per IP when there is no sub', async () => {
    const caps = new ConnectionCaps(new InMemoryLimitsStore(), new LimitsStats(), OPTIONS);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => caps.acquire({ ip: '9.9.9.9' })),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(3);
    expect(results.find((r) => !r.admitted)).toEqual({ admitted: false, limit: 'ip' });
  });

  it('should refuse past MAX_CONNECTIONS on this instance whoever asks', async () => {
    const caps = new ConnectionCaps(new InMemoryLimitsStore(), new LimitsStats(), OPTIONS);
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) => caps.acquire({ ip: `10.0.0.${i}` })),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(5);
    expect(results.filter((r) => !r.admitted && r.limit === 'instance')).toHaveLength(2);
    expect(caps.active).toBe(5);
  });

  it('should fail open and count it when the store errors', async () => {
    const stats = new LimitsStats();
    const counted: string[] = [];
    stats.failOpen$.subscribe((k) => counted.push(k));
    const caps = new ConnectionCaps(new FailingStore(), stats, OPTIONS);
    const r = await caps.acquire({ sub: 'alice', ip: '1.1.1.1' });
    expect(r.admitted).toBe(true);
    expect(stats.failOpenTotal('caps')).toBe(1);
    expect(counted).toEqual(['caps']);
    if (r.admitted) r.lease.release();
    expect(caps.active).toBe(0);
  });
});
