import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

describe('GET /events (resume)', () => {
  let gw: Gateway;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ RETRY_MS: '10', HISTORY_SIZE: '50' });
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await gw.app.close();
  });
  const open = async (path: string, headers?: Record<string, string>) => {
    const s = await openStream(gw.url, path, { headers });
    streams.push(s);
    return s;
  };
  const ids = async (topic: string, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++)
      out.push((await publish(gw.url, { topic, data: i })).body.id as string);
    return out;
  };

  it('should replay after a Last-Event-ID header, then continue live', async () => {
    const [first, ...rest] = await ids('r/h', 4);
    const s = await open('/events?topic=r/h', { 'Last-Event-ID': first });
    await s.waitForEvents(3);
    const live = await ids('r/h', 1);
    await s.waitForEvents(4);
    expect(s.events.map((e) => e.id)).toEqual([...rest, ...live]);
  });

  it('should accept the cursor as ?lastEventId= and let the header win over it', async () => {
    const [a, b, c] = await ids('r/q', 3);
    const q = await open(`/events?topic=r/q&lastEventId=${a}`);
    await q.waitForEvents(2);
    expect(q.events.map((e) => e.id)).toEqual([b, c]);
    const both = await open(`/events?topic=r/q&lastEventId=${a}`, { 'Last-Event-ID': b });
    await both.waitForEvents(1);
    await sleep(50);
    expect(both.events.map((e) => e.id)).toEqual([c]);
  });

  it('should resume a multi-topic subscription from one cursor in publish order', async () => {
    const [start] = await ids('m/a', 1);
    const x = await publish(gw.url, {
      events: [
        { topic: 'm/b', data: 1 },
        { topic: 'm/c', data: 2 },
        { topic: 'm/a', data: 3 },
      ],
    });
    const s = await open('/events?topic=m/a&topic=m/b', { 'Last-Event-ID': start });
    await s.waitForEvents(2);
    await sleep(50);
    const all = x.body.ids as string[];
    expect(s.events.map((e) => e.id)).toEqual([all[0], all[2]]);
  });

  it('should send herald.reset (history-expired) when the cursor is older than history', async () => {
    const [old] = await ids('r/old', 1);
    await ids('r/old', 60);
    const s = await open('/events?topic=r/old', { 'Last-Event-ID': old });
    const [reset] = await s.waitForEvents(1);
    expect(reset.event).toBe('herald.reset');
    expect(JSON.parse(reset.data)).toEqual({ reason: 'history-expired' });
    expect(reset.id).toBeTruthy();
    const live = await ids('r/old', 1);
    await s.waitForEvents(2);
    expect(s.events[1].id).toBe(live[0]);
  });

  it('should send herald.reset (unknown-cursor) for a cursor from another server run', async () => {
    const s = await open('/events?topic=r/u', { 'Last-Event-ID': 'm.zzzzzz.5' });
    const [reset] = await s.waitForEvents(1);
    expect(reset.event).toBe('herald.reset');
    expect(JSON.parse(reset.data)).toEqual({ reason: 'unknown-cursor' });
  });

  it('should deliver the published sequence exactly across 50 server-side drops', async () => {
    const registry = gw.app.get(ConnectionRegistry);
    const es = new EventSource(`${gw.url}/events?topic=drops`);
    const received: string[] = [];
    let opens = 0;
    es.onmessage = (e) => received.push(e.lastEventId);
    es.onopen = () => opens++;
    await waitFor(() => opens === 1, 'first open');
    const published: string[] = [];
    let publishing = true;
    const pump = (async () => {
      for (let i = 0; publishing && i < 5000; i++) {
        published.push((await publish(gw.url, { topic: 'drops', data: i })).body.id as string);
        await sleep(2);
      }
    })();
    try {
      for (let drop = 0; drop < 50; drop++) {
        const before = opens;
        await waitFor(
          () => [...registry.values()].find((c) => c.meta.topics.includes('drops')),
          'stream',
        );
        await sleep(15);
        for (const c of registry.values()) if (c.meta.topics.includes('drops')) c.abort('error');
        await waitFor(() => opens > before, `reconnect ${drop + 1}`);
      }
    } finally {
      publishing = false;
      await pump;
    }
    await waitFor(
      () => received.length >= published.length,
      `all ${published.length} events (have ${received.length})`,
      10_000,
    );
    es.close();
    expect(opens).toBeGreaterThanOrEqual(51);
    expect(received).toEqual(published);
  });
});
