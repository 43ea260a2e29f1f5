import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish } from '../support/sse-client';
import { scrape, value } from '../support/telemetry';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

describe('SseConnection write path', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_BUFFERED_BYTES: '65536' });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  it('should disconnect a subscriber that reads nothing once its unsent bytes pass the cap', async () => {
    const port = Number(new URL(gw.url).port);
    const stalled = net.connect({ port, host: '127.0.0.1' });
    stalled.on('error', () => undefined);
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.write(
      'GET /events?topic=bp/t HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n',
    );
    await new Promise<void>((r) => stalled.once('data', () => r()));
    stalled.pause();
    const reader = await openStream(gw.url, '/events?topic=bp/t');
    const registry = gw.app.get(ConnectionRegistry);
    await waitFor(() => registry.size === 2, 'two streams');
    const big = 'x'.repeat(4000);
    let batches = 0;
    // Bounded: at most 500 batches of 40 KB (each under the cap, so only the stalled reader
    // overflows); the kernel buffers some hundreds of KB before the cap bites.
    while (registry.size === 2 && batches < 500) {
      const events = Array.from({ length: 10 }, () => ({ topic: 'bp/t', data: big }));
      expect((await publish(gw.url, { events })).status).toBe(202);
      batches++;
    }
    await waitFor(() => registry.size === 1, 'the stalled stream to be dropped', 10_000);
    const [left] = [...registry.values()];
    expect(left.closed).toBe(false);
    await waitFor(() => reader.dataEvents.length === batches * 10, 'reader got everything', 20_000);
    // The drop went through abort('slow-consumer'), so telemetry counted it.
    const samples = await scrape(gw.url);
    expect(value(samples, 'herald_slow_consumer_disconnects_total')).toBe(1);
    expect(value(samples, 'herald_connections_closed_total', { reason: 'slow-consumer' })).toBe(1);
    expect(value(samples, 'herald_events_delivered_total')).toBeGreaterThanOrEqual(batches * 10);
    stalled.destroy();
    await reader.close();
  });

  it('should frame coalesced writes as valid HTTP chunks that a standard client parses', async () => {
    const s = await openStream(gw.url, '/events?topic=wp/chunks', {
      headers: bearer(hs256(claims({ subscribe: ['wp/**'] }))),
    });
    await waitFor(() => s.retries.length > 0, 'open');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => publish(gw.url, { topic: 'wp/chunks', data: i })),
    );
    await waitFor(() => s.dataEvents.length === 20, '20 events');
    // Concurrent publishes are stored in whatever order they complete: the stream carries each
    // once, in publish (sequence) order.
    const seq = (id: string) => Number(id.split('.').pop());
    const published = results.map((r) => r.body.id as string).sort((x, y) => seq(x) - seq(y));
    expect(s.dataEvents.map((e) => e.id)).toEqual(published);
    await s.close();
  });
});
