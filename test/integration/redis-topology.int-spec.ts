import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisClusterTopology } from '../support/redis-cluster';
import { startRedisSentinel, type RedisSentinelTopology } from '../support/redis-sentinel';
import { missingBinaries, requireBinaries } from '../support/redis-topology';

const canRun = () => missingBinaries(['redis-server', 'redis-cli', 'redis-sentinel']).length === 0;

describe('Redis Cluster harness', () => {
  requireBinaries(['redis-server', 'redis-cli']);
  let cluster: RedisClusterTopology | undefined;

  beforeAll(async () => {
    if (canRun()) cluster = await startRedisCluster({ basePort: 7100 });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('should serve keys from 3 primaries and keep a replicated key across a failover', async () => {
    const topology = cluster as RedisClusterTopology;
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
  requireBinaries(['redis-server', 'redis-sentinel']);
  let topology: RedisSentinelTopology | undefined;

  beforeAll(async () => {
    if (canRun()) topology = await startRedisSentinel();
  }, 60_000);
  afterAll(async () => {
    await topology?.stop();
  });

  it('should promote the replica when the primary is killed, keeping replicated writes', async () => {
    const t = topology as RedisSentinelTopology;
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
