import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, type Chromium } from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import {
  HUB_PATH,
  legacyPublisherJwt,
  legacySubscriberJwt,
  mercurePublishOk,
  openPageSource,
  otherHost,
  readPageSource,
  setCookie,
  v1Jwt,
  type PageSourceState,
} from '../support/mercure-clients';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { sleep, waitFor } from '../support/wait';

/**
 * Mercure subscribers as browsers run them: a native EventSource on /.well-known/mercure, by each
 * selector kind of both dialects, private updates by cookie, and resume after a reconnect.
 */
const PUBLISHER_KEY = randomBytes(32).toString('base64url');
const SUBSCRIBER_KEY = randomBytes(32).toString('base64url');
const PUBLISHER = legacyPublisherJwt(['*'], PUBLISHER_KEY);

const q = (params: [string, string][]): string =>
  `${HUB_PATH}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;

describe.skipIf(!chromiumAvailable())('Mercure in Chromium (native EventSource)', () => {
  let browser: Chromium;
  let gw: Gateway;
  const pages: Page[] = [];

  const openPage = async (origin: string): Promise<Page> => {
    const page = (await browser.newPage()).page;
    pages.push(page);
    await page.goto(`${origin}/health/live`);
    return page;
  };
  const opened = (page: Page, name: string) =>
    waitFor(async () => (await readPageSource(page, name)).opens >= 1, `${name} open`, 15_000);
  const events = (page: Page, name: string, count: number): Promise<PageSourceState> =>
    waitFor(
      async () => {
        const s = await readPageSource(page, name);
        return s.events.length >= count ? s : undefined;
      },
      `${count} event(s) on ${name}`,
      15_000,
    );
  const datas = (s: PageSourceState) => s.events.map((e) => e.data);
  const publish = (update: Parameters<typeof mercurePublishOk>[1]) =>
    mercurePublishOk(gw.url, update, PUBLISHER);

  beforeAll(async () => {
    browser = await launchChromium({ bypassCSP: true });
    gw = await startTestGateway({
      MERCURE: 'on',
      MERCURE_PROTOCOL: 'both',
      MERCURE_PUBLISHER_JWT_KEY: PUBLISHER_KEY,
      MERCURE_SUBSCRIBER_JWT_KEY: SUBSCRIBER_KEY,
      MERCURE_ANONYMOUS: 'true',
      MERCURE_HISTORY_SIZE: '1000',
      RETRY_MS: '50',
    });
  }, 60_000);
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
    await browser.context.clearCookies();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  it('subscribes by every selector kind of both dialects and receives multi-line data exactly', async () => {
    // Browsers open at most 6 HTTP/1.1 connections per host: 4 sources here, 3 on the other host.
    const page = await openPage(gw.url);
    const other = await openPage(otherHost(gw.url));
    const pageOf = (name: string) =>
      ['match', 'matchExact', 'urlpattern', 'wildcard'].includes(name) ? page : other;
    const sources: Record<string, [string, string][]> = {
      match: [['match', 'https://example.com/kinds/1']],
      matchExact: [['match_exact', 'https://example.com/kinds/1']],
      urlpattern: [['match_urlpattern', 'https://example.com/kinds/:id']],
      legacyExact: [['topic', 'https://example.com/kinds/1']],
      legacyTemplate: [['topic', 'https://example.com/kinds/{id}']],
      several: [
        ['match', 'https://example.com/other/1'],
        ['match_urlpattern', 'https://example.com/kinds/:id(\\d+)'],
      ],
      wildcard: [['topic', '*']],
    };
    for (const [name, params] of Object.entries(sources)) {
      await openPageSource(pageOf(name), name, q(params));
    }
    for (const name of Object.keys(sources)) await opened(pageOf(name), name);

    const multi = 'first line\n\n    indented line\nkey: value: with colons\n\n';
    await publish({ topic: 'https://example.com/kinds/1', data: multi });
    await publish({ topic: 'https://example.com/kinds/two', data: 'two' });
    await publish({ topic: 'https://example.com/other/1', data: 'other' });
    await publish({ topic: 'https://example.org/kinds/1', data: 'wrong host' });

    const all = await events(page, 'wildcard', 4);
    expect(datas(all)).toEqual([multi, 'two', 'other', 'wrong host']);
    const expected: Record<string, string[]> = {
      match: [multi],
      matchExact: [multi],
      legacyExact: [multi],
      urlpattern: [multi, 'two'],
      legacyTemplate: [multi, 'two'],
      several: [multi, 'other'],
    };
    for (const [name, want] of Object.entries(expected)) {
      expect(datas(await events(pageOf(name), name, want.length)), name).toEqual(want);
    }
    // Nothing else arrives later (the wildcard saw the last update already).
    await sleep(100);
    for (const [name, want] of Object.entries(expected)) {
      expect(datas(await readPageSource(pageOf(name), name)), name).toEqual(want);
    }
    // The same id everywhere.
    const ids = new Set((await readPageSource(page, 'match')).events.map((e) => e.id));
    expect(ids.size).toBe(1);
    expect(all.events[0].id).toBe([...ids][0]);
  });

  it('delivers private updates to the mercureAuthorization cookie (legacy) but not to anonymous', async () => {
    const token = legacySubscriberJwt(['https://example.com/legacy-private/{id}'], SUBSCRIBER_KEY);
    await setCookie(browser.context, gw.url, 'mercureAuthorization', token);
    const authorized = await openPage(gw.url);
    const anonymous = await openPage(otherHost(gw.url));
    const selector = q([['topic', 'https://example.com/legacy-private/{id}']]);
    for (const page of [authorized, anonymous])
      await openPageSource(page, 's', selector, ['message'], true);
    for (const page of [authorized, anonymous]) await opened(page, 's');

    await publish({ topic: 'https://example.com/legacy-private/1', data: 'secret', private: true });
    await publish({ topic: 'https://example.com/legacy-private/2', data: 'public' });

    expect(datas(await events(authorized, 's', 2))).toEqual(['secret', 'public']);
    expect(datas(await events(anonymous, 's', 1))).toEqual(['public']);
  });

  it('delivers private updates to the __Secure-mercure_access_token cookie (1.0 at+jwt) by alternate topic', async () => {
    const token = v1Jwt(
      { subscribe: ['https://example.com/users/kevin/:thing'], urlpattern: true },
      SUBSCRIBER_KEY,
    );
    // `__Secure-` needs `secure`; Chromium takes it for 127.0.0.1 (a secure context) by domain.
    await browser.context.addCookies([
      {
        name: '__Secure-mercure_access_token',
        value: token,
        domain: new URL(gw.url).hostname,
        path: HUB_PATH,
        secure: true,
        httpOnly: true,
        sameSite: 'Strict',
      },
    ]);
    const authorized = await openPage(gw.url);
    const anonymous = await openPage(otherHost(gw.url));
    const selector = q([['match_urlpattern', 'https://example.com/v1-private/:id']]);
    for (const page of [authorized, anonymous])
      await openPageSource(page, 's', selector, ['message'], true);
    for (const page of [authorized, anonymous]) await opened(page, 's');

    // Routed by the canonical topic, authorized by the alternate.
    await publish({
      topic: ['https://example.com/v1-private/1', 'https://example.com/users/kevin/book-1'],
      data: 'for kevin',
      private: true,
    });
    await publish({
      topic: ['https://example.com/v1-private/2', 'https://example.com/users/other/book-2'],
      data: 'not for kevin',
      private: true,
    });
    await publish({ topic: 'https://example.com/v1-private/3', data: 'public' });

    expect(datas(await events(authorized, 's', 2))).toEqual(['for kevin', 'public']);
    expect(datas(await events(anonymous, 's', 1))).toEqual(['public']);
  });

  describe('resume', () => {
    let proxy: TcpProxy;
    const lastEventIds: (string | undefined)[] = [];
    const record = (req: IncomingMessage) => {
      if (req.method === 'GET' && req.url?.startsWith(HUB_PATH)) {
        const h = req.headers['last-event-id'];
        lastEventIds.push(Array.isArray(h) ? h[0] : h);
      }
    };

    beforeAll(async () => {
      const server = gw.app.getHttpServer();
      server.prependListener('request', record);
      proxy = await startTcpProxy({ targetPort: (server.address() as AddressInfo).port });
    });
    afterAll(async () => {
      gw.app.getHttpServer().removeListener('request', record);
      await proxy?.stop();
    });

    it('resumes after a dropped connection with Last-Event-ID: no gap, no duplicate', async () => {
      const origin = `http://127.0.0.1:${proxy.port}`;
      const page = await openPage(origin);
      lastEventIds.length = 0;
      await openPageSource(page, 'r', q([['match', 'https://example.com/resume/a']]));
      await opened(page, 'r');
      const id1 = await publish({ topic: 'https://example.com/resume/a', data: '1' });
      const id2 = await publish({ topic: 'https://example.com/resume/a', data: '2' });
      const first = await events(page, 'r', 2);
      expect(first.events.map((e) => e.id)).toEqual([id1, id2]);

      proxy.cutAll();
      // Published while the browser is away: it must come back through the replay.
      await publish({ topic: 'https://example.com/resume/a', data: '3' });
      await publish({ topic: 'https://example.com/resume/b', data: 'other topic' });
      await waitFor(
        async () => (await readPageSource(page, 'r')).opens >= 2,
        'reconnected',
        20_000,
      );
      await publish({ topic: 'https://example.com/resume/a', data: '4' });

      const after = await events(page, 'r', 4);
      await sleep(100);
      expect(datas(await readPageSource(page, 'r'))).toEqual(['1', '2', '3', '4']);
      expect(after.events[3].data).toBe('4');
      expect(lastEventIds).toEqual([undefined, id2]);
    });

    it('resumes from lastEventID / last_event_id in the query, and replays everything with earliest', async () => {
      const page = await openPage(gw.url);
      const topic = 'https://example.com/resume/query';
      const ids: string[] = [];
      for (const n of ['q1', 'q2', 'q3']) ids.push(await publish({ topic, data: n }));

      await openPageSource(
        page,
        'v1',
        q([
          ['match', topic],
          ['lastEventID', ids[0]],
        ]),
      );
      await openPageSource(
        page,
        'legacy',
        q([
          ['topic', topic],
          ['last_event_id', ids[1]],
        ]),
      );
      await openPageSource(
        page,
        'earliest',
        q([
          ['match', topic],
          ['lastEventID', 'earliest'],
        ]),
      );
      expect(datas(await events(page, 'v1', 2))).toEqual(['q2', 'q3']);
      expect(datas(await events(page, 'legacy', 1))).toEqual(['q3']);
      expect(datas(await events(page, 'earliest', 3))).toEqual(['q1', 'q2', 'q3']);

      // Then live, once.
      await publish({ topic, data: 'q4' });
      expect(datas(await events(page, 'v1', 3))).toEqual(['q2', 'q3', 'q4']);
      expect(datas(await events(page, 'legacy', 2))).toEqual(['q3', 'q4']);
      expect(datas(await events(page, 'earliest', 4))).toEqual(['q1', 'q2', 'q3', 'q4']);
    });
  });
});
