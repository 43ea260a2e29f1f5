import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  launchChromium,
  outputPath,
  type Chromium,
  type RecordingPage,
} from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { waitFor } from '../support/wait';

/** Text of a demo counter. */
const counter = (page: Page, id: string) => page.locator(`#${id}`).innerText();

describe.skipIf(!chromiumAvailable())('Demo page (GET /) in Chromium', () => {
  let browser: Chromium;
  let gw: Gateway;
  let tab: RecordingPage;
  let auth: Record<string, string>;

  beforeAll(async () => {
    browser = await launchChromium();
    // As `npm start` on a fresh clone: development without a key, so the page gets /dev/token.
    gw = await startTestGateway({
      RETRY_MS: '200',
      NODE_ENV: 'development',
      JWT_SECRET: '',
      ANONYMOUS_TOPICS: '',
    });
    const dev = (await (await fetch(`${gw.url}/dev/token?role=publisher`)).json()) as {
      token: string;
    };
    auth = { Authorization: `Bearer ${dev.token}` };
    tab = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  it('should load under its strict CSP with no console errors and connect', async () => {
    const res = await tab.page.goto(`${gw.url}/`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await tab.page.locator('#state[data-state="open"]').waitFor();
    // The stylesheet applied (CSS from a file, no inline style needed).
    const radius = await tab.page
      .locator('.card')
      .first()
      .evaluate(
        (el) =>
          (
            globalThis as unknown as {
              getComputedStyle(e: unknown): { borderTopLeftRadius: string };
            }
          ).getComputedStyle(el).borderTopLeftRadius,
      );
    expect(radius).not.toBe('0px');
    expect(await tab.page.locator('#publish-card').isVisible()).toBe(true);
    expect(tab.errors).toEqual([]);
  });

  it('should show events published with POST /events, with id and type', async () => {
    const greeting = await publish(
      gw.url,
      { topic: 'demo', type: 'greeting', data: { hello: 'world' } },
      auth,
    );
    const news = await publish(
      gw.url,
      { topic: 'news/eu', data: { headline: 'Herald ships' } },
      auth,
    );
    for (const { body } of [greeting, news]) {
      await tab.page.locator(`#log tr[data-id="${String(body.id)}"]`).waitFor();
    }
    const row = tab.page.locator(`#log tr[data-id="${String(greeting.body.id)}"] td`);
    expect(await row.nth(2).innerText()).toBe('greeting');
    expect(await row.nth(3).innerText()).toBe('{"hello":"world"}');
    expect(await counter(tab.page, 'n-events')).toBe('2');
    expect(await counter(tab.page, 'cursor')).toBe(news.body.id);
  });

  it('should publish numbered events from its form and count no gap', async () => {
    await tab.page.locator('#pcount').fill('20');
    await tab.page.locator('#pdata').fill('{"note": "from the form"}');
    await tab.page.locator('#pub button[type="submit"]').click();
    await waitFor(async () => (await counter(tab.page, 'n-events')) === '22', '20 more events');
    expect(await tab.page.locator('#pubres').innerText()).toMatch(/^202 /);
    // A resume from the cursor in the middle of publishing keeps the sequence whole.
    await tab.page.locator('#pub button[type="submit"]').click();
    await tab.page.locator('#resume').click();
    await tab.page.locator('#pub button[type="submit"]').click();
    await waitFor(async () => (await counter(tab.page, 'n-events')) === '62', '40 more events');
    await tab.page.locator('#state[data-state="open"]').waitFor();
    expect(await counter(tab.page, 'n-gaps')).toBe('0');
    expect(await counter(tab.page, 'n-dups')).toBe('0');
    expect(await tab.page.locator('#log tr.bad').count()).toBe(0);
    expect(tab.errors).toEqual([]);
    console.log('ERRORS', tab.errors);
    await tab.page.screenshot({ path: outputPath('demo-page.png'), fullPage: true });
  });

  it('should show the stream as closed when the gateway refuses the topics', async () => {
    await tab.page.locator('#topics').fill('bad//topic');
    await tab.page.locator('#sub button[type="submit"]').click();
    await tab.page.locator('#state[data-state="closed"]').waitFor();
    expect(await tab.page.locator('#state-text').innerText()).toBe('closed · refused');
  });
});
