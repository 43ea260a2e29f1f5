import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  installProbe,
  launchChromium,
  outputPath,
  readProbe,
  type Chromium,
  type RecordingPage,
} from '../support/browser';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

const CLOSED = 2;
const token = (sub: string, grants: { subscribe?: string[]; admin?: boolean }) =>
  hs256(claims(grants, { sub }));
const text = (page: Page, id: string) => page.locator(`#${id}`).innerText();
/** A chart container's data attributes, set by the page after each draw. */
const chartData = (page: Page, id: string) =>
  page.locator(`#${id}`).evaluate((el) => ({
    points: Number((el as unknown as { dataset: Record<string, string> }).dataset.points ?? 0),
    max: Number((el as unknown as { dataset: Record<string, string> }).dataset.max ?? 0),
  }));

describe.skipIf(!chromiumAvailable())('Operator console (GET /console) in Chromium', () => {
  let browser: Chromium;
  let gw: Gateway;
  const admin = token('ops', { admin: true });
  const streams: SseStream[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    gw = await startTestGateway({ ANONYMOUS_TOPICS: '', INSTANCE_ID: 'console-1' });
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await browser?.close();
    await gw?.app.close();
  });

  const open = async (sub: string, topic: string) => {
    const s = await openStream(gw.url, `/events?topic=${topic}`, {
      headers: bearer(token(sub, { subscribe: ['**'] })),
    });
    expect(s.status).toBe(200);
    streams.push(s);
    return s;
  };

  it('should ask for a token, then go live with the pasted one and keep it in the tab', async () => {
    const tab = await browser.newPage();
    await tab.page.goto(`${gw.url}/console?interval=500`);
    await tab.page.locator('#state[data-state="auth"]').waitFor();
    expect(await text(tab.page, 'state-text')).toContain('401');
    // The only error is the browser's own line for the refused admin call.
    expect(tab.errors.every((e) => /status of 401/.test(e))).toBe(true);
    await tab.page.locator('#token').fill(admin);
    await tab.page.locator('#auth button[type="submit"]').click();
    await tab.page.locator('#state[data-state="live"]').waitFor();
    const errorsBefore = tab.errors.length;
    await tab.page.reload();
    await tab.page.locator('#state[data-state="live"]').waitFor();
    expect(tab.errors.length).toBe(errorsBefore);
    await tab.page.close();
  });

  let tab: RecordingPage;

  it('should load with no console errors (cookie auth) and chart real traffic', async () => {
    // Scoped to /admin (what the console calls), so the page's other requests, such as the
    // probe's EventSource below, do not carry the admin token.
    const host = new URL(gw.url).hostname;
    await browser.context.addCookies([
      {
        name: 'herald_token',
        value: admin,
        domain: host,
        path: '/admin',
        httpOnly: true,
        sameSite: 'Strict',
      },
    ]);
    tab = await browser.newPage();
    const res = await tab.page.goto(`${gw.url}/console?interval=500`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await tab.page.locator('#state[data-state="live"]').waitFor();

    await open('alice', 'con/a');
    await open('alice', 'con/a');
    await open('bob', 'con/b');
    for (let i = 0; i < 10; i++) await publish(gw.url, { topic: 'con/a', data: i });
    for (let i = 0; i < 5; i++) await publish(gw.url, { topic: 'con/b', data: i });
    for (const s of streams) await s.waitForEvents(s === streams[2] ? 5 : 10);

    await waitFor(async () => (await text(tab.page, 't-delivered')) === '25', '25 deliveries');
    expect(await text(tab.page, 't-streams')).toBe('3');
    expect(await text(tab.page, 't-published')).toBe('15');
    expect(await text(tab.page, 't-instances')).toBe('1/1');
    expect(await text(tab.page, 't-shed')).toBe('0');
    expect(await text(tab.page, 't-slow')).toBe('0');
    for (const id of ['chart-streams', 'chart-throughput', 'chart-latency', 'chart-refusals']) {
      expect(await tab.page.locator(`#${id} canvas`).count(), id).toBeGreaterThan(0);
    }
    // Rates need two answers around the traffic: wait for the poll after it.
    await waitFor(async () => (await chartData(tab.page, 'chart-throughput')).max > 0, 'rates');
    await waitFor(async () => (await chartData(tab.page, 'chart-latency')).max > 0, 'latency');
    const streamsChart = await chartData(tab.page, 'chart-streams');
    expect(streamsChart.max).toBe(3);
    expect(streamsChart.points).toBeGreaterThan(0);
    const throughput = await chartData(tab.page, 'chart-throughput');
    // Publishes/s and deliveries/s: at most what was sent in one poll interval, never more.
    expect(throughput.max).toBeGreaterThan(0);
    expect(Number(await text(tab.page, 't-p99'))).toBeGreaterThan(0);

    const instance = tab.page.locator('#instances tr[data-instance="console-1"] td');
    expect(await instance.nth(1).innerText()).toBe('ready');
    expect(await instance.nth(2).innerText()).toBe('memory up');
    expect(await instance.nth(5).innerText()).toBe('3');
    const topicA = tab.page.locator('#topics tr[data-topic="con/a"] td');
    expect(await topicA.nth(1).innerText()).toBe('2');
    const topicB = tab.page.locator('#topics tr[data-topic="con/b"] td');
    expect(await topicB.nth(1).innerText()).toBe('1');
    expect(await tab.page.locator('#connections tr').count()).toBe(3);
    await tab.page.screenshot({ path: outputPath('console-page.png'), fullPage: true });
    expect(tab.errors).toEqual([]);
  });

  it('should filter connections and kick one: its stream closes', async () => {
    await tab.page.locator('#f-sub').fill('bob');
    await waitFor(async () => (await tab.page.locator('#connections tr').count()) === 1, 'filter');
    expect(await text(tab.page, 'conn-count')).toBe('(1 of 3)');
    await tab.page.locator('#f-topic').fill('con/a');
    await waitFor(async () => (await tab.page.locator('#connections tr').count()) === 0, 'none');
    await tab.page.locator('#f-topic').fill('');
    await tab.page.locator('#connections tr[data-sub="bob"] button[data-action="kick"]').click();
    await streams[2].waitForEnd();
    await waitFor(async () => (await text(tab.page, 't-streams')) === '2', 'two streams left');
    expect(await text(tab.page, 'action-result')).toMatch(/^closed /);
    await tab.page.locator('#f-sub').fill('');
    expect(tab.errors).toEqual([]);
  });

  it('should revoke a subject after a confirming click: its EventSource stops for good', async () => {
    const probe = await browser.newPage();
    // Any page of this origin whose CSP allows connect-src 'self' hosts the probe: a console tab.
    await probe.page.goto(`${gw.url}/console?interval=60000`);
    const alice = token('alice', { subscribe: ['**'] });
    await installProbe(probe.page, `${gw.url}/events?topic=con/a&access_token=${alice}`);
    await waitFor(async () => (await readProbe(probe.page)).opens === 1, 'EventSource open');
    await waitFor(async () => (await text(tab.page, 't-streams')) === '3', 'three streams');

    const revoke = tab.page.locator(
      '#connections tr[data-sub="alice"] button[data-action="revoke"]',
    );
    await revoke.first().click();
    // Armed, not yet revoked: the streams are still open.
    await tab.page.locator('button[data-armed="true"]').first().waitFor();
    expect(streams[0].ended).toBe(false);
    await tab.page.locator('button[data-armed="true"]').first().click();
    await streams[0].waitForEnd();
    await streams[1].waitForEnd();
    await waitFor(
      async () => (await readProbe(probe.page)).readyState === CLOSED,
      'EventSource closed after the 204 on reconnect',
    );
    expect(await text(tab.page, 'action-result')).toBe(
      'revoked alice: 3 stream(s) closed, older tokens refused',
    );
    await waitFor(async () => (await text(tab.page, 't-streams')) === '0', 'no stream left');
    expect(tab.errors).toEqual([]);
  });
});

describe.skipIf(!chromiumAvailable())('Operator console in development (no JWT key)', () => {
  let browser: Chromium;
  let gw: Gateway;

  beforeAll(async () => {
    browser = await launchChromium();
    gw = await startTestGateway({
      NODE_ENV: 'development',
      JWT_SECRET: '',
      ANONYMOUS_TOPICS: '',
      INSTANCE_ID: 'console-dev',
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.app.close();
  });

  it('should go live with a development admin token, no paste and no console error', async () => {
    const tab = await browser.newPage();
    await tab.page.goto(`${gw.url}/console?interval=500`);
    await tab.page.locator('#state[data-state="live"]').waitFor();
    await tab.page.locator('#instances tr[data-instance="console-dev"]').waitFor();
    expect(tab.errors).toEqual([]);
  });
});
