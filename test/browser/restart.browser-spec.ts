import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  installProbe,
  launchChromium,
  readProbe,
  type Chromium,
} from '../support/browser';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { publish } from '../support/sse-client';
import { waitFor } from '../support/wait';

/** What the page's {@link HeraldClient} (loaded from `/herald-client.js`) recorded. */
interface HelperLog {
  states: string[];
  resets: string[];
  ids: string[];
}

/**
 * Loads the browser helper as an ES module in the page and subscribes with it. The code is a
 * string because Vite would rewrite a dynamic `import()` inside a function passed to evaluate.
 */
function startHelper(page: Page, topic: string): Promise<void> {
  return page.evaluate(`(async () => {
    const { HeraldClient } = await import('/herald-client.js');
    const log = { states: [], resets: [], ids: [] };
    globalThis.helperLog = log;
    const client = new HeraldClient({
      topics: [${JSON.stringify(topic)}],
      onStateChange: (state) => log.states.push(state),
      onReset: (reason) => log.resets.push(reason),
    });
    client.on('message', (e) => log.ids.push(e.id));
    client.connect();
  })()`);
}

const helperLog = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { helperLog: HelperLog }).helperLog);

describe.skipIf(!chromiumAvailable())('Server restart seen from Chromium (memory broker)', () => {
  let browser: Chromium;
  const spawned: SpawnedGateway[] = [];

  beforeAll(async () => {
    browser = await launchChromium({ bypassCSP: true });
  });
  afterAll(async () => {
    await browser?.close();
    for (const g of spawned) g.kill('SIGKILL');
  });

  it('should give the page herald.reset after a restart on the same port, then continue live', async () => {
    const env = { RETRY_MS: '200', SHUTDOWN_GRACE_MS: '500' };
    const first = await spawnGateway(env);
    spawned.push(first);
    const { page } = await browser.newPage();
    await page.goto(`${first.url}/health/live`);
    await installProbe(page, '/events?topic=restart');
    await startHelper(page, 'restart');
    await waitFor(async () => (await readProbe(page)).opens === 1, 'native EventSource open');
    await waitFor(async () => (await helperLog(page)).states.includes('open'), 'helper open');
    const before = await publish(first.url, { topic: 'restart', data: 'before' });
    await waitFor(
      async () => (await helperLog(page)).ids.includes(before.body.id as string),
      'event before the restart',
    );

    // A deploy: SIGTERM drains (herald.drain), the process exits, a new one takes the port.
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const port = new URL(first.url).port;
    const second = await spawnGateway({ ...env, PORT: port });
    spawned.push(second);
    expect(second.url).toBe(first.url);

    // The new process never issued the page's cursor (memory broker): herald.reset.
    const probe = await waitFor(
      async () => {
        const p = await readProbe(page);
        return p.events.some((e) => e.type === 'herald.reset') ? p : undefined;
      },
      'herald.reset in the page',
      15_000,
    );
    // A reconnect that reaches the old process while it is still exiting is shed: allowed.
    const events = probe.events.filter((e) => e.type !== 'herald.shed');
    expect(events.map((e) => e.type)).toEqual(['message', 'herald.drain', 'herald.reset']);
    const reset = events[2];
    expect(JSON.parse(reset.data)).toEqual({ reason: 'unknown-cursor' });
    await waitFor(async () => (await helperLog(page)).resets.length === 1, 'helper onReset');
    expect((await helperLog(page)).resets).toEqual(['unknown-cursor']);

    const after = await publish(second.url, { topic: 'restart', data: 'after' });
    await waitFor(
      async () => (await readProbe(page)).events.some((e) => e.id === after.body.id),
      'live event after the restart (native)',
    );
    await waitFor(
      async () => (await helperLog(page)).ids.includes(after.body.id as string),
      'live event after the restart (helper)',
    );
    const log = await helperLog(page);
    expect(log.ids).toEqual([before.body.id, after.body.id]);
    expect(log.states.filter((s) => s !== 'shed')).toEqual([
      'connecting',
      'open',
      'draining',
      'open',
    ]);
  });
});
