import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deleteKeys, redisAvailable, redisUrlForTests, uniqueKeyPrefix } from '../support/redis';
import { spawnReadyGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { publish } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

/**
 * Memory bound of stalled readers (RELIABILITY 34): a long replay or one large batch to many
 * subscribers that read nothing grows the gateway's RSS by at most about MAX_BUFFERED_BYTES per
 * stream. Measured on a spawned gateway's RSS (/proc), a memory bound, not a timing one.
 */

const CAP = 1024 * 1024; // MAX_BUFFERED_BYTES (the default)
const EVENT_DATA = 60 * 1024;
/** Heap, code and allocator noise a test run may add on top of the per-stream bound. */
const SLACK = 32 * 1024 * 1024;
const ADMIN = bearer(hs256(claims({ admin: true })));

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Samples a process's RSS every 20 ms until stopped; reports the peak. */
function watchRss(pid: number): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // The process is gone: keep the peak seen.
    }
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** A raw subscriber: sends its request, takes the response headers, then never reads again. */
async function stalledSubscriber(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Socket> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n${extra}\r\n`);
  await new Promise<void>((r) => socket.once('data', () => r()));
  socket.pause();
  return socket;
}

/** Sum of bytesSent over the gateway's open streams (admin API). */
async function bytesSent(url: string): Promise<number> {
  const res = await fetch(`${url}/admin/connections`, { headers: ADMIN });
  const body = (await res.json()) as { connections: { bytesSent: number }[] };
  return body.connections.reduce((sum, c) => sum + c.bytesSent, 0);
}

/** Waits until the gateway stops writing (bytesSent unchanged for a while). */
async function quiescent(url: string): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      const now = await bytesSent(url);
      const still = now === last;
      last = now;
      return still;
    },
    'the gateway to stop writing to stalled streams',
    60_000,
    750,
  );
}

function batch(topic: string, n: number, from = 0): { events: unknown[] } {
  return {
    events: Array.from({ length: n }, (_, i) => ({
      topic,
      data: { n: from + i, pad: 'p'.repeat(EVENT_DATA) },
    })),
  };
}

function describeMemoryBound(broker: 'memory' | 'redis'): void {
  describe(`Memory bound of stalled readers (${broker} broker)`, () => {
    const gateways: SpawnedGateway[] = [];
    const sockets: Socket[] = [];
    const prefixes: string[] = [];

    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy();
      for (const g of gateways.splice(0)) {
        g.kill('SIGKILL');
        await g.exited;
      }
    });
    afterAll(async () => {
      for (const p of prefixes) await deleteKeys(p);
    });

    async function gateway(): Promise<SpawnedGateway | undefined> {
      const env: Record<string, string> = {
        MAX_BUFFERED_BYTES: String(CAP),
        HISTORY_SIZE: '1000',
        // No heartbeat cut during the measurement: the bound must hold while they stay open.
        HEARTBEAT_MS: '600000',
      };
      if (broker === 'redis') {
        if (!(await redisAvailable())) return undefined;
        const prefix = uniqueKeyPrefix('membound');
        prefixes.push(prefix);
        Object.assign(env, {
          BROKER: 'redis',
          REDIS_URL: redisUrlForTests(),
          REDIS_KEY_PREFIX: prefix,
        });
      }
      const gw = await spawnReadyGateway(env, 30_000);
      gateways.push(gw);
      return gw;
    }

    it('should grow RSS by about MAX_BUFFERED_BYTES per stream when 20 stalled readers resume a 24 MB history', async (ctx) => {
      const gw = await gateway();
      if (!gw) return ctx.skip();
      const pid = gw.child.pid!;
      const topic = 'replay/big';
      const first = await publish(gw.url, { topic, data: 'start' });
      expect(first.status).toBe(202);
      // 400 events of 60 KB: about 24 MB of history after the cursor.
      for (let b = 0; b < 4; b++) {
        const res = await publish(gw.url, batch(topic, 100, b * 100));
        expect(res.status).toBe(202);
      }
      await sleep(500);
      const before = rssOf(pid);
      const watch = watchRss(pid);
      const streams = 20;
      for (let i = 0; i < streams; i++) {
        sockets.push(
          await stalledSubscriber(gw.url, `/events?topic=${topic}`, {
            'Last-Event-ID': first.body.id as string,
          }),
        );
      }
      await quiescent(gw.url);
      const growth = watch.stop() - before;
      // Old behaviour: each resume queued and copied the whole history (~500 MB for this setup).
      expect(growth, `RSS growth ${(growth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(
        streams * CAP + SLACK,
      );
      // The stalled resumes are paced, not cut: all still open, and none got the whole history.
      const res = await fetch(`${gw.url}/admin/connections`, { headers: ADMIN });
      const body = (await res.json()) as { count: number; connections: { bytesSent: number }[] };
      expect(body.count).toBe(streams);
      for (const c of body.connections) expect(c.bytesSent).toBeLessThan(12 * 1024 * 1024);
    });

    it('should grow RSS by about MAX_BUFFERED_BYTES per stream when one 6 MB batch reaches 40 stalled subscribers', async (ctx) => {
      const gw = await gateway();
      if (!gw) return ctx.skip();
      const pid = gw.child.pid!;
      const topic = 'batch/big';
      const streams = 40;
      for (let i = 0; i < streams; i++) {
        sockets.push(await stalledSubscriber(gw.url, `/events?topic=${topic}`));
      }
      await sleep(500);
      const before = rssOf(pid);
      const watch = watchRss(pid);
      const res = await publish(gw.url, batch(topic, 100));
      expect(res.status).toBe(202);
      await quiescent(gw.url);
      await sleep(500);
      const growth = watch.stop() - before;
      // Old behaviour: ~230 MB (the batch queued, concatenated and chunk-framed per subscriber).
      expect(growth, `RSS growth ${(growth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(
        streams * CAP + SLACK,
      );
    });
  });
}

describeMemoryBound('memory');
describeMemoryBound('redis');
