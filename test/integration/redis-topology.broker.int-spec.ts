import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisRevocationList } from '@herald/auth';
import { RedisBroker, redisEventIdentity } from '@herald/broker/testing';
import { describeBrokerContract } from '@herald/broker/testing';
import { RedisClusterBus } from '@herald/cluster';
import { RedisLimitsStore } from '@herald/limits';
import type { RedisConnectionOptions } from '@herald/redis';
import { useRedisCluster } from '../support/redis-cluster';
import { useRedisSentinel } from '../support/redis-sentinel';
import { waitFor } from '../support/wait';

declare module '@herald/cluster' {
  /** The cluster request of this suite. */
  interface ClusterQueries {
    echo: { payload: number; answer: { from: string; payload: number } };
  }
}

const BINARIES = ['redis-server', 'redis-cli', 'redis-sentinel'];

async function waitReady(broker: RedisBroker): Promise<RedisBroker> {
  await waitFor(
    () =>
      broker.ping().then(
        () => true,
        () => false,
      ),
    'RedisBroker ready',
    15_000,
    25,
  );
  return broker;
}

const prefix = (label: string) => `herald-${label}-${randomBytes(3).toString('hex')}:`;

/** Every Redis-backed feature on one topology: broker contract, leases, revocations, bus. */
function describeTopology(
  name: string,
  connection: () => RedisConnectionOptions,
  partitions: readonly number[] = [1],
): void {
  for (const p of partitions) {
    describeBrokerContract(
      `redis (${name}, REDIS_PARTITIONS=${p})`,
      async (options) =>
        waitReady(
          new RedisBroker({
            redis: connection(),
            keyPrefix: prefix(`contract-p${p}`),
            partitions: p,
            ...options,
          }),
        ),
      p === 1 ? {} : { order: 'per-topic', identity: redisEventIdentity },
    );
  }

  describe(`Redis features on ${name}`, () => {
    it('should grant and refuse multi-key leases all or nothing (one hash slot)', async () => {
      const store = new RedisLimitsStore({
        redis: connection(),
        keyPrefix: prefix('limits'),
        commandTimeoutMs: 2000,
      });
      try {
        await waitFor(
          () =>
            store.take('warmup', 1000, 10).then(
              () => true,
              () => false,
            ),
          'limits store connected',
          10_000,
          25,
        );
        const claims = [
          { key: 'user:alice', cap: 1 },
          { key: 'ip:127.0.0.1', cap: 5 },
        ];
        expect(await store.acquire('c1', claims, 30_000)).toBe(-1);
        // alice is at her cap of 1: the second claim set is refused at index 0, nothing taken.
        expect(await store.acquire('c2', claims, 30_000)).toBe(0);
        await store.release(
          'c1',
          claims.map((c) => c.key),
        );
        expect(await store.acquire('c2', claims, 30_000)).toBe(-1);
        await store.refresh(new Map([['user:alice', ['c2']]]), 30_000);
        expect((await store.take('bucket', 1, 1)).allowed).toBe(true);
        expect((await store.take('bucket', 1, 1)).allowed).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('should keep revocations and answer cluster-bus requests across instances', async () => {
      const keyPrefix = prefix('bus');
      const revocations = new RedisRevocationList({ redis: connection(), keyPrefix });
      const a = new RedisClusterBus({
        instanceId: 'a',
        redis: connection(),
        keyPrefix,
        heartbeatMs: 200,
      });
      const b = new RedisClusterBus({
        instanceId: 'b',
        redis: connection(),
        keyPrefix,
        heartbeatMs: 200,
      });
      try {
        b.answer('echo', (payload) => Promise.resolve({ from: 'b', payload }));
        a.answer('echo', (payload) => Promise.resolve({ from: 'a', payload }));
        await waitFor(
          async () => (await a.instances().catch(() => [])).length === 2,
          'both instances heartbeat',
          10_000,
          50,
        );
        const answers = await a.collect('echo', 42);
        expect(answers.map((x) => x.instance).sort()).toEqual(['a', 'b']);
        await waitFor(
          () =>
            revocations.revoke('bob', Date.now()).then(
              () => true,
              () => false,
            ),
          'revocation stored',
          10_000,
          50,
        );
        expect(await revocations.isRevoked('bob', Date.now() / 1000 - 60)).toBe(true);
        expect(await revocations.isRevoked('carol', 0)).toBe(false);
      } finally {
        await a.close();
        await b.close();
        await revocations.close();
      }
    });
  });
}

describe('Redis Cluster (3 primaries, 1 replica each)', () => {
  const cluster = useRedisCluster(BINARIES, { basePort: 7100 });

  describeTopology(
    'Cluster',
    () => ({
      mode: 'cluster',
      nodes: cluster().nodes.map((n) => ({
        host: '127.0.0.1',
        port: n.port,
      })),
    }),
    [1, 6],
  );
});

describe('Redis Sentinel (primary, replica, 3 sentinels)', () => {
  const sentinel = useRedisSentinel(BINARIES);

  describeTopology('Sentinel', () => {
    const t = sentinel();
    return {
      mode: 'sentinel',
      name: t.name,
      sentinels: t.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    };
  });
});
