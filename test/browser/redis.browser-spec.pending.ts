/**
 * PENDING until the Redis broker is merged (BROKER=redis): rename to `redis.browser-spec.ts`.
 * Two instances share a private redis-server (started here, killed by pid); the page streams from
 * instance A while events are published through B; A is restarted (SIGTERM, new process on the
 * same port). The browser's own reconnect with `Last-Event-ID` must resume with no gap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
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
import { sleep, waitFor } from '../support/wait';

/** A free loopback port (closed again before use). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port')),
      );
    });
  });
}

describe.skipIf(!chromiumAvailable())(
  'Instance restart with the Redis broker, seen from Chromium',
  () => {
    let browser: Chromium;
    let redis: ChildProcess;
    let redisUrl: string;
    const spawned: SpawnedGateway[] = [];

    beforeAll(async () => {
      const port = await freePort();
      redis = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      redisUrl = `redis://127.0.0.1:${port}`;
      await waitFor(
        () =>
          new Promise<boolean>((ok) => {
            const socket = connect(port, '127.0.0.1');
            socket.once('connect', () => {
              socket.destroy();
              ok(true);
            });
            socket.once('error', () => ok(false));
          }),
        'redis-server listening',
        10_000,
        50,
      );
      browser = await launchChromium({ bypassCSP: true });
    });
    afterAll(async () => {
      await browser?.close();
      for (const g of spawned) g.kill('SIGKILL');
      redis?.kill('SIGKILL');
    });

    it('should resume with no gap when the instance holding the stream restarts', async () => {
      const env = {
        BROKER: 'redis',
        REDIS_URL: redisUrl,
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
