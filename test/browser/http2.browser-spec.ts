import type { Http2SecureServer, Http2Session } from 'node:http2';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamsService } from '@herald/streams';
import { chromiumAvailable, launchChromium, type Chromium } from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { testTls } from '../support/tls';
import { PUBLISHER_TOKEN, bearer } from '../support/tokens';
import { waitFor } from '../support/wait';

/** More than the 6 connections per origin Chromium allows over HTTP/1.1. */
const STREAMS = 12;

interface Probe {
  opens: number[];
  events: { i: number; data: string }[];
  protocol: string;
}

describe.skipIf(!chromiumAvailable())('HTTP/2 in Chromium', () => {
  const tls = testTls('herald-h2-browser-');
  let browser: Chromium;
  let gw: Gateway;
  let page: Page;
  /** `GET /events` streams per HTTP/2 session, as the server saw them. */
  const perSession = new Map<Http2Session, number>();

  beforeAll(async () => {
    browser = await launchChromium({ bypassCSP: true, ignoreHTTPSErrors: true });
    gw = await startTestGateway({ TLS_CERT_FILE: tls.cert, TLS_KEY_FILE: tls.key });
    const server = gw.app.getHttpServer() as unknown as Http2SecureServer;
    server.on('stream', (stream, headers) => {
      if (!String(headers[':path']).startsWith('/events')) return;
      perSession.set(stream.session!, (perSession.get(stream.session!) ?? 0) + 1);
    });
  });
  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await gw?.shutdown();
    await tls.close();
  });

  it(`should open ${STREAMS} EventSource streams to one origin at once over one h2 connection`, async () => {
    page = (await browser.newPage()).page;
    await page.goto(`${gw.url}/health/live`);
    await page.evaluate((n) => {
      const g = globalThis as unknown as {
        EventSource: new (url: string) => {
          onopen: () => void;
          onmessage: (e: { data: string }) => void;
        };
        probe: Probe;
      };
      const entries = (performance.getEntriesByType as (type: string) => unknown[])('navigation');
      const entry = entries[0] as { nextHopProtocol: string };
      const probe: Probe = { opens: [], events: [], protocol: entry.nextHopProtocol };
      g.probe = probe;
      for (let i = 0; i < n; i++) {
        const source = new g.EventSource(`/events?topic=h2b/${i}`);
        source.onopen = () => probe.opens.push(i);
        source.onmessage = (e) => probe.events.push({ i, data: e.data });
      }
    }, STREAMS);
    const read = () => page.evaluate(() => (globalThis as unknown as { probe: Probe }).probe);
    // Over HTTP/1.1 the 7th stream would wait for one of the first six to close.
    await waitFor(async () => (await read()).opens.length === STREAMS, `${STREAMS} opens`, 15_000);
    expect((await read()).protocol).toBe('h2');
    const streams = gw.app.get(StreamsService);
    await waitFor(() => streams.registry.size >= STREAMS, 'streams registered');
    for (let i = 0; i < STREAMS; i++) {
      const res = await tls.fetch(`${gw.url}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(PUBLISHER_TOKEN) },
        body: JSON.stringify({ topic: `h2b/${i}`, data: i }),
      });
      expect(res.status).toBe(202);
    }
    await waitFor(async () => (await read()).events.length === STREAMS, 'one event per stream');
    const events = (await read()).events;
    expect(events.map((e) => e.i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: STREAMS }, (_, i) => i),
    );
    for (const e of events) expect(e.data).toBe(String(e.i));
    // The server saw every stream on one HTTP/2 session.
    expect([...perSession.values()]).toEqual([STREAMS]);
  });

  it('should load the demo page and its scripts over h2', async () => {
    const recording = await browser.newPage();
    try {
      await recording.page.goto(`${gw.url}/`);
      await recording.page.waitForLoadState('load');
      const protocols = await recording.page.evaluate(() => {
        const list = (performance.getEntriesByType as (type: string) => unknown[])('resource');
        return (list as { name: string; nextHopProtocol: string }[]).map((e) => [
          new URL(e.name).pathname,
          e.nextHopProtocol,
        ]);
      });
      const scripts = protocols.filter(([path]) => path.endsWith('.js'));
      expect(scripts.length).toBeGreaterThan(0);
      for (const [path, protocol] of scripts) expect(protocol, path).toBe('h2');
      expect(recording.errors).toEqual([]);
    } finally {
      await recording.page.close();
    }
  });
});
