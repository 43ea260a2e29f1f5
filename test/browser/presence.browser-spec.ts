import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  launchChromium,
  type Chromium,
  type RecordingPage,
} from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { waitFor } from '../support/wait';

/** The subs the presence panel of `page` lists, sorted. */
async function listed(page: Page): Promise<string[]> {
  const subs = await page
    .locator('#presence-list li')
    .evaluateAll((items) =>
      items.map((li) => (li as unknown as { dataset: { sub: string } }).dataset.sub),
    );
  return subs.sort();
}

async function joinAs(tab: RecordingPage, name: string, topic = 'rooms/lobby'): Promise<void> {
  await tab.page.locator('#presence-topic').fill(topic);
  await tab.page.locator('#presence-name').fill(name);
  await tab.page.locator('#presence-join').click();
  await tab.page.locator('#presence-card[data-state="open"]').waitFor();
}

describe.skipIf(!chromiumAvailable())(
  'Demo page presence panel and since=latest in Chromium',
  () => {
    let browser: Chromium;
    let gw: Gateway;
    let auth: Record<string, string>;

    beforeAll(async () => {
      browser = await launchChromium();
      gw = await startTestGateway({
        RETRY_MS: '200',
        NODE_ENV: 'development',
        JWT_SECRET: '',
        ANONYMOUS_TOPICS: '',
        PRESENCE_TOPICS: 'rooms/*',
      });
      const dev = (await (await fetch(`${gw.url}/dev/token?role=publisher`)).json()) as {
        token: string;
      };
      auth = { Authorization: `Bearer ${dev.token}` };
    });
    afterAll(async () => {
      await browser?.close();
      await gw?.app.close();
    });

    it('should show who is present on a topic and update on join and leave', async () => {
      const ann = await browser.newPage();
      const ben = await browser.newPage();
      for (const tab of [ann, ben]) {
        expect((await tab.page.goto(`${gw.url}/`))?.status()).toBe(200);
        await tab.page.locator('#presence-card').waitFor();
      }
      await joinAs(ann, 'ann');
      await waitFor(async () => (await listed(ann.page)).join() === 'ann', 'ann listed');
      await joinAs(ben, 'ben');
      await waitFor(async () => (await listed(ann.page)).join() === 'ann,ben', 'ben on ann’s page');
      await waitFor(
        async () => (await listed(ben.page)).join() === 'ann,ben',
        'both on ben’s page',
      );
      expect(await ann.page.locator('#presence-users').innerText()).toBe('2');
      await ben.page.locator('#presence-leave').click();
      await waitFor(async () => (await listed(ann.page)).join() === 'ann', 'ben left ann’s page');
      expect(await ann.page.locator('#presence-status').innerText()).toMatch(/ben left/);
      // Closing the tab is a leave too.
      await joinAs(ben, 'ben');
      await waitFor(async () => (await listed(ann.page)).join() === 'ann,ben', 'ben back');
      await ben.page.close();
      await waitFor(async () => (await listed(ann.page)).join() === 'ann', 'ben’s tab closed');
      expect(ann.errors).toEqual([]);
    });

    it('should hide the panel when presence is off', async () => {
      const off = await startTestGateway({
        NODE_ENV: 'development',
        JWT_SECRET: '',
        ANONYMOUS_TOPICS: '',
      });
      try {
        const tab = await browser.newPage();
        await tab.page.goto(`${off.url}/`);
        await tab.page.locator('#state[data-state="open"]').waitFor();
        expect(await tab.page.locator('#presence-card').isVisible()).toBe(false);
        await tab.page.close();
      } finally {
        await off.app.close();
      }
    });

    it('should start with the latest event when since=latest is checked', async () => {
      await publish(gw.url, { topic: 'demo', type: 'greeting', data: { n: 1 } }, auth);
      const { body } = await publish(
        gw.url,
        { topic: 'demo', type: 'greeting', data: { n: 2 } },
        auth,
      );
      const tab = await browser.newPage();
      await tab.page.goto(`${gw.url}/`);
      await tab.page.locator('#state[data-state="open"]').waitFor();
      expect(await tab.page.locator('#log tr').count()).toBe(0);
      await tab.page.locator('#latest').check();
      await tab.page.locator('#sub button[type="submit"]').click();
      await tab.page.locator(`#log tr[data-id="${String(body.id)}"]`).waitFor();
      expect(await tab.page.locator('#log tr').count()).toBe(1);
      expect(tab.errors).toEqual([]);
    });
  },
);
