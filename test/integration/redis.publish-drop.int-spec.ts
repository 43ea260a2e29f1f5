import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '@herald/broker/testing';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { sleep, waitFor } from '../support/wait';

/** Private proxy port of this suite (6450-6459 belong to the admission/fault suites). */
const PROXY_PORT = 6451;

/**
 * The client -> Redis chunk that runs the publish script for `streamKey` (EVALSHA, or EVAL after
 * NOSCRIPT). The key matters: the rate limit and caps run scripts of their own on other
 * connections.
 */
const isPublishScript =
  (streamKey: string) =>
  (chunk: Buffer): boolean => {
    const text = chunk.toString('latin1');
    return /\$7\r\nevalsha\r\n|\$4\r\neval\r\n/i.test(text) && text.includes(streamKey);
  };

/**
 * RELIABILITY 35 / issue 11 defect 4: the command connection drops after Redis ran the publish
 * script but before its reply reached Herald. Herald must not resend it (a second execution
 * stores and delivers the event twice); the publisher gets 503 and may retry with its
 * Idempotency-Key.
 */
describe('Publish when the Redis connection drops before the reply', () => {
  requireRedis();
  let proxy: TcpProxy;
  let gw: Gateway;
  let redis: Redis;
  const prefix = uniqueKeyPrefix('pubdrop');
  const keys = new RedisKeys(prefix);
  const streams: SseStream[] = [];

  beforeAll(async () => {
    proxy = await startTcpProxy({ targetPort: 6379, port: PROXY_PORT });
    redis = new Redis(redisUrlForTests());
    gw = await startTestGateway({
      BROKER: 'redis',
      REDIS_URL: proxy.redisUrl,
      REDIS_KEY_PREFIX: prefix,
    });
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`)).status === 200,
      'gateway ready',
      10_000,
    );
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) await s.close();
  });
  afterAll(async () => {
    await gw?.app.close();
    await proxy?.stop();
    await deleteKeys(prefix);
    redis?.disconnect();
  });

  /** A live subscriber of `topic`, connected before anything is published. */
  const subscriber = async (topic: string) => {
    const s = await openStream(gw.url, `/events?topic=${topic}`);
    streams.push(s);
    expect(s.status).toBe(200);
    await sleep(100);
    return s;
  };

  /** Publishes once with the cut armed; resolves with the answer and after the cut happened. */
  const publishThroughCut = async (topic: string, headers: Record<string, string> = {}) => {
    const cut = proxy.cutAfter({ match: isPublishScript(keys.stream(topic)), holdServerMs: 200 });
    const res = await publish(gw.url, { topic, type: 'order.updated', data: { n: 1 } }, headers);
    await cut;
    return res;
  };

  /** Time for a reconnect (100 ms retry) plus a resent script and its fan-out, if any. */
  const settle = () => sleep(1500);

  it('should answer 503 and store and deliver the event at most once when no key is sent', async () => {
    const topic = 'orders/drop-1';
    const s = await subscriber(topic);
    const res = await publishThroughCut(topic);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(String(res.body.message)).toMatch(/Idempotency-Key/);
    await settle();
    // Redis did run the script once (the drop came after it): exactly one stored event.
    expect(await redis.xlen(keys.stream(topic))).toBe(1);
    expect(s.dataEvents).toHaveLength(1);
    // The gateway is usable again through the same (reconnected) connection.
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`)).status === 200,
      'ready again',
      10_000,
    );
    const next = await publish(gw.url, { topic, data: { n: 2 } });
    expect(next.status).toBe(202);
    await s.waitForEvents(2);
    expect(await redis.xlen(keys.stream(topic))).toBe(2);
  });

  it('should give one event in total when the publisher retries with its Idempotency-Key', async () => {
    const topic = 'orders/drop-2';
    const s = await subscriber(topic);
    const key = { 'Idempotency-Key': 'drop-retry-1' };
    const first = await publishThroughCut(topic, key);
    expect(first.status).toBe(503);
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`)).status === 200,
      'ready again',
      10_000,
    );
    const retry = await publish(gw.url, { topic, type: 'order.updated', data: { n: 1 } }, key);
    expect(retry.status).toBe(202);
    await settle();
    expect(await redis.xlen(keys.stream(topic))).toBe(1);
    expect(s.dataEvents.map((e) => e.id)).toEqual([retry.body.id]);
    // The retry answered the id of the one stored event.
    const [[firstId]] = await redis.xrange(keys.stream(topic), '-', '+');
    expect(String(retry.body.id)).toContain(firstId.replace('-', '.'));
  });
});
