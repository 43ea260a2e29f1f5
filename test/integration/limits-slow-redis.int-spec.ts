import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { startLatencyProxy, type LatencyProxy } from '../support/latency-proxy';
import {
  requireRedis,
  startRedisServer,
  uniqueKeyPrefix,
  type RedisServer,
} from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { scrape, value } from '../support/telemetry';
import { waitFor } from '../support/wait';

/** From this suite's private port range (6460-6469). */
const PORTS = { redis: 6460, proxy: 6461 };
/** Added to every chunk of the limits connection once Redis turns slow: far past its 500 ms timeout. */
const SLOW_MS = 2000;

/**
 * Limits fail open when Redis is slow, not only when it is unreachable: a private redis-server
 * behind a delaying proxy answers the limits store (its connection is named `herald-limits`)
 * too late for the store's command timeout, while the broker's connections stay fast. Streams and
 * publishes past the caps are admitted and each check is counted in
 * `herald_limits_fail_open_total`; while Redis is fast, the same caps are enforced.
 */
describe('Limits with a slow Redis (fail open)', () => {
  requireRedis();
  let redis: RedisServer | undefined;
  let proxy: LatencyProxy | undefined;
  let gw: Gateway | undefined;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    redis = await startRedisServer(PORTS.redis);
    proxy = await startLatencyProxy(PORTS.proxy, PORTS.redis, () => undefined);
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await gw?.app.close();
    await proxy?.close();
    await redis?.stop();
  });

  /** `open` when the stream stays open, else the reason of its herald.shed. */
  const attempt = async (base: string): Promise<string> => {
    const s = await openStream(base, '/events?topic=slow/limits');
    expect(s.status).toBe(200);
    await waitFor(() => s.raw.includes('\n\n'), 'first frame', 10_000);
    if (!s.raw.includes('event: herald.shed')) {
      streams.push(s);
      return 'open';
    }
    const [shed] = await s.waitForEvents(1);
    await s.close();
    return (JSON.parse(shed.data) as { reason: string }).reason;
  };
  const failOpen = async (kind: string) =>
    value(await scrape(gw!.url), 'herald_limits_fail_open_total', { kind });

  it('should admit connects and publishes past the caps and count them while Redis answers too slowly', async () => {
    const prefix = uniqueKeyPrefix('slow-limits');
    gw = await startTestGateway({
      BROKER: 'redis',
      REDIS_URL: proxy!.url,
      REDIS_KEY_PREFIX: prefix,
      INGEST_STREAM: `${prefix}ingest`,
      MAX_CONNECTIONS_PER_IP: '2',
      PUBLISH_BURST: '2',
      PUBLISH_RATE_PER_S: '0.001',
    });
    const url = gw.url;
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'ready', 10_000);

    // Redis fast: the caps hold (counted in Redis, through the proxy).
    expect([await attempt(url), await attempt(url), await attempt(url)]).toEqual([
      'open',
      'open',
      'capacity',
    ]);
    const fast = [];
    for (let i = 0; i < 3; i++)
      fast.push((await publish(url, { topic: 'slow/p', data: i })).status);
    expect(fast).toEqual([202, 202, 429]);
    const before = { caps: await failOpen('caps'), rate: await failOpen('rate') };
    expect(before).toEqual({ caps: 0, rate: 0 });

    // Redis slow for the limits store: every check times out and fails open.
    proxy!.setPolicy((sent) => (sent.includes('herald-limits') ? SLOW_MS : undefined));
    // The limits store's connection was found by its name (else this test would prove nothing).
    expect(proxy!.connections.some((c) => c.delayMs === SLOW_MS)).toBe(true);
    expect([await attempt(url), await attempt(url)]).toEqual(['open', 'open']);
    const slow = [];
    for (let i = 0; i < 3; i++) {
      const res = await publish(url, { topic: 'slow/limits', data: { i } });
      slow.push(res.status);
    }
    expect(slow).toEqual([202, 202, 202]);
    // The publishes admitted without a limit check were delivered like any other.
    for (const s of streams) await s.waitForEvents(3, 10_000);
    const after = { caps: await failOpen('caps'), rate: await failOpen('rate') };
    // Two admitted streams (one caps check each) and three publishes (one rate check each).
    expect(after.caps).toBeGreaterThanOrEqual(2);
    expect(after.rate).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
