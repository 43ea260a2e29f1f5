import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { openStream, type SseStream } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** The ingest stream (CONTRACT section 2) consumed by two instances, one of which dies. */
describe('Redis ingest stream', () => {
  requireRedis();
  const prefix = uniqueKeyPrefix('ingest');
  const stream = `${prefix}ingest`;
  const gateways: SpawnedGateway[] = [];
  let client: SseStream | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    await client?.close();
    for (const g of gateways) g.kill('SIGKILL');
    await Promise.all(gateways.map((g) => g.exited));
    redis?.disconnect();
    await deleteKeys(prefix);
  });

  it('should publish every valid entry exactly once and dead-letter invalid ones while an instance dies', async () => {
    const env = {
      BROKER: 'redis',
      REDIS_URL: redisUrlForTests(),
      REDIS_KEY_PREFIX: prefix,
      INGEST_STREAM: stream,
      INGEST_CLAIM_IDLE_MS: '1500',
      HISTORY_SIZE: '5000',
      REDACT_KEYS: 'password',
    };
    const [a, b] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
    gateways.push(a, b);
    for (const g of gateways) {
      await waitFor(async () => (await fetch(`${g.url}/health/ready`)).ok, 'ready', 10_000);
    }
    client = await openStream(b.url, '/events?topic=ing/**');
    await sleep(200);
    redis = new Redis(redisUrlForTests());

    const valid: number[] = [];
    const invalid: string[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 7) {
        await redis.xadd(stream, '*', 'topic', 'ing/x', 'data', '{not json');
        invalid.push('not valid JSON');
      } else if (i % 50 === 19) {
        await redis.xadd(stream, '*', 'topic', 'ing/x', 'type', 'herald.fake', 'data', '1');
        invalid.push('reserved');
      } else if (i % 50 === 31) {
        await redis.xadd(stream, '*', 'topic', 'ing/bad topic', 'data', '1');
        invalid.push('invalid topic');
      } else {
        const data = JSON.stringify({ i, password: 'p' });
        await redis.xadd(stream, '*', 'topic', `ing/${i % 3}`, 'type', 'ingested', 'data', data);
        valid.push(i);
      }
      if (i === 400) a.kill('SIGKILL');
      if (i % 100 === 0) await sleep(20);
    }

    await waitFor(() => client!.dataEvents.length >= valid.length, 'every valid entry', 30_000);
    await sleep(3000); // a late duplicate (re-claimed entry) would arrive by now
    const seen = client.dataEvents.map(
      (e) => JSON.parse(e.data) as { i: number; password: string },
    );
    expect(seen.map((d) => d.i).sort((x, y) => x - y)).toEqual(valid);
    expect(seen.every((d) => d.password === '[REDACTED]')).toBe(true);
    expect(client.dataEvents.every((e) => e.event === 'ingested')).toBe(true);

    const dead = await waitFor(
      async () => {
        const entries = await redis!.xrange(`${stream}:dead`, '-', '+');
        return entries.length >= invalid.length ? entries : undefined;
      },
      'dead letters',
      10_000,
    );
    expect(dead).toHaveLength(invalid.length);
    for (const [, fields] of dead) {
      const reason = fields[fields.indexOf('reason') + 1];
      expect(reason).toMatch(/not valid JSON|reserved|invalid topic/);
      expect(fields).toContain('entry');
    }
    console.info(
      `ingest: ${/claimed \d+/.exec(b.output())?.[0] ?? 'nothing claimed'} by the survivor`,
    );
    const pending = (await redis.xpending(stream, 'herald')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });
});
