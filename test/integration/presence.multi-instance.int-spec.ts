import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useRedisGatewayPair } from '../support/gateway-pair';
import { CUSTOM_SSE_MAIN, spawnReadyGateway } from '../support/spawn-gateway';
import { publish, type ReceivedEvent, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

const LEASE_MS = 3000;
const ADMIN = hs256(claims({ subscribe: ['**'], admin: true }, { sub: 'ops' }));

function token(sub: string): string {
  return hs256(claims({ subscribe: ['**'] }, { sub }));
}

interface Presence {
  connections: number;
  users: number;
  subscribers: { sub: string; connections: number; instances: string[] }[];
  next: string | null;
}

async function presenceOf(base: string, topic: string): Promise<Presence> {
  const res = await fetch(`${base}/presence?topic=${topic}&limit=1000`, { headers: bearer(ADMIN) });
  expect(res.status).toBe(200);
  return (await res.json()) as Presence;
}

function waitForPresence(
  s: SseStream,
  kind: 'join' | 'leave',
  sub: string,
  timeoutMs = 10_000,
): Promise<ReceivedEvent> {
  return waitFor(
    () => s.events.find((e) => e.event === `herald.${kind}` && e.data.includes(`"sub":"${sub}"`)),
    `herald.${kind} of ${sub}`,
    timeoutMs,
  );
}

function eventsOf(s: SseStream, sub: string): string[] {
  return s.events
    .filter((e) => e.event.startsWith('herald.') && e.data.includes(`"sub":"${sub}"`))
    .map((e) => e.event);
}

/** A raw SSE client that reads and discards (cheaper than fetch for a storm). */
function rawClient(base: string, path: string, auth: string): Socket {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n` +
      `Authorization: Bearer ${auth}\r\n\r\n`,
  );
  return socket;
}

describe('Presence with two gateway instances (Redis)', () => {
  const gws = useRedisGatewayPair(
    'presence',
    { PRESENCE_TOPICS: 'rooms/*,storm,orders/*', PRESENCE_LEASE_TTL_MS: String(LEASE_MS) },
    { ids: ['gw-a', 'gw-b'] },
  );

  it('should list subscribers across instances and join/leave once per user', async () => {
    const watcher = await gws.open(gws.a.url, '/events?topic=rooms/1&presence=events', {
      ...bearer(token('watcher')),
    });
    await waitForPresence(watcher, 'join', 'watcher');
    const onA = await gws.open(gws.a.url, '/events?topic=rooms/1', bearer(token('alice')));
    await waitForPresence(watcher, 'join', 'alice');
    const onB = await gws.open(gws.b.url, '/events?topic=rooms/1', bearer(token('alice')));
    await gws.open(gws.b.url, '/events?topic=rooms/1', bearer(token('bob')));
    await gws.open(gws.b.url, '/events?topic=rooms/1'); // anonymous
    const p = await waitFor(async () => {
      const r = await presenceOf(gws.b.url, 'rooms/1');
      return r.connections === 5 ? r : undefined;
    }, 'five connections');
    expect(p.users).toBe(3);
    expect(p.subscribers).toEqual([
      { sub: 'alice', connections: 2, instances: ['gw-a', 'gw-b'] },
      { sub: 'bob', connections: 1, instances: ['gw-b'] },
      { sub: 'watcher', connections: 1, instances: ['gw-a'] },
    ]);
    await waitForPresence(watcher, 'join', 'bob');
    await onA.close();
    await waitFor(
      async () => (await presenceOf(gws.a.url, 'rooms/1')).connections === 4,
      'four connections',
    );
    expect(eventsOf(watcher, 'alice')).toEqual(['herald.join']);
    await onB.close();
    const left = await waitForPresence(watcher, 'leave', 'alice');
    expect(JSON.parse(left.data)).toEqual({ topic: 'rooms/1', sub: 'alice', connections: 3 });
    expect(eventsOf(watcher, 'alice')).toEqual(['herald.join', 'herald.leave']);
  });

  it("should count and notify a team's @StreamRoute endpoint like GET /events", async () => {
    const feed = await spawnReadyGateway(
      { ...gws.env, INSTANCE_ID: 'orders-feed' },
      15_000,
      CUSTOM_SSE_MAIN,
    );
    try {
      const watcher = await gws.open(feed.url, '/orders/7/feed?presence=events', {
        ...bearer(token('clerk')),
      });
      expect(watcher.status).toBe(200);
      await waitForPresence(watcher, 'join', 'clerk');
      const buyer = await gws.open(gws.a.url, '/events?topic=orders/7', bearer(token('buyer')));
      await waitForPresence(watcher, 'join', 'buyer');
      const p = await presenceOf(gws.b.url, 'orders/7');
      expect(p.subscribers).toEqual([
        { sub: 'buyer', connections: 1, instances: ['gw-a'] },
        { sub: 'clerk', connections: 1, instances: ['orders-feed'] },
      ]);
      await buyer.close();
      await waitForPresence(watcher, 'leave', 'buyer');
    } finally {
      await gws.closeStreams();
      feed.kill('SIGKILL');
      await feed.exited;
    }
  }, 40_000);

  it('should replay the latest event across instances with since=latest', async () => {
    await publish(gws.a.url, { topic: 'prices/eur', data: 1 });
    const { body } = await publish(gws.a.url, { topic: 'prices/eur', data: 2 });
    const { body: other } = await publish(gws.a.url, { topic: 'prices/usd', data: 3 });
    const s = await gws.open(gws.b.url, '/events?topic=prices/eur&since=latest');
    await waitFor(() => s.dataEvents.length >= 1, 'the latest event');
    expect(s.dataEvents.map((e) => e.id)).toEqual([body.id]);
    const pattern = await gws.open(gws.b.url, '/events?topic=prices/*&since=latest');
    await waitFor(() => pattern.dataEvents.length >= 2, 'the latest events');
    expect(pattern.dataEvents.map((e) => e.id)).toEqual([body.id, other.id]);
    const { body: live } = await publish(gws.a.url, { topic: 'prices/eur', data: 4 });
    await waitFor(() => s.dataEvents.length >= 2, 'the live event');
    expect(s.dataEvents.map((e) => e.id)).toEqual([body.id, live.id]);
    await waitFor(() => pattern.dataEvents.length >= 3, 'the live event on the pattern stream');
    expect(pattern.dataEvents.map((e) => e.id)).toEqual([body.id, other.id, live.id]);
  });

  it('should leave within the lease bound when the instance holding a connection is killed', async () => {
    const watcher = await gws.open(gws.a.url, '/events?topic=rooms/kill&presence=events', {
      ...bearer(token('watcher')),
    });
    const c = await spawnReadyGateway({ ...gws.env, INSTANCE_ID: 'gw-c' });
    try {
      const doomed = rawClient(c.url, '/events?topic=rooms/kill', token('zed'));
      await waitForPresence(watcher, 'join', 'zed');
      const before = await presenceOf(gws.b.url, 'rooms/kill');
      expect(before.subscribers.find((s) => s.sub === 'zed')?.instances).toEqual(['gw-c']);
      c.kill('SIGKILL');
      await c.exited;
      doomed.destroy();
      // The documented bound is the lease (3 s here) plus a reap period (a tenth of it); the wait
      // allows five leases so that a loaded machine does not fail it, yet a leave that never
      // comes (no lease expiry, no reap) does.
      await waitForPresence(watcher, 'leave', 'zed', LEASE_MS * 5);
      const after = await presenceOf(gws.b.url, 'rooms/kill');
      expect(after.subscribers.map((s) => s.sub)).toEqual(['watcher']);
    } finally {
      c.kill('SIGKILL');
    }
  }, 40_000);

  it('should leave at once (not by lease expiry) when an instance drains on SIGTERM', async () => {
    const watcher = await gws.open(gws.a.url, '/events?topic=rooms/drain&presence=events', {
      ...bearer(token('watcher')),
    });
    // A lease far longer than the wait below: the leave must come from the drain itself.
    const d = await spawnReadyGateway({
      ...gws.env,
      INSTANCE_ID: 'gw-d',
      PRESENCE_LEASE_TTL_MS: '600000',
    });
    try {
      const drained = rawClient(d.url, '/events?topic=rooms/drain', token('yan'));
      await waitForPresence(watcher, 'join', 'yan');
      d.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      drained.destroy();
      await waitForPresence(watcher, 'leave', 'yan', 15_000);
    } finally {
      d.kill('SIGKILL');
    }
  }, 40_000);

  it('should coalesce a 1,000-client join storm and count it correctly', async () => {
    const watcher = await gws.open(gws.a.url, '/events?topic=storm&presence=events', {
      ...bearer(token('storm-watcher')),
    });
    await waitForPresence(watcher, 'join', 'storm-watcher');
    const clients: Socket[] = [];
    try {
      for (let batch = 0; batch < 10; batch++) {
        for (let i = 0; i < 100; i++) {
          const n = batch * 100 + i;
          const base = n % 2 === 0 ? gws.a.url : gws.b.url;
          clients.push(rawClient(base, '/events?topic=storm', token(`storm-${n}`)));
        }
        await waitFor(
          async () => (await presenceOf(gws.a.url, 'storm')).users >= (batch + 1) * 100 + 1,
          `batch ${batch} counted`,
          30_000,
          100,
        );
      }
      const full = await presenceOf(gws.b.url, 'storm');
      expect(full.users).toBe(1001);
      expect(full.connections).toBe(1001);
      const joinsSeen = (): number =>
        watcher.events.filter((e) => e.event === 'herald.join').length;
      const summaries = (): number =>
        watcher.events.filter((e) => e.event === 'herald.presence').length;
      // Either each join, or a summary for a batch too large: never more than one per user.
      await waitFor(
        () => joinsSeen() + summaries() > 0 && watcher.events.length > 0,
        'presence events',
      );
      expect(joinsSeen()).toBeLessThanOrEqual(1001);
      const joinEvents = watcher.events.filter((e) => e.event === 'herald.join');
      const subs = joinEvents.map((e) => (JSON.parse(e.data) as { sub: string }).sub);
      expect(new Set(subs).size).toBe(subs.length);
    } finally {
      for (const s of clients) s.destroy();
    }
    await waitFor(
      async () => (await presenceOf(gws.a.url, 'storm')).connections === 1,
      'storm left',
      30_000,
      200,
    );
    const leaves = watcher.events.filter((e) => e.event === 'herald.leave').length;
    expect(leaves).toBeLessThanOrEqual(1000);
  }, 180_000);
});
