import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionCaps } from '@herald/limits';
import { StreamsService, type CloseReason, type SseConnection } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { waitFor } from '../support/wait';

const CAP = 256 * 1024;
const EVENT_BYTES = 16 * 1024;

describe('Slow consumers (e2e)', () => {
  let gw: Gateway;
  let streams: StreamsService;

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_BUFFERED_BYTES: String(CAP) });
    streams = gw.app.get(StreamsService);
  });

  afterAll(async () => {
    await gw.shutdown();
  });

  async function expectAll(clients: SseStream[], published: string[]): Promise<void> {
    for (const s of clients) {
      await waitFor(
        () => s.dataEvents.length >= published.length,
        `${published.length} events (has ${s.dataEvents.length})`,
        20_000,
      );
      expect(s.dataEvents.map((e) => e.id)).toEqual(published);
    }
  }

  it('should disconnect a client that stops reading while others receive every event', async () => {
    const fast = await Promise.all([
      openStream(gw.url, '/events?topic=flood'),
      openStream(gw.url, '/events?topic=flood'),
    ]);
    const known = new Set([...streams.registry.values()].map((c) => c.id));

    // A raw client that sends its request and then never reads a byte.
    const { port } = new URL(gw.url);
    const slowSocket = connect(Number(port), '127.0.0.1');
    slowSocket.pause();
    slowSocket.on('error', () => undefined);
    slowSocket.write(
      'GET /events?topic=flood HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n\r\n',
    );
    const slow: SseConnection = await waitFor(
      () => [...streams.registry.values()].find((c) => !known.has(c.id)),
      'slow stream registered',
    );
    let reason: CloseReason | undefined;
    slow.onClose((r) => (reason = r));

    const payload = 'x'.repeat(EVENT_BYTES);
    const published: string[] = [];
    let maxUnsent = 0;
    // Kernel socket buffers absorb a few MB first; then the server-side backlog hits the cap.
    for (let n = 0; n < 4000 && reason === undefined; n++) {
      const res = await publish(gw.url, { topic: 'flood', data: { n, payload } });
      expect(res.status).toBe(202);
      published.push(res.body.id as string);
      maxUnsent = Math.max(maxUnsent, slow.unsentBytes);
    }
    await waitFor(() => reason, 'slow consumer disconnected', 10_000);
    expect(reason).toBe('slow-consumer');
    // The stalled client's server-side backlog stayed within the cap plus one event: flat memory.
    expect(maxUnsent).toBeLessThanOrEqual(CAP + EVENT_BYTES + 1024);
    expect(streams.registry.get(slow.id)).toBeUndefined();
    // Its connection slot was released with it.
    await waitFor(() => gw.app.get(ConnectionCaps).active === fast.length, 'slot released');

    // The others keep receiving everything, in order, including events after the disconnect.
    const after = await publish(gw.url, { topic: 'flood', data: 'after' });
    published.push(after.body.id as string);
    await expectAll(fast, published);
    for (const s of fast) {
      expect(s.ended).toBe(false);
      await s.close();
    }
    slowSocket.destroy();
  });

  it('should deliver one batch larger than MAX_BUFFERED_BYTES to clients that keep reading', async () => {
    const clients = await Promise.all([
      openStream(gw.url, '/events?topic=burst'),
      openStream(gw.url, '/events?topic=burst'),
    ]);
    const payload = 'y'.repeat(32 * 1024);
    const events = Array.from({ length: 50 }, (_, n) => ({ topic: 'burst', data: { n, payload } }));
    const res = await publish(gw.url, { events }); // 1.6 MB in one tick, cap 256 KiB
    expect(res.status).toBe(202);
    await expectAll(clients, res.body.ids as string[]);
    for (const s of clients) {
      expect(s.ended).toBe(false);
      await s.close();
    }
  });
});
