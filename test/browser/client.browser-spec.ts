import type { IncomingMessage } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '@herald/streams';
import { chromiumAvailable, launchChromium, type Chromium } from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

interface HelperLog {
  ids: string[];
  states: string[];
  refreshes: number[];
}

const helperLog = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { helperLog: HelperLog }).helperLog);

/** The browser helper (`/herald-client.js`) in Chromium against an in-process gateway. */
describe.skipIf(!chromiumAvailable())('HeraldClient in Chromium', () => {
  let browser: Chromium;
  let gw: Gateway;
  const urls: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium({ bypassCSP: true });
    gw = await startTestGateway({ RETRY_MS: '50' });
    // Prepended: runs before Express, whose auth middleware strips `access_token` from req.url.
    gw.app
      .getHttpServer()
      .prependListener(
        'request',
        (req: IncomingMessage) => req.url?.startsWith('/events') && urls.push(req.url),
      );
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  it('should swap to a fresh token on herald.token-expiring with no gap or duplicate', async () => {
    const { page } = await browser.newPage();
    await page.goto(`${gw.url}/health/live`);
    // The code is a string: Vite would rewrite a dynamic import() inside a function.
    // Real tokens for the test secret; the second stands in for the one the app refreshes to.
    const [first, second] = ['helper-1', 'helper-2'].map((sub) =>
      hs256(claims({ subscribe: ['tokens/**'] }, { sub })),
    );
    await page.evaluate(`(async () => {
      const { HeraldClient } = await import('/herald-client.js');
      const log = { ids: [], states: [], refreshes: [] };
      globalThis.helperLog = log;
      const client = new HeraldClient({
        topics: ['tokens/feed'],
        token: ${JSON.stringify(first)},
        onStateChange: (state) => log.states.push(state),
        // Stands in for a call to the application's token endpoint.
        refreshToken: (expiresAt) => {
          log.refreshes.push(expiresAt);
          return new Promise((resolve) => setTimeout(() => resolve(${JSON.stringify(second)}), 100));
        },
      });
      client.on('message', (e) => log.ids.push(e.id));
      client.connect();
    })()`);
    await waitFor(async () => (await helperLog(page)).states.includes('open'), 'open');
    const registry = gw.app.get(ConnectionRegistry);
    const published: string[] = [];
    let publishing = true;
    const pump = (async () => {
      for (let i = 0; publishing && i < 5000; i++) {
        published.push(
          (await publish(gw.url, { topic: 'tokens/feed', data: i })).body.id as string,
        );
        await sleep(5);
      }
    })();
    try {
      await waitFor(() => published.length >= 20, 'some events first');
      // What the auth layer sends TOKEN_EXPIRY_WARNING_MS before `exp`.
      const expiresAt = Date.now() + 30_000;
      for (const c of registry.values()) {
        if (c.meta.topics.includes('tokens/feed')) {
          c.sendControl('herald.token-expiring', { expiresAt });
        }
      }
      await waitFor(
        () => urls.some((u) => u.includes(`access_token=${second}`)),
        'a reconnect with the fresh token',
      );
      await waitFor(
        async () => (await helperLog(page)).states.filter((s) => s === 'open').length === 2,
        'second open',
      );
      expect((await helperLog(page)).refreshes).toEqual([expiresAt]);
      await sleep(200);
    } finally {
      publishing = false;
      await pump;
    }
    await waitFor(
      async () => (await helperLog(page)).ids.length >= published.length,
      `all ${published.length} events`,
      10_000,
    );
    const log = await helperLog(page);
    expect(log.ids).toEqual(published);
    expect(log.states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    // The new stream resumed from the cursor held at the swap; the old one was closed.
    const swap = new URL(
      urls.find((u) => u.includes(second))!,
      gw.url,
    ).searchParams;
    expect(published).toContain(swap.get('lastEventId'));
    await waitFor(
      () =>
        [...registry.values()].filter((c) => c.meta.topics.includes('tokens/feed')).length === 1,
      'old stream closed by the page',
    );
  });
});
