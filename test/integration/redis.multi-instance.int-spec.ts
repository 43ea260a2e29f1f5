import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { useRedisGatewayPair } from '../support/gateway-pair';
import { checkIdempotencyAcrossInstances } from '../support/gateway-pair.checks';
import { publish, type SseStream } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** Two gateway processes (built dist/) sharing one Redis key space. */
describe('Redis broker with two gateway instances', () => {
  const gws = useRedisGatewayPair('multi', { RETRY_MS: '100', HISTORY_SIZE: '5000' });
  const open = gws.open;

  it('should deliver events published on A to subscribers on A and B in the same order', async () => {
    const onA = await open(gws.a.url, '/events?topic=order/**');
    const onB = await open(gws.b.url, '/events?topic=order/**&topic=other');
    await sleep(200);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await publish(gws.a.url, { topic: `order/${i % 4}`, data: { i } });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    await onA.waitForEvents(60, 10_000);
    await onB.waitForEvents(60, 10_000);
    expect(onA.events.map((e) => e.id)).toEqual(ids);
    expect(onB.events.map((e) => e.id)).toEqual(ids);
  });

  it('should deduplicate an Idempotency-Key retried on the other instance', async () => {
    await checkIdempotencyAcrossInstances(gws);
  });

  it('should give clients joining B mid-burst a gap-free, duplicate-free suffix of the publishes on A', async () => {
    const ids: string[] = [];
    const joined: { stream: SseStream; after: number }[] = [];
    const resumed: { stream: SseStream; cursorIndex: number }[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await publish(gws.a.url, { topic: 'burst/x', data: { i } });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
      if (i % 125 === 62) {
        joined.push({ stream: await open(gws.b.url, '/events?topic=burst/*'), after: i });
        const cursorIndex = i - 40;
        const s = await open(gws.b.url, '/events?topic=burst/x', {
          'Last-Event-ID': ids[cursorIndex],
        });
        resumed.push({ stream: s, cursorIndex });
      }
    }
    for (const { stream } of joined) {
      await waitFor(
        () => stream.events.at(-1)?.id === ids.at(-1),
        'last event on a mid-burst client',
        20_000,
        20,
      );
      const got = stream.events.map((e) => e.id as string);
      const start = ids.indexOf(got[0]);
      expect(start).toBeGreaterThanOrEqual(0);
      expect(got).toEqual(ids.slice(start));
    }
    for (const { stream, cursorIndex } of resumed) {
      await waitFor(
        () => stream.events.at(-1)?.id === ids.at(-1),
        'last event on a resumed client',
        20_000,
        20,
      );
      expect(stream.events.map((e) => e.id)).toEqual(ids.slice(cursorIndex + 1));
    }
  });

  it('should resume a reconnect storm of one cursor on the other instance, every client in full', async () => {
    const first = await publish(gws.a.url, { topic: 'storm/1', data: 0 });
    const ids: string[] = [];
    for (let i = 1; i <= 30; i++) {
      ids.push((await publish(gws.a.url, { topic: `storm/${i % 2}`, data: i })).body.id as string);
    }
    const cursor = first.body.id as string;
    const storm = await Promise.all(
      Array.from({ length: 200 }, () =>
        open(gws.b.url, '/events?topic=storm/*', { 'Last-Event-ID': cursor }),
      ),
    );
    expect((await fetch(`${gws.b.url}/health/live`)).status).toBe(200);
    for (const s of storm) {
      await s.waitForEvents(30, 20_000);
      expect(s.events.map((e) => e.id)).toEqual(ids);
    }
  });

  it('should let EventSource clients of a killed instance resume on the other without loss', async () => {
    // The clients' "load balancer": every (re)connect goes to whichever instance is alive.
    let target = gws.a.url;
    const clients: { es: EventSource; got: string[]; errors: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const client = { es: undefined as unknown as EventSource, got: [] as string[], errors: 0 };
      client.es = new EventSource(`${gws.a.url}/events?topic=kill/*`, {
        fetch: (input, init) => {
          const url = new URL(String(input));
          return fetch(`${target}${url.pathname}${url.search}`, init);
        },
      });
      client.es.addEventListener('message', (e) => client.got.push(e.lastEventId));
      client.es.addEventListener('herald.reset', () => client.got.push('RESET'));
      client.es.onerror = () => client.errors++;
      clients.push(client);
    }
    await waitFor(
      () => clients.every((c) => c.es.readyState === EventSource.OPEN),
      'EventSource clients open on A',
      10_000,
    );
    await sleep(200);
    const ids: string[] = [];
    const pub = async (i: number) => {
      const res = await publish(gws.b.url, { topic: `kill/${i % 3}`, data: { i } });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    };
    for (let i = 0; i < 100; i++) await pub(i);
    await waitFor(() => clients.every((c) => c.got.length >= 50), 'events before the kill');
    gws.a.kill('SIGKILL');
    target = gws.b.url;
    for (let i = 100; i < 300; i++) {
      await pub(i);
      if (i % 20 === 0) await sleep(10);
    }
    try {
      for (const c of clients) {
        await waitFor(() => c.got.at(-1) === ids.at(-1), 'every event after the kill', 20_000);
        expect(c.errors).toBeGreaterThan(0);
        expect(c.got).toEqual(ids);
      }
    } finally {
      for (const c of clients) c.es.close();
    }
  });
});
