import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '@herald/broker/testing';
import { INGEST_MAX_ATTEMPTS } from '@herald/ingest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { openStream, type SseStream } from '../support/sse-client';
import { waitFor } from '../support/wait';

/**
 * Entries that cannot be published never hold back the ones after them: they are dead-lettered
 * at once (invalid) or after a bounded number of attempts (handling fails), on real Redis.
 */
describe('Redis ingest: poison entries', () => {
  const available = requireRedis();
  const prefix = uniqueKeyPrefix('ingest-poison');
  const stream = `${prefix}ingest`;
  const dead = `${stream}:dead`;
  const DEAD_MAXLEN = 100;
  let gw: Gateway | undefined;
  let client: SseStream | undefined;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(redisUrlForTests());
    if (!available()) return;
    gw = await startTestGateway({
      BROKER: 'redis',
      REDIS_URL: redisUrlForTests(),
      REDIS_KEY_PREFIX: prefix,
      INGEST_STREAM: stream,
      INGEST_DEAD_MAXLEN: String(DEAD_MAXLEN),
      MAX_EVENT_DEPTH: '64',
    });
    await waitFor(async () => (await fetch(`${gw!.url}/health/ready`)).ok, 'ready', 10_000);
    client = await openStream(gw.url, '/events?topic=poison/**');
  });
  afterAll(async () => {
    await client?.close();
    await gw?.app.close();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  const deadLetter = (entry: string) =>
    waitFor(
      async () => {
        const all = await redis.xrange(dead, '-', '+');
        const found = all.find(([, f]) => f[f.indexOf('entry') + 1] === entry);
        return found ? found[1] : undefined;
      },
      `dead letter of ${entry}`,
      15_000,
    );
  const delivered = (marker: string) =>
    waitFor(
      () => client!.dataEvents.find((e) => e.data === JSON.stringify(marker)),
      `delivery of ${marker}`,
      15_000,
    );

  it('should dead-letter an entry nested 5,000 levels deep with the reason and publish the valid entry after it', async () => {
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const bad = (await redis.xadd(stream, '*', 'topic', 'poison/deep', 'data', deep)) as string;
    await redis.xadd(stream, '*', 'topic', 'poison/deep', 'data', '"after deep"');
    await delivered('after deep');
    const fields = await deadLetter(bad);
    expect(fields[fields.indexOf('reason') + 1]).toBe(
      'body: "data" is nested more than 64 levels deep (MAX_EVENT_DEPTH)',
    );
    expect(fields[fields.indexOf('data') + 1]).toBe(deep);
  });

  it('should retry an entry whose publish keeps failing a bounded number of times, then dead-letter it while later entries flow', async () => {
    // The broker fails for this entry only: its idempotency record's key holds a hash, so the
    // publish script's GET on it errors (WRONGTYPE) before writing anything.
    const record = new RedisKeys(prefix).idempotency({
      scope: { namespace: 'ingest', owner: stream },
      key: 'poison-1',
    });
    await redis.hset(record, 'not', 'a string');
    const bad = (await redis.xadd(
      stream,
      '*',
      'topic',
      'poison/broker',
      'idempotencyKey',
      'poison-1',
      'data',
      '"never"',
    )) as string;
    await redis.xadd(stream, '*', 'topic', 'poison/broker', 'data', '"after poison"');
    const fields = await deadLetter(bad);
    expect(fields[fields.indexOf('reason') + 1]).toMatch(
      new RegExp(`^not published after ${INGEST_MAX_ATTEMPTS} attempts: .*WRONGTYPE`),
    );
    await delivered('after poison');
    expect(client!.dataEvents.some((e) => e.data === '"never"')).toBe(false);
    const pending = (await redis.xpending(stream, 'herald')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('should cap the dead-letter stream near INGEST_DEAD_MAXLEN, keeping the newest', async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.xadd(stream, '*', 'topic', 'poison/x', 'data', '{bad');
    const replies = (await pipeline.exec()) ?? [];
    const last = replies[replies.length - 1][1] as string;
    await deadLetter(last);
    const length = await redis.xlen(dead);
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): at most one node over.
    expect(length).toBeGreaterThanOrEqual(DEAD_MAXLEN);
    expect(length).toBeLessThanOrEqual(DEAD_MAXLEN + 100);
  });
});
