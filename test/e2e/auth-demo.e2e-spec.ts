import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { waitFor } from '../support/wait';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (p) => existsSync(p),
);
if (!CHROMIUM) console.warn('auth-demo: no Chromium found, SKIPPING the browser demo test');

describe.skipIf(!CHROMIUM)('Demo page with dev auth (Chromium)', () => {
  let gw: Gateway;
  let browser: Browser;

  beforeAll(async () => {
    // as `npm start` on a fresh clone: development, no key, no anonymous topics
    gw = await startTestGateway({ NODE_ENV: 'development', JWT_SECRET: '', ANONYMOUS_TOPICS: '' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  it('should open the stream and publish with a token from /dev/token', async () => {
    const page = await browser.newPage();
    await page.goto(gw.url);
    const text = (selector: string) => page.textContent(selector).then((t) => t ?? '');
    await waitFor(async () => (await text('#state')) === 'open', 'demo stream open', 15_000, 50);
    await page.click('#pub button');
    await waitFor(async () => (await text('#pubres')).startsWith('202'), 'demo 202', 15_000, 50);
    await waitFor(async () => (await text('#log')).includes('world'), 'demo event', 15_000, 50);
    expect(await page.textContent('#state')).toBe('open');
    await page.close();
  });
});
