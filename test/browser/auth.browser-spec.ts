/**
 * Browser tests that need auth (issue: JWT auth). PENDING: this file does not match the vitest
 * include pattern (`*.browser-spec.ts`); rename it to `auth.browser-spec.ts` once auth is merged.
 * Written against CONTRACT section 3: HS256 with JWT_SECRET (>= 32 bytes), permissions in the
 * `herald` claim, cookie `herald_token`, `?access_token=`, `POST /admin/revocations`, and
 * `GET /dev/token` in development without a key.
 */
import type { IncomingMessage } from 'node:http';
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  installProbe,
  launchChromium,
  readProbe,
  type Chromium,
  type RecordingPage,
} from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

const SECRET = 'browser-tests-secret-0123456789abcdef-0123456789';
const CLOSED = 2;

interface Grants {
  readonly subscribe?: readonly string[];
  readonly publish?: readonly string[];
  readonly admin?: boolean;
}

/** Signs an HS256 token with the test secret; `expiresInS` from now. */
function token(sub: string, grants: Grants, expiresInS = 600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ herald: grants })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now - 1)
    .setExpirationTime(now + expiresInS)
    .sign(new TextEncoder().encode(SECRET));
}

/** Counts `GET /events` requests reaching the gateway. */
function countStreamRequests(gw: Gateway): () => number {
  let count = 0;
  gw.app
    .getHttpServer()
    .on('request', (req: IncomingMessage) => req.url?.startsWith('/events') && count++);
  return () => count;
}

describe.skipIf(!chromiumAvailable())('Auth seen from Chromium', () => {
  let browser: Chromium;
  let gw: Gateway;
  let page: Page;
  let publisher: string;

  beforeAll(async () => {
    browser = await launchChromium({ bypassCSP: true });
    gw = await startTestGateway({
      JWT_SECRET: SECRET,
      ANONYMOUS_TOPICS: '',
      RETRY_MS: '50',
      TOKEN_EXPIRY_WARNING_MS: '2000',
    });
    publisher = await token('publisher', { publish: ['**'] });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });
  afterEach(async () => {
    await page?.close();
    await browser.context.clearCookies();
  });
  const openPage = async () => {
    page = (await browser.newPage()).page;
    await page.goto(`${gw.url}/health/live`);
    return page;
  };
  const send = async (topic: string, data: unknown) => {
    const res = await publish(gw.url, { topic, data }, { Authorization: `Bearer ${publisher}` });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };

  it('should stream to a native EventSource authenticated by the herald_token cookie', async () => {
    await browser.context.addCookies([
      {
        name: 'herald_token',
        value: await token('alice', { subscribe: ['users/alice/**'] }),
        url: gw.url,
        httpOnly: true,
        sameSite: 'Lax',
      },
    ]);
    await openPage();
    await installProbe(page, '/events?topic=users/alice/inbox');
    await waitFor(async () => (await readProbe(page)).opens === 1, 'open with the cookie');
    const id = await send('users/alice/inbox', { hello: 'alice' });
    await waitFor(async () => (await readProbe(page)).events.some((e) => e.id === id), 'event');
  });

  it('should end the EventSource (CLOSED, no retry) on 401 for a missing or bad token', async () => {
    await openPage();
    const requests = countStreamRequests(gw);
    await installProbe(page, '/events?topic=private/x&access_token=not.a.jwt');
    await waitFor(async () => (await readProbe(page)).readyState === CLOSED, 'CLOSED after 401');
    await sleep(500);
    expect(requests()).toBe(1);
    const res = await fetch(`${gw.url}/events?topic=private/x`);
    expect(res.status).toBe(401);
  });

  it('should end the EventSource (CLOSED, no retry) on 403 for a topic outside the grants', async () => {
    await openPage();
    const requests = countStreamRequests(gw);
    const t = await token('bob', { subscribe: ['users/bob/**'] });
    await installProbe(page, `/events?topic=users/alice/inbox&access_token=${t}`);
    await waitFor(async () => (await readProbe(page)).readyState === CLOSED, 'CLOSED after 403');
    await sleep(500);
    expect(requests()).toBe(1);
  });

  it('should stop a revoked subject: its reconnect gets 204 and the EventSource closes', async () => {
    await openPage();
    const requests = countStreamRequests(gw);
    const t = await token('mallory', { subscribe: ['feed'] });
    await installProbe(page, `/events?topic=feed&access_token=${t}`);
    await waitFor(async () => (await readProbe(page)).opens === 1, 'open');
    const admin = await token('ops', { admin: true });
    const res = await fetch(`${gw.url}/admin/revocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${admin}` },
      body: JSON.stringify({ sub: 'mallory' }),
    });
    expect(res.status).toBeLessThan(300);
    await waitFor(async () => (await readProbe(page)).readyState === CLOSED, 'CLOSED after 204');
    const settled = requests();
    await sleep(500);
    expect(requests()).toBe(settled); // no further attempts
    expect(settled).toBe(2); // the stream, then one reconnect answered 204
  });

  it('should refresh an expiring query token through the helper with no gap or duplicate', async () => {
    await openPage();
    let minted = 0;
    // The page asks Node for fresh tokens (stands in for the application's token endpoint).
    await page.exposeFunction('mintToken', async () => {
      minted++;
      return token('carol', { subscribe: ['ticks'] }, 4);
    });
    const first = await token('carol', { subscribe: ['ticks'] }, 4);
    await page.evaluate(`(async () => {
      const { HeraldClient } = await import('/herald-client.js');
      const log = { ids: [], states: [] };
      globalThis.helperLog = log;
      const client = new HeraldClient({
        topics: ['ticks'],
        token: ${JSON.stringify(first)},
        onStateChange: (s) => log.states.push(s),
        refreshToken: () => globalThis.mintToken(),
      });
      client.on('message', (e) => log.ids.push(e.id));
      client.connect();
    })()`);
    const log = () =>
      page.evaluate(
        () =>
          (globalThis as unknown as { helperLog: { ids: string[]; states: string[] } }).helperLog,
      );
    await waitFor(async () => (await log()).states.includes('open'), 'open');
    const published: string[] = [];
    // Publish across two expiries (tokens live 4 s, warned 2 s before).
    const until = Date.now() + 9000;
    while (Date.now() < until) {
      published.push(await send('ticks', published.length));
      await sleep(25);
    }
    await waitFor(
      async () => (await log()).ids.length >= published.length,
      'every published id',
      10_000,
    );
    expect((await log()).ids).toEqual(published);
    expect(minted).toBeGreaterThanOrEqual(2);
  });
});

describe.skipIf(!chromiumAvailable())('Demo page with development auth', () => {
  let browser: Chromium;
  let gw: Gateway;
  let tab: RecordingPage;

  beforeAll(async () => {
    browser = await launchChromium();
    // Development without a key: Herald makes an ephemeral secret and serves GET /dev/token.
    gw = await startTestGateway({ NODE_ENV: 'development', JWT_SECRET: '', ANONYMOUS_TOPICS: '' });
    tab = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  it('should get a token from /dev/token, subscribe and publish with it', async () => {
    await tab.page.goto(`${gw.url}/`);
    await tab.page.locator('#state[data-state="open"]').waitFor();
    await tab.page.locator('#tokeninfo', { hasText: '/dev/token' }).waitFor();
    await tab.page.locator('#pcount').fill('5');
    await tab.page.locator('#pub button[type="submit"]').click();
    await waitFor(async () => (await tab.page.locator('#n-events').innerText()) === '5', 'events');
    expect(await tab.page.locator('#pubres').innerText()).toMatch(/^202 /);
    expect(await tab.page.locator('#n-gaps').innerText()).toBe('0');
    expect(tab.errors).toEqual([]);
  });
});
