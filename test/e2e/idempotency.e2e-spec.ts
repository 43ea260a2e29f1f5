import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

const publisher = (sub: string | undefined) =>
  bearer(hs256(claims({ subscribe: ['**'], publish: ['**'] }, { sub })));

/**
 * Idempotency-Key over HTTP on both brokers: scopes that cannot collide, and expiry after
 * HISTORY_TTL_S (CONTRACT section 2).
 */
describe.each(['memory', 'redis'] as const)('Idempotency-Key (%s broker)', (broker) => {
  const redisUp = broker === 'redis' ? requireRedis() : () => true;
  const prefix = uniqueKeyPrefix('idem');
  const stream = `${prefix}ingest`;
  let gw: Gateway | undefined;
  let sse: SseStream | undefined;

  beforeAll(async () => {
    if (!redisUp()) return;
    gw = await startTestGateway({
      HISTORY_TTL_S: '1',
      TRUST_PROXY: 'loopback',
      ...(broker === 'redis'
        ? {
            BROKER: 'redis',
            REDIS_URL: redisUrlForTests(),
            REDIS_KEY_PREFIX: prefix,
            INGEST_STREAM: stream,
          }
        : {}),
    });
    sse = await openStream(gw.url, '/events?topic=idem/**');
    await sleep(100);
  });
  afterAll(async () => {
    await sse?.close();
    await gw?.app.close();
    if (broker === 'redis') await deleteKeys(prefix);
  });

  const post = (data: unknown, key: string, headers: Record<string, string>) =>
    publish(gw!.url, { topic: 'idem/x', data }, { 'Idempotency-Key': key, ...headers });
  const delivered = (id: string) =>
    waitFor(() => sse!.events.find((e) => e.id === id), `event ${id}`, 5000);

  it('should keep sub "acme" with key "user:order-42" apart from sub "acme:user" with key "order-42"', async () => {
    const one = await post('acme', 'user:order-42', publisher('acme'));
    const two = await post('acme:user', 'order-42', publisher('acme:user'));
    expect([one.status, two.status]).toEqual([202, 202]);
    expect(two.body.id).not.toBe(one.body.id);
    expect((await delivered(two.body.id as string)).data).toBe('"acme:user"');
    // Each scope still deduplicates its own key.
    const again = await post('acme', 'user:order-42', publisher('acme'));
    expect(again.body).toEqual(one.body);
  });

  it('should scope publishers without sub by client IP: two IPs never share a key, one IP does', async () => {
    const a = await post('from a', 'no-sub-1', {
      ...publisher(undefined),
      'X-Forwarded-For': '203.0.113.1',
    });
    const b = await post('from b', 'no-sub-1', {
      ...publisher(undefined),
      'X-Forwarded-For': '203.0.113.2',
    });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.id).not.toBe(a.body.id);
    const retry = await post('from a', 'no-sub-1', {
      ...publisher(undefined),
      'X-Forwarded-For': '203.0.113.1',
    });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(a.body);
    // A sub that spells the IP is another scope.
    const spelled = await post('sub', 'no-sub-1', publisher('203.0.113.1'));
    expect(spelled.status).toBe(202);
    expect(spelled.body.id).not.toBe(a.body.id);
  });

  it('should accept the same key again as a new publish once HISTORY_TTL_S has passed', async () => {
    const first = await post('first', 'expiring', publisher('ttl'));
    expect((await post('first', 'expiring', publisher('ttl'))).body).toEqual(first.body);
    expect((await post('other body', 'expiring', publisher('ttl'))).status).toBe(422);
    await sleep(1500);
    const later = await post('other body', 'expiring', publisher('ttl'));
    expect(later.status).toBe(202);
    expect(later.body.id).not.toBe(first.body.id);
    expect((await delivered(later.body.id as string)).data).toBe('"other body"');
  });

  // Registered for Redis only (the ingest stream needs it), so that nothing is skipped.
  if (broker === 'redis') {
    it('should not let a token whose sub names the ingest stream pre-claim ingest entries', async () => {
      const redis = new Redis(redisUrlForTests());
      try {
        // Under the old `sub:key` scheme these were exactly the keys of the two entries below.
        const entryId = `${Date.now() + 60_000}-0`;
        const claimer = publisher(`ingest:${stream}`);
        expect((await post('claimed', `entry:${entryId}`, claimer)).status).toBe(202);
        expect((await post('claimed', 'order-7', claimer)).status).toBe(202);
        await redis.xadd(stream, entryId, 'topic', 'idem/x', 'data', '"entry by id"');
        await redis.xadd(
          stream,
          '*',
          'topic',
          'idem/x',
          'idempotencyKey',
          'order-7',
          'data',
          '"entry by key"',
        );
        await waitFor(
          () => sse!.events.find((e) => e.data === '"entry by id"'),
          'the entry keyed by id',
        );
        await waitFor(
          () => sse!.events.find((e) => e.data === '"entry by key"'),
          'the entry with its own key',
        );
        expect(await redis.xlen(`${stream}:dead`)).toBe(0);
      } finally {
        redis.disconnect();
      }
    });
  }
});

/** The memory broker's explicit bound: a full key table refuses new keys, never forgets one. */
describe('Idempotency-Key bound (memory broker)', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startTestGateway({ IDEMPOTENCY_MAX_KEYS: '3', HISTORY_TTL_S: '2' });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  it('should refuse a new key past IDEMPOTENCY_MAX_KEYS with 503 and Retry-After, keep honouring the others, and take keys again once they expire', async () => {
    const send = (key: string, data: unknown = key) =>
      publish(gw.url, { topic: 'bound/x', data }, { 'Idempotency-Key': key });
    const first = [await send('k1'), await send('k2'), await send('k3')];
    expect(first.map((r) => r.status)).toEqual([202, 202, 202]);
    const refused = await send('k4');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(refused.body.message).toMatch(/IDEMPOTENCY_MAX_KEYS/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    // The oldest key was not dropped to make room: its retry is still a duplicate.
    expect((await send('k1')).body).toEqual(first[0].body);
    expect((await send('k1', 'changed')).status).toBe(422);
    // Publishes without a key are not limited.
    expect((await publish(gw.url, { topic: 'bound/x', data: 'plain' })).status).toBe(202);
    await sleep(2200);
    const after = await send('k4');
    expect(after.status).toBe(202);
  });
});
