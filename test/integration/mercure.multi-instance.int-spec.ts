import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisGatewayPair } from '../support/gateway-pair';
import { LEGACY_ALL, V1_ALL, hubUrl, mercurePublishFresh, v1Token } from '../support/mercure';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy';
import { SseStream } from '../support/sse-client';
import { bearer } from '../support/tokens';
import { waitFor } from '../support/wait';

const portOf = (url: string) => Number(new URL(url).port);

/** Two Mercure hubs (gateway processes, built dist/) on one Redis, behind a round-robin proxy. */
describe('Mercure hub on two instances (Redis) behind a round-robin proxy', () => {
  const gws = useRedisGatewayPair(
    'mercure',
    { MERCURE: 'on', MERCURE_SUBSCRIPTIONS: 'true', RETRY_MS: '100' },
    { ids: ['mercure-a', 'mercure-b'], closeStreams: 'afterAll', setupTimeoutMs: 60_000 },
  );
  let proxy: RoundRobinProxy;
  const streams: SseStream[] = [];
  /** Opens a stream through the proxy on instance `index` (0: a, 1: b). */
  const openOn = async (
    index: number,
    params: [string, string][],
    headers: Record<string, string> = bearer(V1_ALL),
  ) => {
    proxy.pin(index);
    const s = new SseStream(hubUrl(proxy.url, params));
    streams.push(s);
    await s.connect({ headers });
    proxy.pin(undefined);
    expect(s.status).toBe(200);
    return s;
  };
  const idsOf = (s: SseStream) => s.events.filter((e) => e.event === 'message').map((e) => e.id);

  beforeAll(async () => {
    if (!gws.redisReady()) return;
    proxy = await startRoundRobinProxy([portOf(gws.a.url), portOf(gws.b.url)]);
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await proxy?.stop();
  });

  it('should deliver updates published on either instance to subscribers on both, in one order', async () => {
    const topic = `https://example.com/multi/${randomUUID()}`;
    const onA = await openOn(0, [['match', topic]]);
    const onB = await openOn(1, [['match_urlpattern', 'https://example.com/multi/:id']]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      // A new connection per publish: the proxy alternates the instance.
      const res = await mercurePublishFresh(proxy.url, [
        ['topic', topic],
        ['data', `u${i}`],
      ]);
      expect(res.status).toBe(200);
      ids.push(res.body);
    }
    expect(new Set(proxy.routed.slice(-20))).toEqual(new Set([0, 1]));
    await waitFor(() => idsOf(onA).length >= 20 && idsOf(onB).length >= 20, 'both got 20', 15_000);
    expect(idsOf(onA)).toEqual(ids);
    expect(idsOf(onB)).toEqual(ids);
  });

  it('should resume on the other instance after a publisher id, and after earliest', async () => {
    const topic = `https://example.com/resume/${randomUUID()}`;
    const first = await openOn(0, [['match', topic]]);
    const ids = ['urn:m:1', 'urn:m:2', 'urn:m:3', 'urn:m:4'];
    for (const id of ids) {
      expect(
        (
          await mercurePublishFresh(proxy.url, [
            ['topic', topic],
            ['id', id],
          ])
        ).status,
      ).toBe(200);
    }
    await waitFor(() => idsOf(first).length >= 4, 'first got 4', 10_000);
    await first.close();
    // The client reconnects through the proxy and lands on B.
    const resumed = await openOn(1, [['match', topic]], {
      ...bearer(V1_ALL),
      'Last-Event-ID': 'urn:m:2',
    });
    expect(resumed.headers.get('mercure-last-event-id')).toBe('urn:m:2');
    await waitFor(() => idsOf(resumed).length >= 2, 'resumed got 2', 10_000);
    const live = await mercurePublishFresh(proxy.url, [
      ['topic', topic],
      ['id', 'urn:m:5'],
    ]);
    expect(live.status).toBe(200);
    await waitFor(() => idsOf(resumed).length >= 3, 'resumed got 3', 10_000);
    expect(idsOf(resumed)).toEqual(['urn:m:3', 'urn:m:4', 'urn:m:5']);
    const earliest = await openOn(
      0,
      [
        ['topic', topic],
        ['lastEventID', 'earliest'],
      ],
      bearer(LEGACY_ALL),
    );
    await waitFor(() => idsOf(earliest).length >= 5, 'earliest got 5', 10_000);
    expect(idsOf(earliest)).toEqual([...ids, 'urn:m:5']);
  });

  it('should announce subscriptions cluster-wide, list them, and end those of a killed instance', async () => {
    const topic = `https://example.com/watched/${randomUUID()}`;
    const watcherToken = v1Token([{ actions: ['subscribe'], topics: [{ match: '*' }] }]);
    const watcher = await openOn(
      1,
      [['topic', '/.well-known/mercure/subscriptions/{topic}/{subscriber}']],
      bearer(watcherToken),
    );
    const docsOf = () =>
      watcher.events
        .filter((e) => e.event === 'message')
        .map(
          (e) =>
            JSON.parse(e.data) as {
              topic: string;
              active: boolean;
              subscriber: string;
              type: string;
            },
        )
        .filter((d) => d.topic === topic);
    await openOn(0, [['match', topic]]);
    const [active] = await waitFor(
      () => (docsOf().length >= 1 ? docsOf() : undefined),
      'active event',
      10_000,
    );
    expect(active).toMatchObject({ type: 'Subscription', topic, active: true });
    expect(active.subscriber).toMatch(/^urn:uuid:/);
    // The API on B lists the subscription held by A.
    const res = await fetch(new URL('/.well-known/mercure/subscriptions', gws.b.url), {
      headers: bearer(watcherToken),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    const body = (await res.json()) as { type: string; subscriptions: { topic: string }[] };
    expect(body.type).toBe('Subscriptions');
    expect(body.subscriptions.map((s) => s.topic)).toContain(topic);
    const one = await fetch(
      new URL(
        `/.well-known/mercure/subscriptions/${encodeURIComponent(topic)}/${encodeURIComponent(active.subscriber)}`,
        gws.b.url,
      ),
      { headers: bearer(watcherToken) },
    );
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ topic, subscriber: active.subscriber, active: true });
    const forbidden = await fetch(new URL('/.well-known/mercure/subscriptions', gws.b.url), {
      headers: bearer(
        v1Token([{ actions: ['subscribe'], topics: [{ match: 'https://example.com/other' }] }]),
      ),
    });
    expect(forbidden.status).toBe(403);
    // A dies without closing anything: B announces A's subscription as ended.
    gws.a.kill('SIGKILL');
    await gws.a.exited;
    proxy.setDown(0, true);
    const ended = await waitFor(
      () => docsOf().find((d) => d.subscriber === active.subscriber && !d.active),
      'inactive event after instance death',
      45_000,
    );
    expect(ended).toMatchObject({ topic, active: false });
  }, 60_000);
});
