/**
 * Two instances share a private redis-server (started here on port 6394, killed by pid); the page
 * streams from instance A while events are published through B; A is restarted (SIGTERM, new
 * process on the same port). The browser's own reconnect with `Last-Event-ID` must resume with
 * no gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  installProbe,
  launchChromium,
  readProbe,
  type Chromium,
} from '../support/browser';
import { startRedisServer, type RedisServer } from '../support/redis';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { publish } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** Private redis-server port of this suite (6394-6399 belong to the Redis browser tests). */
const REDIS_PORT = 6394;

describe.skipIf(!chromiumAvailable())(
  'Instance restart with the Redis broker, seen from Chromium',
  () => {
    let browser: Chromium;
    let redis: RedisServer | undefined;
    const spawned: SpawnedGateway[] = [];

    beforeAll(async () => {
      redis = await startRedisServer(REDIS_PORT);
      browser = await launchChromium({ bypassCSP: true });
    });
    afterAll(async () => {
      await browser?.close();
      for (const g of spawned) g.kill('SIGKILL');
      await Promise.all(spawned.map((g) => g.exited));
      await redis?.stop();
    });

    it('should resume with no gap when the instance holding the stream restarts', async () => {
      const env = {
        BROKER: 'redis',
        REDIS_URL: (redis as RedisServer).url,
        RETRY_MS: '100',
        SHUTDOWN_GRACE_MS: '500',
      };
      const a = await spawnGateway(env);
      const b = await spawnGateway(env);
      spawned.push(a, b);
      const { page } = await browser.newPage();
      await page.goto(`${a.url}/health/live`);
      await installProbe(page, '/events?topic=cluster/feed');
      await waitFor(async () => (await readProbe(page)).opens === 1, 'open on A');

      const published: string[] = [];
      let publishing = true;
      const pump = (async () => {
        for (let i = 0; publishing && i < 5000; i++) {
          const res = await publish(b.url, { topic: 'cluster/feed', data: i });
          expect(res.status).toBe(202);
          published.push(res.body.id as string);
          await sleep(5);
        }
      })();
      try {
        await sleep(300);
        a.kill('SIGTERM');
        expect(await a.exited).toBe(0);
        await sleep(200); // events keep flowing through B while A is away
        const again = await spawnGateway({ ...env, PORT: new URL(a.url).port });
        spawned.push(again);
        await waitFor(async () => (await readProbe(page)).opens >= 2, 'reconnected to A', 15_000);
        await sleep(300);
      } finally {
        publishing = false;
        await pump;
      }
      const probe = await waitFor(
        async () => {
          const p = await readProbe(page);
          return p.events.filter((e) => e.type === 'message').length >= published.length
            ? p
            : undefined;
        },
        `all ${published.length} events`,
        15_000,
      );
      expect(probe.events.some((e) => e.type === 'herald.reset')).toBe(false);
      expect(probe.events.filter((e) => e.type === 'message').map((e) => e.id)).toEqual(published);
    });
  },
);
