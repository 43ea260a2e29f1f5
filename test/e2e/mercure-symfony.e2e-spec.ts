import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, type Chromium } from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import {
  HUB_PATH,
  legacySubscriberJwt,
  openPageSource,
  otherHost,
  publishWithSymfony,
  readPageSource,
  setCookie,
  symfonyMercureAvailable,
  type PageSourceState,
} from '../support/mercure-clients';
import { waitFor } from '../support/wait';

/**
 * The real Symfony publisher (symfony/mercure 0.6 from Debian, the legacy dialect: `mercure`
 * claim, HS256, `topic` repeated for alternates, `private=on`) drives a Herald gateway with
 * MERCURE=on; a native EventSource in Chromium receives the updates.
 */
const available = symfonyMercureAvailable() && chromiumAvailable();

const PUBLISHER_KEY = randomBytes(32).toString('base64url');
const SUBSCRIBER_KEY = randomBytes(32).toString('base64url');

describe.skipIf(!available)(
  'Symfony publisher (symfony/mercure 0.6) -> Herald -> EventSource',
  () => {
    let gw: Gateway;
    let browser: Chromium;
    let hub: string;
    let authorized: Page;
    let anonymous: Page;

    const events = async (page: Page, name: string, count: number): Promise<PageSourceState> =>
      waitFor(
        async () => {
          const s = await readPageSource(page, name);
          return s.events.length >= count ? s : undefined;
        },
        `${count} event(s) on ${name}`,
        15_000,
      );

    beforeAll(async () => {
      gw = await startTestGateway({
        MERCURE: 'on',
        MERCURE_PROTOCOL: 'both',
        MERCURE_PUBLISHER_JWT_KEY: PUBLISHER_KEY,
        MERCURE_SUBSCRIBER_JWT_KEY: SUBSCRIBER_KEY,
        MERCURE_ANONYMOUS: 'true',
      });
      hub = `${gw.url}${HUB_PATH}`;
      browser = await launchChromium({ bypassCSP: true });
      // The authorized subscriber: the legacy cookie, set for 127.0.0.1 only.
      await setCookie(
        browser.context,
        gw.url,
        'mercureAuthorization',
        legacySubscriberJwt(['https://example.com/users/dunglas/books/{id}'], SUBSCRIBER_KEY),
      );
      authorized = (await browser.newPage()).page;
      await authorized.goto(`${gw.url}/health/live`);
      // The anonymous subscriber: the same gateway as `localhost`, where the cookie does not go.
      anonymous = (await browser.newPage()).page;
      await anonymous.goto(`${otherHost(gw.url)}/health/live`);
      for (const page of [authorized, anonymous]) {
        await openPageSource(
          page,
          'books',
          `${HUB_PATH}?topic=${encodeURIComponent('https://example.com/books/{id}')}`,
          ['message', 'book.updated'],
          true,
        );
      }
      for (const page of [authorized, anonymous]) {
        await waitFor(
          async () => (await readPageSource(page, 'books')).opens >= 1,
          'EventSource open',
        );
      }
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await gw?.app.close();
    });

    it('publishes a public update that both subscribers receive, with the data framed exactly', async () => {
      const data = '{"@id": "/books/1",\n\n  "title": "indented line"\n}\n';
      const result = await publishWithSymfony(hub, PUBLISHER_KEY, {
        topics: 'https://example.com/books/1',
        data,
      });
      expect(result).toMatchObject({ ok: true });
      const id = result.ok ? result.id : '';
      expect(id).not.toBe('');
      for (const page of [authorized, anonymous]) {
        const s = await events(page, 'books', 1);
        expect(s.events[0]).toEqual({ type: 'message', id, data });
      }
    });

    it('keeps the publisher id, type and retry of an Update', async () => {
      const result = await publishWithSymfony(hub, PUBLISHER_KEY, {
        topics: 'https://example.com/books/2',
        data: 'typed',
        id: 'urn:uuid:6c4e4a1e-4d1c-4d8b-8f0a-2f3a5f1d9b11',
        type: 'book.updated',
        retry: 2500,
      });
      expect(result).toEqual({ ok: true, id: 'urn:uuid:6c4e4a1e-4d1c-4d8b-8f0a-2f3a5f1d9b11' });
      const s = await events(authorized, 'books', 2);
      expect(s.events[1]).toEqual({
        type: 'book.updated',
        id: 'urn:uuid:6c4e4a1e-4d1c-4d8b-8f0a-2f3a5f1d9b11',
        data: 'typed',
      });
    });

    it('delivers a private update only to the subscriber whose cookie covers an alternate topic', async () => {
      const before = (await readPageSource(anonymous, 'books')).events.length;
      const secret = await publishWithSymfony(hub, PUBLISHER_KEY, {
        topics: ['https://example.com/books/3', 'https://example.com/users/dunglas/books/3'],
        data: 'private to dunglas',
        private: true,
      });
      expect(secret).toMatchObject({ ok: true });
      // A public marker published after it: once the anonymous page has it, the private one would
      // have arrived before it (one ordered stream).
      const marker = await publishWithSymfony(hub, PUBLISHER_KEY, {
        topics: 'https://example.com/books/4',
        data: 'public marker',
      });
      expect(marker).toMatchObject({ ok: true });
      const auth = await events(authorized, 'books', 4);
      expect(auth.events.slice(2).map((e) => e.data)).toEqual([
        'private to dunglas',
        'public marker',
      ]);
      const anon = await events(anonymous, 'books', before + 1);
      expect(anon.events.slice(before).map((e) => e.data)).toEqual(['public marker']);
    });

    it('is refused when its token does not allow the topic, and nothing is delivered', async () => {
      const refused = await publishWithSymfony(hub, PUBLISHER_KEY, {
        topics: 'https://example.com/books/5',
        data: 'not allowed',
        publish: ['https://example.com/authors/{id}'],
      });
      expect(refused.ok).toBe(false);
      expect(refused.ok ? '' : refused.error).toMatch(/403|Failed to send an update/);
      const forged = await publishWithSymfony(hub, 'not-the-publisher-key', {
        topics: 'https://example.com/books/5',
        data: 'forged',
      });
      expect(forged.ok).toBe(false);
      const ok = await publishWithSymfony(hub, PUBLISHER_KEY, {
        topics: 'https://example.com/books/6',
        data: 'after the refusals',
      });
      expect(ok).toMatchObject({ ok: true });
      const s = await events(authorized, 'books', 5);
      expect(s.events.map((e) => e.data)).not.toContain('not allowed');
      expect(s.events.map((e) => e.data)).not.toContain('forged');
      expect(s.events[4].data).toBe('after the refusals');
    });
  },
);
