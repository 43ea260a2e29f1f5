import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedisCluster } from '../support/redis-cluster';
import { useRedisSentinel } from '../support/redis-sentinel';

describe('Redis Cluster harness', () => {
  const cluster = useRedisCluster(['redis-server', 'redis-cli'], { basePort: 7100 });

  it('should serve keys from 3 primaries and keep a replicated key across a failover', async () => {
    const topology = cluster();
    expect((await topology.primaries()).length).toBe(3);
    const client = new Cluster([{ host: '127.0.0.1', port: topology.nodes[0].port }], {
      clusterRetryStrategy: () => 200,
    });
    client.on('error', () => undefined);
    try {
      // {a}, {b}, {c} hash to slots 15495, 3300, 7365: one per primary of a 3-way split.
      for (const tag of ['a', 'b', 'c']) await client.set(`{${tag}}k`, tag);
      const owners = new Set<number>();
      for (const slot of [15495, 3300, 7365]) owners.add(await topology.primaryForSlot(slot));
      expect(owners.size).toBe(3);
      const victim = await topology.primaryForSlot(15495);
      const replicated = await client.call('WAIT', '1', '2000');
      expect(replicated).toBe(1);
      const promoted = await topology.killPrimaryAndWaitForFailover(victim);
      expect(promoted).not.toBe(victim);
      expect(await topology.primaryForSlot(15495)).toBe(promoted);
      expect(await client.get('{a}k')).toBe('a');
    } finally {
      client.disconnect();
    }
  }, 60_000);
});

describe('Redis Sentinel harness', () => {
  const topology = useRedisSentinel(['redis-server', 'redis-sentinel']);

  it('should promote the replica when the primary is killed, keeping replicated writes', async () => {
    const t = topology();
    const client = new Redis({
      sentinels: t.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: t.name,
      retryStrategy: () => 200,
    });
    client.on('error', () => undefined);
    try {
      const first = await t.primaryPort();
      await client.set('harness:k', 'v');
      expect(await client.call('WAIT', '1', '2000')).toBe(1);
      const promoted = await t.killPrimaryAndWaitForFailover();
      expect(promoted).not.toBe(first);
      expect(await t.primaryPort()).toBe(promoted);
      expect(await client.get('harness:k')).toBe('v');
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
