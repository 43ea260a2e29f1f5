import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGatewayPair } from '../support/gateway-pair';
import {
  checkIdempotencyAcrossInstances,
  checkListCloseRevokeAcrossInstances,
} from '../support/gateway-pair.checks';
import { useRedisCluster } from '../support/redis-cluster';
import { startRedisSentinel, type RedisSentinelTopology } from '../support/redis-sentinel';
import { missingBinaries, requireBinaries } from '../support/redis-topology';
import { spawnReadyGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

const BINARIES = ['redis-server', 'redis-cli'];
const token = (sub: string, grants: { subscribe?: string[]; admin?: boolean }) =>
  hs256(claims(grants, { sub }));

/** Two gateway processes (built dist/) on a real 3-primary Redis Cluster (REDIS_CLUSTER_NODES). */
describe('Two gateways on a Redis Cluster', () => {
  const prefix = `herald-gw-${randomBytes(3).toString('hex')}:`;
  const ingestStream = `${prefix}ingest`;
  const cluster = useRedisCluster(BINARIES, { basePort: 7100 });
  const gws = useGatewayPair({
    env: () =>
      missingBinaries(BINARIES).length > 0
        ? undefined
        : {
            BROKER: 'redis',
            REDIS_CLUSTER_NODES: cluster().seeds,
            REDIS_KEY_PREFIX: prefix,
            INGEST_STREAM: ingestStream,
            INGEST_CLAIM_IDLE_MS: '1500',
            RETRY_MS: '100',
            HISTORY_SIZE: '5000',
            MAX_CONNECTIONS_PER_USER: '3',
            REDACT_KEYS: 'password',
          },
    ids: ['node-a', 'node-b'],
    readyTimeoutMs: 30_000,
    setupTimeoutMs: 90_000,
  });
  const open = gws.open;
  const admin = token('ops', { admin: true });

  const openAs = (base: string, sub: string) =>
    open(base, '/events?topic=c/x', bearer(token(sub, { subscribe: ['**'] })));
  const shedReason = async (s: SseStream): Promise<string | undefined> => {
    await waitFor(() => s.retries.length > 0, 'first bytes');
    await sleep(300);
    const shed = s.events.find((e) => e.event === 'herald.shed');
    return shed ? (JSON.parse(shed.data) as { reason: string }).reason : undefined;
  };

  it('should fan out publishes on A to single-topic, multi-topic and pattern streams on B, and resume each on A', async () => {
    const paths = ['/events?topic=o/1', '/events?topic=o/1&topic=o/2', '/events?topic=o/**'];
    const onB = await Promise.all(paths.map((p) => open(gws.b.url, p)));
    await sleep(200);
    const ids: { topic: string; id: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const topic = `o/${(i % 3) + 1}`;
      const res = await publish(gws.a.url, { topic, data: { i } });
      expect(res.status).toBe(202);
      ids.push({ topic, id: res.body.id as string });
    }
    // The events are in the Cluster (not in some other Redis).
    const t = cluster();
    const redis = new Cluster([{ host: '127.0.0.1', port: t.nodes[0].port }]);
    redis.on('error', () => undefined);
    try {
      expect(await redis.xlen(`${prefix}{events}:t:o/1`)).toBe(10);
    } finally {
      redis.disconnect();
    }
    const expected = [
      ids.filter((e) => e.topic === 'o/1'),
      ids.filter((e) => e.topic !== 'o/3'),
      ids,
    ].map((list) => list.map((e) => e.id));
    for (const [k, s] of onB.entries()) {
      await s.waitForEvents(expected[k].length, 10_000);
      expect(s.events.map((e) => e.id)).toEqual(expected[k]);
    }
    // Resume each on the other instance from its 3rd event: exactly the rest, then live.
    const resumed = await Promise.all(
      paths.map((p, k) => open(gws.a.url, p, { 'Last-Event-ID': expected[k][2] })),
    );
    const more = await publish(gws.b.url, { topic: 'o/1', data: { i: 'live' } });
    for (const [k, s] of resumed.entries()) {
      const want = [...expected[k].slice(3), more.body.id as string];
      await s.waitForEvents(want.length, 10_000);
      expect(s.events.map((e) => e.id)).toEqual(want);
    }
  });

  it('should give clients joining B mid-burst of 1,000 publishes on A contiguous suffixes', async () => {
    const ids: string[] = [];
    const joined: SseStream[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await publish(gws.a.url, { topic: 'burst/x', data: { i } });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
      if (i % 125 === 62) joined.push(await open(gws.b.url, '/events?topic=burst/*'));
    }
    for (const s of joined) {
      await waitFor(() => s.events.at(-1)?.id === ids.at(-1), 'last event', 20_000, 20);
      const got = s.events.map((e) => e.id as string);
      const start = ids.indexOf(got[0]);
      expect(start).toBeGreaterThanOrEqual(0);
      expect(got).toEqual(ids.slice(start));
    }
  });

  it('should deduplicate an Idempotency-Key retried on the other instance', async () => {
    await checkIdempotencyAcrossInstances(gws);
  });

  it('should refuse the stream over MAX_CONNECTIONS_PER_USER across both instances', async () => {
    const held = [
      await openAs(gws.a.url, 'u1'),
      await openAs(gws.a.url, 'u1'),
      await openAs(gws.b.url, 'u1'),
    ];
    for (const s of held) expect(await shedReason(s)).toBeUndefined();
    expect(await shedReason(await openAs(gws.b.url, 'u1'))).toBe('capacity');
    expect(await shedReason(await openAs(gws.a.url, 'someone-else'))).toBeUndefined();
  });

  it('should list, close and revoke streams held by either instance', async () => {
    await checkListCloseRevokeAcrossInstances(gws, ['node-a', 'node-b'], admin);
  });

  it('should publish ingest-stream entries once (redacted) and dead-letter invalid ones', async () => {
    const t = cluster();
    const redis = new Cluster([{ host: '127.0.0.1', port: t.nodes[0].port }]);
    redis.on('error', () => undefined);
    try {
      const s = await open(gws.b.url, '/events?topic=ing/**');
      await sleep(200);
      for (let i = 0; i < 20; i++) {
        await redis.xadd(
          ingestStream,
          '*',
          'topic',
          `ing/${i % 2}`,
          'data',
          JSON.stringify({ i, password: 'p' }),
        );
      }
      await redis.xadd(ingestStream, '*', 'topic', 'ing/bad', 'data', '{not json');
      await s.waitForEvents(20, 15_000);
      await sleep(500);
      const data = s.events.map((e) => JSON.parse(e.data) as { i: number; password: string });
      // Each entry once; two consumers share the group, so entries of a batch may interleave.
      expect(data.map((d) => d.i).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
      expect(new Set(data.map((d) => d.password))).toEqual(new Set(['[REDACTED]']));
      await waitFor(async () => (await redis.xlen(`${ingestStream}:dead`)) === 1, 'dead letter');
      const [[, fields]] = await redis.xrange(`${ingestStream}:dead`, '-', '+');
      expect(fields).toContain('field "data" is not valid JSON');
    } finally {
      redis.disconnect();
    }
  });
});

/** One gateway process on a Sentinel-managed primary (REDIS_SENTINELS + REDIS_SENTINEL_NAME). */
describe('A gateway on Redis Sentinel', () => {
  requireBinaries(['redis-server', 'redis-sentinel']);
  const prefix = `herald-gws-${randomBytes(3).toString('hex')}:`;
  let sentinel: RedisSentinelTopology | undefined;
  let gw: SpawnedGateway | undefined;
  let stream: SseStream | undefined;

  beforeAll(async () => {
    if (missingBinaries(['redis-server', 'redis-sentinel']).length > 0) return;
    sentinel = await startRedisSentinel();
    gw = await spawnReadyGateway(
      {
        BROKER: 'redis',
        REDIS_SENTINELS: sentinel.sentinelAddresses,
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_KEY_PREFIX: prefix,
        INGEST_STREAM: `${prefix}ingest`,
      },
      30_000,
    );
  }, 90_000);
  afterAll(async () => {
    await stream?.close();
    gw?.kill('SIGKILL');
    await gw?.exited;
    await sentinel?.stop();
  });

  it('should publish, stream, resume and ingest through the primary the sentinels name', async () => {
    const g = gw as SpawnedGateway;
    const t = sentinel as RedisSentinelTopology;
    stream = await openStream(g.url, '/events?topic=s/**');
    await sleep(200);
    const first = await publish(g.url, { topic: 's/1', data: { n: 1 } });
    expect(first.status).toBe(202);
    const primary = new Redis(await t.primaryPort(), '127.0.0.1');
    primary.on('error', () => undefined);
    try {
      await primary.xadd(`${prefix}ingest`, '*', 'topic', 's/2', 'data', '{"n":2}');
      await stream.waitForEvents(2, 10_000);
      expect(stream.events.map((e) => JSON.parse(e.data) as { n: number })).toEqual([
        { n: 1 },
        { n: 2 },
      ]);
      expect(await primary.exists(`${prefix}{events}:t:s/1`)).toBe(1);
    } finally {
      primary.disconnect();
    }
    const resumed = await openStream(g.url, '/events?topic=s/**', {
      headers: { 'Last-Event-ID': first.body.id as string },
    });
    try {
      await resumed.waitForEvents(1, 10_000);
      expect(resumed.events[0].id).toBe(stream.events[1].id);
    } finally {
      await resumed.close();
    }
  });
});
