import { EventSource } from 'eventsource';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

describe('GET /events (stream)', () => {
  let gw: Gateway;
  const streams: SseStream[] = [];
  const sources: EventSource[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS: '300', RETRY_MS: '1500' });
  });
  afterAll(async () => {
    for (const s of sources) s.close();
    for (const s of streams) await s.close();
    await gw.app.close();
  });
  const open = async (path: string, headers?: Record<string, string>) => {
    const s = await openStream(gw.url, path, { headers });
    streams.push(s);
    return s;
  };

  it('should answer 200 with the contract headers and flush retry before any event', async () => {
    const s = await open('/events?topic=open/first');
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(s.headers.get('x-accel-buffering')).toBe('no');
    await waitFor(() => s.retries.length > 0, 'first retry');
    expect(s.retries[0]).toBe(1500);
    expect(s.raw.startsWith('retry: 1500\n')).toBe(true);
    expect(s.raw.charCodeAt(0)).not.toBe(0xfeff);
  });

  it('should deliver a published event to an eventsource client with id, type and data', async () => {
    const es = new EventSource(`${gw.url}/events?topic=orders/42&topic=news/**`);
    sources.push(es);
    const got: MessageEvent[] = [];
    es.addEventListener('order.updated', (e) => got.push(e));
    es.addEventListener('message', (e) => got.push(e));
    await new Promise<void>((r) => (es.onopen = () => r()));
    const a = await publish(gw.url, {
      topic: 'orders/42',
      type: 'order.updated',
      data: { status: 'shipped' },
    });
    const b = await publish(gw.url, { topic: 'news/eu/fr', data: 'bonjour' });
    await publish(gw.url, { topic: 'orders/43', data: 'not for us' });
    expect(a.status).toBe(202);
    await waitFor(() => got.length >= 2, 'two events');
    await sleep(50);
    expect(got.map((e): string[] => [e.type, e.lastEventId, String(e.data)])).toEqual([
      ['order.updated', a.body.id, '{"status":"shipped"}'],
      ['message', b.body.id, '"bonjour"'],
    ]);
  });

  it('should round-trip random multi-line and unicode data exactly through eventsource-parser', async () => {
    const s = await open('/events?topic=rt');
    const pieces = [
      '\n',
      '\r\n',
      '\r',
      '',
      ' lead',
      '  ',
      'é',
      '漢字',
      '🎉',
      '\u2028',
      'data: x',
      '\nevent: forged\nid: 0\n\n',
      ':',
      '\u0000',
    ];
    const values: unknown[] = [];
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 60; i++) {
      let str = '';
      for (let j = 0; j < 1 + Math.floor(rnd() * 8); j++)
        str += pieces[Math.floor(rnd() * pieces.length)];
      values.push(
        i % 3 === 0 ? str : i % 3 === 1 ? { text: str, n: i, list: [str, null, true] } : [str],
      );
    }
    for (const v of values)
      expect((await publish(gw.url, { topic: 'rt', type: 'rt', data: v })).status).toBe(202);
    await s.waitForEvents(values.length);
    expect(s.events.map((e) => e.event)).toEqual(values.map(() => 'rt'));
    expect(s.events.map((e): unknown => JSON.parse(e.data))).toEqual(values);
  });

  it('should carry data that looks like SSE fields as data, forging nothing', async () => {
    const s = await open('/events?topic=forge');
    await publish(gw.url, { topic: 'forge', data: 'x\nevent: evil\nid: forged\n\ndata: y' });
    const [e] = await s.waitForEvents(1);
    expect(e.event).toBe('message');
    expect(e.id).not.toBe('forged');
    expect(JSON.parse(e.data)).toBe('x\nevent: evil\nid: forged\n\ndata: y');
  });

  it('should split data on every kind of line break into data lines', async () => {
    // JSON text never holds a raw line break; the framer still splits defensively.
    const { frameEvent } = await import('@herald/streams');
    const frame = frameEvent('1', 't', 'a\nb\r\nc\rd').toString();
    expect(frame).toBe('id: 1\nevent: t\ndata: a\ndata: b\ndata: c\ndata: d\n\n');
    const seen: string[] = [];
    const p = createParser({ onEvent: (m) => seen.push(m.data) });
    p.feed(frame);
    expect(seen).toEqual(['a\nb\nc\nd']);
  });

  it('should send heartbeat comments on an idle stream with no gap over HEARTBEAT_MS + 1 s', async () => {
    // HEARTBEAT_MS is 300: watch for 3 s, ten times the heartbeat and well past the bound, and
    // count the gap from the open to the first byte and from the last byte to the end too.
    const openedAt = Date.now();
    const s = await open('/events?topic=idle');
    await sleep(3000);
    const times = [openedAt, ...s.chunkTimes, Date.now()];
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.max(...gaps), `gaps ${gaps.join(',')}`).toBeLessThan(300 + 1000);
    expect(s.comments.filter((c) => c.trim() === 'ping').length).toBeGreaterThanOrEqual(5);
    expect(s.events).toHaveLength(0);
  });

  it('should give every event a non-empty id and only digit retry values', async () => {
    const s = await open('/events?topic=ids');
    await publish(gw.url, {
      events: [
        { topic: 'ids', data: 1 },
        { topic: 'ids', data: 2 },
      ],
    });
    await s.waitForEvents(2);
    for (const e of s.events) expect(e.id).toMatch(/^[A-Za-z0-9._~:-]{1,128}$/);
    for (const line of s.raw.split('\n').filter((l) => l.startsWith('retry:'))) {
      expect(line).toMatch(/^retry: \d+$/);
    }
  });

  it('should deliver an event once to a stream whose topics overlap', async () => {
    const s = await open('/events?topic=ov/a&topic=ov/*&topic=ov/**');
    await publish(gw.url, { topic: 'ov/a', data: 1 });
    await s.waitForEvents(1);
    await sleep(100);
    expect(s.events).toHaveLength(1);
  });

  it('should answer HEAD with the stream headers and open nothing', async () => {
    const registry = gw.app.get(ConnectionRegistry);
    const before = registry.size;
    const res = await fetch(`${gw.url}/events?topic=head/x`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await res.text()).toBe('');
    expect(registry.size).toBe(before);
  });

  it('should free the broker subscription and registry entry when the client disconnects', async () => {
    const broker = (await import('@herald/broker')).Broker;
    const b = gw.app.get(broker);
    const registry = gw.app.get(ConnectionRegistry);
    const base = { subs: b.stats().subscriptions, conns: registry.size };
    const opened = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        openStream(gw.url, `/events?topic=leak/${i}&topic=leak/**`),
      ),
    );
    await waitFor(() => b.stats().subscriptions === base.subs + 20, 'subscriptions up');
    expect(registry.size).toBe(base.conns + 20);
    for (const s of opened) await s.close();
    await waitFor(() => b.stats().subscriptions === base.subs, 'subscriptions freed');
    await waitFor(() => registry.size === base.conns, 'registry freed');
  });
});
