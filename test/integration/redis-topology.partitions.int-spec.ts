import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisKeyspace, redisEventIdentity, slotOf } from '@herald/broker/testing';
import { useGatewayPair } from '../support/gateway-pair';
import { checkIdempotencyAcrossInstances } from '../support/gateway-pair.checks';
import { useRedisCluster } from '../support/redis-cluster';
import { missingBinaries } from '../support/redis-topology';
import { publish, type ReceivedEvent } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

const BINARIES = ['redis-server', 'redis-cli'];
const PARTITIONS = 6;
const identity = (id: string) => redisEventIdentity(id);

/** Delivered events per topic, as identities, topics sorted. */
function byTopic(events: readonly { topic: string; id: string }[]): Record<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of events) out.set(e.topic, [...(out.get(e.topic) ?? []), identity(e.id)]);
  return Object.fromEntries([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** The topic of a delivered event (the tests put it in the data). */
const topicOf = (e: ReceivedEvent) => (JSON.parse(e.data) as { topic: string }).topic;
const received = (events: readonly ReceivedEvent[]) =>
  events.map((e) => ({ topic: topicOf(e), id: e.id as string }));

/**
 * Two gateway processes (built dist/) on a real 3-primary Redis Cluster with REDIS_PARTITIONS=6:
 * writes spread over the primaries, streams of one or many partitions fan out and resume on the
 * other instance with no gap or duplicate.
 */
describe('Two gateways on a Redis Cluster with REDIS_PARTITIONS=6', () => {
  const prefix = `herald-gwp-${randomBytes(3).toString('hex')}:`;
  const cluster = useRedisCluster(BINARIES, { basePort: 7100 });
  const gws = useGatewayPair({
    env: () =>
      missingBinaries(BINARIES).length > 0
        ? undefined
        : {
            BROKER: 'redis',
            REDIS_CLUSTER_NODES: cluster().seeds,
            REDIS_KEY_PREFIX: prefix,
            REDIS_PARTITIONS: String(PARTITIONS),
            INGEST_STREAM: `${prefix}ingest`,
            RETRY_MS: '100',
            HISTORY_SIZE: '5000',
          },
    ids: ['node-a', 'node-b'],
    readyTimeoutMs: 30_000,
    setupTimeoutMs: 90_000,
  });
  const open = gws.open;
  const keyspace = new RedisKeyspace(prefix, PARTITIONS);

  it('should put two partitions on each primary and store each topic in its own partition', async () => {
    const t = cluster();
    const redis = new Cluster([{ host: '127.0.0.1', port: t.nodes[0].port }]);
    redis.on('error', () => undefined);
    try {
      const shards = (await redis.call('CLUSTER', 'SHARDS')) as unknown[];
      const ranges: [number, number][][] = shards.map((shard) => {
        const flat = shard as unknown[];
        const slots = flat[flat.indexOf('slots') + 1] as number[];
        const out: [number, number][] = [];
        for (let i = 0; i + 1 < slots.length; i += 2) out.push([slots[i], slots[i + 1]]);
        return out;
      });
      const perPrimary = ranges.map(
        (rs) =>
          keyspace.partitions.filter((k) => {
            const tag = /\{([^}]+)\}/.exec(k.seq)?.[1] ?? '';
            const slot = slotOf(tag);
            return rs.some(([lo, hi]) => slot >= lo && slot <= hi);
          }).length,
      );
      expect(perPrimary.filter((n) => n > 0)).toEqual([2, 2, 2]);
      for (const k of keyspace.partitions) {
        expect(Number(await redis.call('CLUSTER', 'KEYSLOT', k.seq))).toBe(
          slotOf(/\{([^}]+)\}/.exec(k.seq)?.[1] ?? ''),
        );
      }
      const res = await publish(gws.a.url, { topic: 'where/1', data: { topic: 'where/1' } });
      expect(res.status).toBe(202);
      expect(await redis.xlen(keyspace.stream('where/1'))).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('should fan out publishes on A to single-topic, multi-topic and pattern streams on B, and resume each on A', async () => {
    const paths = ['/events?topic=o/1', '/events?topic=o/1&topic=o/2', '/events?topic=o/**'];
    const onB = await Promise.all(paths.map((p) => open(gws.b.url, p)));
    await sleep(300);
    const published: { topic: string; id: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const topic = `o/${(i % 6) + 1}`;
      const res = await publish(gws.a.url, { topic, data: { topic, i } });
      expect(res.status).toBe(202);
      published.push({ topic, id: res.body.id as string });
    }
    // The six topics touch more than one partition (else this would test nothing).
    expect(new Set(published.map((e) => keyspace.partitionOf(e.topic))).size).toBeGreaterThan(2);
    const expected = [
      published.filter((e) => e.topic === 'o/1'),
      published.filter((e) => e.topic === 'o/1' || e.topic === 'o/2'),
      published,
    ];
    for (const [k, s] of onB.entries()) {
      await s.waitForEvents(expected[k].length, 10_000);
      await sleep(100);
      expect(byTopic(received(s.events))).toEqual(byTopic(expected[k]));
    }
    // Resume each on the other instance from its 3rd delivered event: exactly the rest, then live.
    const rest = onB.map((s) => received(s.events.slice(3)));
    const resumed = await Promise.all(
      paths.map((p, k) => open(gws.a.url, p, { 'Last-Event-ID': onB[k].events[2].id as string })),
    );
    const more = await publish(gws.b.url, { topic: 'o/1', data: { topic: 'o/1', i: 'live' } });
    for (const [k, s] of resumed.entries()) {
      const want = [...rest[k], { topic: 'o/1', id: more.body.id as string }];
      await s.waitForEvents(want.length, 10_000);
      await sleep(200);
      expect(s.events).toHaveLength(want.length);
      expect(byTopic(received(s.events))).toEqual(byTopic(want));
      for (const e of s.events) expect(e.id as string).toMatch(/^[A-Za-z0-9._~:-]{1,128}$/);
    }
  });

  it('should give clients joining B mid-burst of 1,000 publishes on A contiguous suffixes', async () => {
    const published: { topic: string; id: string }[] = [];
    const joined = [];
    for (let i = 0; i < 1000; i++) {
      const topic = `burst/${i % 4}`;
      const res = await publish(gws.a.url, { topic, data: { topic, i } });
      expect(res.status).toBe(202);
      published.push({ topic, id: res.body.id as string });
      if (i % 125 === 62) joined.push(await open(gws.b.url, '/events?topic=burst/*'));
    }
    const want = byTopic(published);
    for (const s of joined) {
      await waitFor(
        () => {
          const got = byTopic(received(s.events));
          return Object.keys(want).every((t) => got[t]?.at(-1) === want[t].at(-1));
        },
        'last event of every topic',
        20_000,
        20,
      );
      const got = byTopic(received(s.events));
      for (const topic of Object.keys(want)) {
        const start = want[topic].indexOf(got[topic][0]);
        expect(start).toBeGreaterThanOrEqual(0);
        expect(got[topic]).toEqual(want[topic].slice(start));
      }
    }
  });

  it('should deduplicate an Idempotency-Key retried on the other instance', async () => {
    await checkIdempotencyAcrossInstances(gws, identity);
  });
});
