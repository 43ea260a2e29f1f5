import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

interface InstanceOverview {
  instance: string;
  at: number;
  startedAt: number;
  ready: boolean;
  draining: boolean;
  broker: { driver: string; status: string };
  eventLoopDelayMs: number;
  connections: number;
  published: number;
  delivered: number;
  slowConsumerCuts: number;
  shed: Record<string, number>;
  latency: { buckets: number[]; count: number; sum: number };
  topics: { distinct: number; top: { topic: string; subscribers: number }[] };
}

interface Overview {
  at: number;
  latencyBuckets: number[];
  instances: InstanceOverview[];
  missing: string[];
  totals: Record<string, number>;
  topTopics: { topic: string; subscribers: number }[];
  topTopicsExact: boolean;
}

const token = (sub: string, grants: { subscribe?: string[]; admin?: boolean }) =>
  hs256(claims(grants, { sub }));

describe('GET /admin/overview (memory broker)', () => {
  let gw: Gateway;
  const streams: SseStream[] = [];
  const admin = token('ops', { admin: true });

  beforeAll(async () => {
    gw = await startTestGateway({ INSTANCE_ID: 'overview-1', MAX_CONNECTIONS: '5' });
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await gw.app.close();
  });

  const overview = async (query = ''): Promise<Overview> => {
    const res = await fetch(`${gw.url}/admin/overview${query}`, { headers: bearer(admin) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return (await res.json()) as Overview;
  };

  it('should refuse without a token (401) and without admin (403)', async () => {
    const anonymous = await fetch(`${gw.url}/admin/overview`);
    expect(anonymous.status).toBe(401);
    const user = await fetch(`${gw.url}/admin/overview`, {
      headers: bearer(token('u', { subscribe: ['**'] })),
    });
    expect(user.status).toBe(403);
    expect(await user.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });

  it('should answer 400 with a JSON message for a bad topics limit', async () => {
    for (const q of ['?topics=101', '?topics=-1', '?topics=abc', '?topics=1&topics=2']) {
      const res = await fetch(`${gw.url}/admin/overview${q}`, { headers: bearer(admin) });
      expect(res.status, q).toBe(400);
      expect(await res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'topics must be an integer from 0 to 100',
      });
    }
  });

  it('should report the streams, publishes, deliveries, latency and top topics of real traffic', async () => {
    const before = await overview();
    expect(before.instances).toHaveLength(1);
    const base = before.instances[0];
    expect(base).toMatchObject({
      instance: 'overview-1',
      ready: true,
      draining: false,
      broker: { driver: 'memory', status: 'up' },
      connections: 0,
    });
    expect(before.latencyBuckets.length + 1).toBe(base.latency.buckets.length);

    for (const topics of ['topic=ov/a&topic=ov/b', 'topic=ov/a', 'topic=ov/a&topic=ov/**']) {
      const s = await openStream(gw.url, `/events?${topics}`);
      expect(s.status).toBe(200);
      streams.push(s);
    }
    for (let i = 0; i < 4; i++) await publish(gw.url, { topic: 'ov/a', data: i });
    for (const s of streams) await s.waitForEvents(4);

    const after = await overview();
    const now = after.instances[0];
    expect(now.connections).toBe(3);
    expect(now.published - base.published).toBe(4);
    expect(now.delivered - base.delivered).toBe(12);
    expect(now.latency.count - base.latency.count).toBeGreaterThanOrEqual(4);
    expect(now.latency.buckets.at(-1)).toBe(now.latency.count);
    expect(now.startedAt).toBe(base.startedAt);
    expect(now.at).toBeGreaterThanOrEqual(base.at);
    expect(after.totals).toMatchObject({ instances: 1, ready: 1, connections: 3 });
    expect(after.topTopics).toEqual([
      { topic: 'ov/a', subscribers: 3 },
      { topic: 'ov/**', subscribers: 1 },
      { topic: 'ov/b', subscribers: 1 },
    ]);
    expect(after.topTopicsExact).toBe(true);
    expect(after.missing).toEqual([]);

    const capped = await overview('?topics=1');
    expect(capped.topTopics).toEqual([{ topic: 'ov/a', subscribers: 3 }]);
  });

  it('should count sheds by reason', async () => {
    // MAX_CONNECTIONS=5 with 3 open: two more fit, the third is shed for capacity.
    for (let i = 0; i < 3; i++) {
      const s = await openStream(gw.url, '/events?topic=ov/c');
      streams.push(s);
    }
    const o = await waitFor(async () => {
      const got = await overview();
      return (got.instances[0].shed.capacity ?? 0) >= 1 ? got : undefined;
    }, 'a capacity shed');
    expect(o.instances[0].shed.capacity).toBe(1);
    expect(o.totals.shed).toBeGreaterThanOrEqual(1);
  });

  it('should never put topic names in the Prometheus metrics', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).not.toContain('ov/a');
  });
});
