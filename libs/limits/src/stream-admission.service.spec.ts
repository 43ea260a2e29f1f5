import { describe, expect, it } from 'vitest';
import { InMemoryLimitsStore } from './adapters/in-memory.limits-store';
import { ConnectRateLimiter } from './connect-rate.limiter';
import { ConnectionCaps } from './connection-caps.service';
import { HeraldThrottlerStorage } from './herald-throttler.storage';
import type { LimitsModuleOptions } from './limits.options';
import { LimitsStats } from './limits.stats';
import { LimitsStreamAdmission } from './stream-admission.service';

const OPTIONS: LimitsModuleOptions = {
  driver: 'memory',
  connectRatePerS: 0.001,
  connectBurst: 3,
  publishRatePerS: 10,
  publishBurst: 10,
  maxConnections: 100,
  maxConnectionsPerUser: 2,
  maxConnectionsPerIp: 100,
};

function admission(): LimitsStreamAdmission {
  const store = new InMemoryLimitsStore();
  const stats = new LimitsStats();
  return new LimitsStreamAdmission(
    new ConnectRateLimiter(new HeraldThrottlerStorage(store, stats), OPTIONS),
    new ConnectionCaps(store, stats, OPTIONS),
  );
}

describe('LimitsStreamAdmission', () => {
  it('should rate-limit per sub across IPs and per IP for anonymous clients when bursting', async () => {
    const gate = admission();
    const alice = [];
    for (let i = 0; i < 4; i++) alice.push(await gate.admit({ sub: 'alice', ip: `10.0.0.${i}` }));
    // Two fit the per-user cap, the third is over capacity, the fourth has no token left.
    expect(alice.map((a) => (a.admitted ? 'ok' : a.reason))).toEqual([
      'ok',
      'ok',
      'capacity',
      'rate-limited',
    ]);
    const refused = alice[3];
    expect(!refused.admitted && refused.retryAfterMs).toBeGreaterThan(0);
    // Another user, and an anonymous client on alice's IP, have their own buckets.
    expect((await gate.admit({ sub: 'bob', ip: '10.0.0.0' })).admitted).toBe(true);
    expect((await gate.admit({ ip: '10.0.0.0' })).admitted).toBe(true);
  });

  it('should admit again once a lease is released when the cap was full', async () => {
    const gate = admission();
    const first = await gate.admit({ sub: 'carol', ip: '1.1.1.1' });
    await gate.admit({ sub: 'carol', ip: '1.1.1.1' });
    expect(await gate.admit({ sub: 'carol', ip: '1.1.1.1' })).toMatchObject({
      admitted: false,
      reason: 'capacity',
      limit: 'user',
    });
    if (first.admitted) first.lease.release();
    // Burst of 3 is spent: the cap is free but the bucket is not.
    expect(await gate.admit({ sub: 'carol', ip: '1.1.1.1' })).toMatchObject({
      admitted: false,
      reason: 'rate-limited',
    });
  });
});
