import { describe, expect, it } from 'vitest';
import { useRedisGatewayPair } from '../support/gateway-pair';
import { publish } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

interface Overview {
  instances: {
    instance: string;
    ready: boolean;
    broker: { driver: string; status: string };
    connections: number;
    published: number;
    delivered: number;
    topics: { top: { topic: string; subscribers: number }[] };
  }[];
  missing: string[];
  totals: { instances: number; ready: number; connections: number; delivered: number };
  topTopics: { topic: string; subscribers: number }[];
}

/** `GET /admin/overview` across two gateway processes sharing one Redis. */
describe('Admin overview (two instances, Redis)', () => {
  const gws = useRedisGatewayPair(
    'overview',
    {},
    { ids: ['ov-a', 'ov-b'], closeStreams: 'afterAll' },
  );
  const { redisReady, streams } = gws;
  const admin = hs256(claims({ admin: true }, { sub: 'ops' }));

  const overview = async (base: string): Promise<Overview> => {
    const res = await fetch(`${base}/admin/overview`, { headers: bearer(admin) });
    expect(res.status).toBe(200);
    return (await res.json()) as Overview;
  };
  const open = async (base: string, topic: string) => {
    const s = await gws.open(base, `/events?topic=${topic}`);
    expect(s.status).toBe(200);
    return s;
  };

  it('should list both instances with their own stream counts, asked on either', async () => {
    if (!redisReady()) return;
    for (let i = 0; i < 3; i++) await open(gws.a.url, 'ov/shared');
    await open(gws.b.url, 'ov/shared');
    await open(gws.b.url, 'ov/only-b');
    const byInstance = (o: Overview) =>
      Object.fromEntries(o.instances.map((i) => [i.instance, i.connections]));
    for (const base of [gws.a.url, gws.b.url]) {
      const o = await waitFor(async () => {
        const got = await overview(base);
        return got.instances.length === 2 ? got : undefined;
      }, `both instances via ${base}`);
      expect(byInstance(o)).toEqual({ 'ov-a': 3, 'ov-b': 2 });
      expect(o.missing).toEqual([]);
      expect(o.totals).toMatchObject({ instances: 2, ready: 2, connections: 5 });
      for (const i of o.instances) {
        expect(i.ready).toBe(true);
        expect(i.broker).toEqual({ driver: 'redis', status: 'up' });
      }
      expect(o.topTopics).toEqual([
        { topic: 'ov/shared', subscribers: 4 },
        { topic: 'ov/only-b', subscribers: 1 },
      ]);
    }
  });

  it('should count deliveries on the instance that wrote them', async () => {
    if (!redisReady()) return;
    const before = await overview(gws.a.url);
    await publish(gws.a.url, { topic: 'ov/shared', data: 1 });
    for (const s of streams.slice(0, 4)) await s.waitForEvents(1);
    const after = await waitFor(async () => {
      const got = await overview(gws.b.url);
      return got.totals.delivered - before.totals.delivered >= 4 ? got : undefined;
    }, 'four deliveries');
    const delta = (id: string) =>
      (after.instances.find((i) => i.instance === id)?.delivered ?? 0) -
      (before.instances.find((i) => i.instance === id)?.delivered ?? 0);
    expect(delta('ov-a')).toBe(3);
    expect(delta('ov-b')).toBe(1);
    const published = (o: Overview) => o.instances.reduce((s, i) => s + i.published, 0);
    expect(published(after) - published(before)).toBe(1);
  });

  it('should name an instance that died without leaving as missing, and still answer', async () => {
    if (!redisReady()) return;
    gws.b.kill('SIGKILL');
    await gws.b.exited;
    // Its heartbeat is still fresh (15 s TTL): it is expected, does not answer, and is missing.
    const o = await overview(gws.a.url);
    expect(o.instances.map((i) => i.instance)).toEqual(['ov-a']);
    expect(o.missing).toEqual(['ov-b']);
    expect(o.totals).toMatchObject({ instances: 1, connections: 3 });
  });
});
