import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnReadyGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { publish } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/**
 * Drain with readers that are behind (RELIABILITY 41): on SIGTERM or SIGINT the gateway waits,
 * within SHUTDOWN_GRACE_MS, for each stream's `herald.drain` to reach the kernel, or cuts the
 * stream as a slow consumer; then it exits 0 within SHUTDOWN_GRACE_MS + 5 s.
 */

const GRACE_MS = 6000;
const EVENT_DATA = 20 * 1024;

/** A raw subscriber that reads its response headers, then stops reading until `resume()`. */
async function pausedReader(url: string, path: string) {
  const { port } = new URL(url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let raw = '';
  let ended = false;
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n\r\n`);
  await new Promise<void>((r) =>
    socket.once('data', (d: Buffer) => {
      raw += d.toString('latin1');
      r();
    }),
  );
  socket.pause();
  socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
  socket.on('end', () => (ended = true));
  socket.on('close', () => (ended = true));
  return {
    socket,
    get raw() {
      return raw;
    },
    get ended() {
      return ended;
    },
    /** Ids of the events received, and the types, in order (frames are whole within a chunk). */
    events(): { id: string; event: string }[] {
      return [...raw.matchAll(/^id: (\S+)\nevent: (\S+)\n/gm)].map((m) => ({
        id: m[1],
        event: m[2],
      }));
    },
  };
}

/** Publishes about `megabytes` MB to `topic` in 100-event batches; returns the ids in order. */
async function publishBehind(url: string, topic: string, megabytes: number): Promise<string[]> {
  const ids: string[] = [];
  const batches = Math.ceil((megabytes * 1024 * 1024) / (100 * EVENT_DATA));
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: 100 }, (_, i) => ({
      topic,
      data: { n: b * 100 + i, pad: 'd'.repeat(EVENT_DATA) },
    }));
    const res = await publish(url, { events });
    expect(res.status).toBe(202);
    ids.push(...(res.body.ids as string[]));
  }
  return ids;
}

describe('Drain with readers that are behind (spawned gateway)', () => {
  const spawned: SpawnedGateway[] = [];
  afterAll(() => {
    for (const g of spawned) g.kill('SIGKILL');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`should hand a reader 6 MB behind the tail and herald.drain, then exit 0, on ${signal}`, async () => {
      const gw = await spawnReadyGateway({
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        // Room for the backlog: this reader is behind, not stalled for good.
        MAX_BUFFERED_BYTES: String(16 * 1024 * 1024),
        RETRY_MS: '500',
      });
      spawned.push(gw);
      const reader = await pausedReader(gw.url, '/events?topic=behind');
      const ids = await publishBehind(gw.url, 'behind', 6);
      await sleep(300);
      const started = Date.now();
      gw.kill(signal);
      // The process must not have exited while the reader still had the backlog to take.
      await sleep(1000);
      reader.socket.resume();
      const code = await gw.exited;
      const took = Date.now() - started;
      expect(code).toBe(0);
      expect(took).toBeLessThan(GRACE_MS + 5000);
      await waitFor(() => reader.ended, 'the drained stream to end', 10_000);
      const events = reader.events();
      // Every event published before the signal, in order, then herald.drain as the last frame.
      expect(events.filter((e) => e.event === 'message').map((e) => e.id)).toEqual(ids);
      expect(events.at(-1)).toEqual({ id: ids.at(-1), event: 'herald.drain' });
      expect(reader.raw).toMatch(/event: herald\.drain\ndata: \{"reason":"shutdown",/);
      // The response ended cleanly (terminating chunk), not cut.
      expect(reader.raw.endsWith('0\r\n\r\n')).toBe(true);
    });
  }

  it('should cut a reader that never takes herald.drain as a slow consumer and still exit 0 in time', async () => {
    const gw = await spawnReadyGateway({
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      MAX_BUFFERED_BYTES: String(16 * 1024 * 1024),
    });
    spawned.push(gw);
    const stalled = await pausedReader(gw.url, '/events?topic=stalled');
    await publishBehind(gw.url, 'stalled', 8);
    await sleep(300);
    const started = Date.now();
    gw.kill('SIGTERM');
    const code = await gw.exited;
    const took = Date.now() - started;
    expect(code).toBe(0);
    expect(took).toBeLessThan(GRACE_MS + 5000);
    // It was held until near the end of the window (not dropped at once), then cut and counted.
    expect(took).toBeGreaterThanOrEqual(GRACE_MS * 0.9);
    expect(gw.output()).toMatch(/did not take herald\.drain in time/);
    expect(gw.output()).toMatch(/"reason":"slow-consumer"/);
    stalled.socket.destroy();
  });
});
