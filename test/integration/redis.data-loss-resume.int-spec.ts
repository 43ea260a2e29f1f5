import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { requireRedis, startRedisServer, type RedisServer } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { waitFor } from '../support/wait';

/** Private redis-server port of this suite (6530-6539 belong to the review suites). */
const REDIS_PORT = 6533;

/**
 * Redis restarted without persistence: the key space has a new epoch and its sequence starts
 * again at 1. A client resuming with a cursor of the lost key space gets `herald.reset`
 * (`unknown-cursor`) and must then receive every new event: its old cursor's sequence belongs to
 * another epoch and must not filter the new one's events.
 */
describe('Resume after Redis lost its data (private redis-server, no persistence)', () => {
  requireRedis();
  let redis: RedisServer;
  let gw: Gateway;
  const streams: SseStream[] = [];
  const ready = async () => (await fetch(`${gw.url}/health/ready`)).status === 200;

  beforeAll(async () => {
    redis = await startRedisServer(REDIS_PORT);
    gw = await startTestGateway({ BROKER: 'redis', REDIS_URL: redis.url });
    await waitFor(ready, 'gateway ready', 15_000);
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await gw?.app.close();
    await redis?.stop();
  });

  it('should reset a cursor of the lost key space and then deliver every new event', async () => {
    let old = '';
    for (let i = 0; i < 20; i++) {
      const res = await publish(gw.url, { topic: 'loss/a', data: i });
      expect(res.status).toBe(202);
      old = res.body.id as string;
    }
    await redis.stop('SIGKILL');
    redis = await startRedisServer(REDIS_PORT);
    await waitFor(ready, 'gateway ready again', 15_000);
    // The new key space's first event (sequence 1).
    await waitFor(
      async () => (await publish(gw.url, { topic: 'loss/b', data: 'first' })).status === 202,
      'publish accepted again',
      10_000,
    );

    const stream = await openStream(gw.url, '/events?topic=loss/a', {
      headers: { 'Last-Event-ID': old },
    });
    streams.push(stream);
    expect(stream.status).toBe(200);
    const [reset] = await stream.waitForEvents(1);
    expect(reset.event).toBe('herald.reset');
    expect(JSON.parse(reset.data)).toEqual({ reason: 'unknown-cursor' });

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await publish(gw.url, { topic: 'loss/a', data: `new-${i}` });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    await waitFor(
      () => stream.dataEvents.length >= 3,
      `3 new events after the reset (have ${stream.dataEvents.length})`,
      5000,
    ).catch(() => undefined);
    expect(stream.dataEvents.map((e) => e.id)).toEqual(ids);
  }, 60_000);
});
