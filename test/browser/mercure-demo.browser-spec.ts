import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  launchChromium,
  type Chromium,
  type RecordingPage,
} from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import {
  legacyPublisherJwt,
  legacySubscriberJwt,
  mercurePublishOk,
} from '../support/mercure-clients';
import { waitFor } from '../support/wait';

/** The demo page's Mercure section (apps/gateway/browser/mercure.ts), under the page's CSP. */
const PUBLISHER_KEY = randomBytes(32).toString('base64url');
const SUBSCRIBER_KEY = randomBytes(32).toString('base64url');

describe.skipIf(!chromiumAvailable())('Demo page: Mercure section in Chromium', () => {
  let browser: Chromium;
  let gw: Gateway;
  let tab: RecordingPage;

  beforeAll(async () => {
    browser = await launchChromium();
    gw = await startTestGateway({
      MERCURE: 'on',
      MERCURE_PUBLISHER_JWT_KEY: PUBLISHER_KEY,
      MERCURE_SUBSCRIBER_JWT_KEY: SUBSCRIBER_KEY,
      MERCURE_ANONYMOUS: 'true',
    });
    tab = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  interface Row {
    id: string | null;
    type: string | null;
    data: string | null | undefined;
  }
  interface Tr {
    getAttribute(name: string): string | null;
    querySelector(selector: string): { textContent: string | null } | null;
  }
  /** The Mercure log's rows, newest first. */
  const rows = (): Promise<Row[]> =>
    tab.page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Tr[] } })
        .document;
      return Array.from(doc.querySelectorAll('#mercure-log tr')).map((tr) => ({
        id: tr.getAttribute('data-id'),
        type: tr.getAttribute('data-type'),
        data: tr.querySelector('pre')?.textContent,
      }));
    });

  it('subscribes by URI template, publishes a multi-line form update and shows it', async () => {
    await tab.page.goto(`${gw.url}/`);
    await tab.page.locator('#mercure-card').waitFor({ state: 'visible' });
    expect(await tab.page.locator('#mercure-protocol').textContent()).toBe('both');
    await tab.page.selectOption('#mercure-kind', 'topic');
    await tab.page.fill('#mercure-selectors', 'https://example.com/books/{id}');
    await tab.page.click('#mercure-sub button[type=submit]');
    await waitFor(
      async () => (await tab.page.locator('#mercure-state').getAttribute('data-state')) === 'open',
      'Mercure subscription open',
      15_000,
    );
    expect(await tab.page.locator('#mercure-url').innerText()).toBe(
      `/.well-known/mercure?topic=${encodeURIComponent('https://example.com/books/{id}')}`,
    );

    const data = '{\n  "@id": "/books/7",\n\n  "title": "multi-line"\n}';
    await tab.page.fill('#mercure-ptopics', 'https://example.com/books/7');
    await tab.page.fill('#mercure-pdata', data);
    await tab.page.fill('#mercure-ptype', 'book');
    await tab.page.fill('#mercure-pubtoken', legacyPublisherJwt(['*'], PUBLISHER_KEY));
    await tab.page.click('#mercure-pub button[type=submit]');
    const id = await waitFor(
      async () => tab.page.locator('#mercure-pubres').getAttribute('data-id'),
      'publish result',
      15_000,
    );
    expect(await tab.page.locator('#mercure-pubres').innerText()).toBe(`200 published: id ${id}`);
    const [first] = await waitFor(async () => {
      const r = await rows();
      return r.length > 0 ? r : undefined;
    }, 'a row in the Mercure log');
    expect(first).toEqual({ id, type: 'book', data });

    // A topic the template does not select: no row.
    await mercurePublishOk(
      gw.url,
      { topic: 'https://example.com/authors/1', data: 'no' },
      legacyPublisherJwt(['*'], PUBLISHER_KEY),
    );
    await mercurePublishOk(
      gw.url,
      { topic: 'https://example.com/books/8', data: 'yes' },
      legacyPublisherJwt(['*'], PUBLISHER_KEY),
    );
    const after = await waitFor(async () => {
      const r = await rows();
      return r.length >= 2 ? r : undefined;
    }, 'the second row');
    expect(after.map((r) => r.data)).toEqual(['yes', data]);
  });

  it('shows a refused publish with its status, and private updates with a subscriber token', async () => {
    await tab.page.fill(
      '#mercure-pubtoken',
      legacyPublisherJwt(['https://example.com/other/*'], PUBLISHER_KEY),
    );
    await tab.page.fill('#mercure-ptopics', 'https://example.com/books/9');
    await tab.page.click('#mercure-pub button[type=submit]');
    await waitFor(
      async () => (await tab.page.locator('#mercure-pubres').innerText()).startsWith('403'),
      'a 403 result',
    );
    expect(await tab.page.locator('#mercure-pubres').getAttribute('class')).toContain('bad');

    await tab.page.fill(
      '#mercure-subtoken',
      legacySubscriberJwt(['https://example.com/books/{id}'], SUBSCRIBER_KEY),
    );
    await tab.page.click('#mercure-sub button[type=submit]');
    await waitFor(
      async () => (await tab.page.locator('#mercure-state').getAttribute('data-state')) === 'open',
      'resubscribed with the token',
      15_000,
    );
    await tab.page.fill('#mercure-pubtoken', legacyPublisherJwt(['*'], PUBLISHER_KEY));
    await tab.page.fill('#mercure-pdata', 'private line');
    await tab.page.fill('#mercure-ptype', '');
    await tab.page.check('#mercure-pprivate');
    await tab.page.click('#mercure-pub button[type=submit]');
    const r = await waitFor(
      async () => {
        const all = await rows();
        return all.some((x) => x.data === 'private line') ? all : undefined;
      },
      'the private update in the log',
      15_000,
    );
    expect(r[0]).toMatchObject({ type: 'message', data: 'private line' });
    expect(tab.errors.filter((e) => !/40[13]/.test(e))).toEqual([]);
  });
});
