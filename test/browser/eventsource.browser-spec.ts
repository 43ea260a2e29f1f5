import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry, StreamsService } from '@herald/streams';
import {
  chromiumAvailable,
  installProbe,
  launchChromium,
  readProbe,
  type Chromium,
} from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** EventSource.readyState values. */
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** Counts requests to `GET /events` reaching the gateway's HTTP server. */
function countStreamRequests(gw: Gateway): () => number {
  let count = 0;
  gw.app
    .getHttpServer()
    .on('request', (req: IncomingMessage) => req.url?.startsWith('/events') && count++);
  return () => count;
}

describe.skipIf(!chromiumAvailable())('Native EventSource in Chromium', () => {
  let browser: Chromium;
  let gw: Gateway;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium({ bypassCSP: true });
    gw = await startTestGateway({ RETRY_MS: '20' });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });
  // A same-origin page for the EventSource (any gateway URL will do).
  const openPage = async (base: string) => {
    page = (await browser.newPage()).page;
    await page.goto(`${base}/health/live`);
    return page;
  };
  afterEach(async () => {
    await page?.close();
  });

  it('should open before any event and receive events with ids, types and data', async () => {
    await openPage(gw.url);
    await installProbe(page, '/events?topic=b/live&topic=b/more/**', ['message', 'order.updated']);
    await waitFor(async () => (await readProbe(page)).opens === 1, 'onopen with no event');
    const a = await publish(gw.url, { topic: 'b/live', data: { n: 1, text: 'line\nbreak' } });
    const b = await publish(gw.url, {
      topic: 'b/more/x',
      type: 'order.updated',
      data: { status: 'shipped' },
    });
    await publish(gw.url, { topic: 'b/other', data: 'not subscribed' });
    const probe = await waitFor(async () => {
      const p = await readProbe(page);
      return p.events.length >= 2 ? p : undefined;
    }, '2 events in the page');
    await sleep(50);
    expect((await readProbe(page)).events).toHaveLength(2);
    expect(probe.events.map((e) => [e.id, e.type, JSON.parse(e.data) as unknown])).toEqual([
      [a.body.id, 'message', { n: 1, text: 'line\nbreak' }],
      [b.body.id, 'order.updated', { status: 'shipped' }],
    ]);
    expect(probe.readyState).toBe(OPEN);
  });

  it('should deliver exactly the published ids while the server drops the connection', async () => {
    await openPage(gw.url);
    const registry = gw.app.get(ConnectionRegistry);
    await installProbe(page, '/events?topic=b/drops');
    await waitFor(async () => (await readProbe(page)).opens === 1, 'first open');
    const published: string[] = [];
    let publishing = true;
    const pump = (async () => {
      for (let i = 0; publishing && i < 5000; i++) {
        published.push((await publish(gw.url, { topic: 'b/drops', data: i })).body.id as string);
        await sleep(3);
      }
    })();
    const drops = 25;
    try {
      for (let drop = 0; drop < drops; drop++) {
        const before = (await readProbe(page)).opens;
        const stream = await waitFor(
          () => [...registry.values()].find((c) => c.meta.topics.includes('b/drops')),
          'server-side stream',
        );
        await sleep(20);
        stream.abort('error');
        await waitFor(
          async () => (await readProbe(page)).opens > before,
          `browser reconnect ${drop + 1}`,
          10_000,
        );
      }
    } finally {
      publishing = false;
      await pump;
    }
    const probe = await waitFor(
      async () => {
        const p = await readProbe(page);
        return p.events.length >= published.length ? p : undefined;
      },
      `all ${published.length} events in the page`,
      15_000,
    );
    expect(probe.opens).toBeGreaterThanOrEqual(drops + 1);
    expect(probe.errors.every((e) => e.readyState === CONNECTING)).toBe(true);
    expect(published.length).toBeGreaterThan(drops);
    expect(probe.events.map((e) => e.id)).toEqual(published);
  });

  it('should end the EventSource for good when the stream is refused with a 400', async () => {
    await openPage(gw.url);
    const requests = countStreamRequests(gw);
    await installProbe(page, '/events?topic=bad//topic');
    const probe = await waitFor(async () => {
      const p = await readProbe(page);
      return p.errors.length > 0 ? p : undefined;
    }, 'error event');
    expect(probe.readyState).toBe(CLOSED);
    expect(probe.errors).toEqual([{ at: expect.any(Number), readyState: CLOSED }]);
    expect(probe.opens).toBe(0);
    // RETRY_MS is 20: a retrying client would have come back many times by now.
    await sleep(400);
    expect(requests()).toBe(1);
    expect((await readProbe(page)).errors).toHaveLength(1);
  });

  it('should reconnect after the hinted delay when shed, and open once capacity returns', async () => {
    // A drained gateway sheds every new stream (200 + herald.shed + retry:, then close).
    const retryMs = 300;
    const shedding = await startTestGateway({ RETRY_MS: String(retryMs) });
    const port = (shedding.app.getHttpServer().address() as AddressInfo).port;
    let replacement: Gateway | undefined;
    try {
      await shedding.app.get(StreamsService).drain();
      await openPage(shedding.url);
      await installProbe(page, '/events?topic=b/shed');
      const probe = await waitFor(
        async () => {
          const p = await readProbe(page);
          return p.events.filter((e) => e.type === 'herald.shed').length >= 3 ? p : undefined;
        },
        '3 shed responses',
        15_000,
      );
      const sheds = probe.events.filter((e) => e.type === 'herald.shed');
      for (let i = 1; i < sheds.length; i++) {
        const hint = (JSON.parse(sheds[i - 1].data) as { retryAfterMs: number }).retryAfterMs;
        expect(hint).toBeGreaterThanOrEqual(retryMs);
        // The next attempt comes no earlier than the hint (minus task-scheduling slack): the
        // browser neither retried at once nor fell back to its 3 s default.
        expect(sheds[i].at - sheds[i - 1].at).toBeGreaterThanOrEqual(hint - 50);
      }
      expect(JSON.parse(sheds[0].data)).toMatchObject({ reason: 'draining' });
      expect(probe.errors.every((e) => e.readyState === CONNECTING)).toBe(true);
      // Each shed is a 200 (onopen, event, close); a next attempt may have opened already.
      expect(probe.opens - sheds.length).toBeGreaterThanOrEqual(0);
      expect(probe.opens - sheds.length).toBeLessThanOrEqual(1);

      // Capacity returns on the same address: the browser's next retry gets a live stream.
      await shedding.app.close();
      replacement = await startTestGateway({ PORT: String(port), RETRY_MS: String(retryMs) });
      const streams = replacement.app.get(ConnectionRegistry);
      await waitFor(() => streams.size === 1, 'the browser back on a live stream', 10_000);
      const { body } = await publish(replacement.url, { topic: 'b/shed', data: 'after' });
      await waitFor(
        async () => (await readProbe(page)).events.some((e) => e.id === body.id),
        'event after the shed',
      );
      expect((await readProbe(page)).readyState).toBe(OPEN);
    } finally {
      await shedding.app.close();
      await replacement?.app.close();
    }
  });
});
