import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { requireRedis, startRedisServer, type RedisServer } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** A raw stream reader that reads its headers, then stops reading until `resume()`. */
async function pausedReader(base: string, path: string, cursor: string) {
  const socket: Socket = connect(Number(new URL(base).port), '127.0.0.1');
  socket.on('error', () => undefined);
  let raw = '';
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n` +
      `Last-Event-ID: ${cursor}\r\n\r\n`,
  );
  await new Promise<void>((r) =>
    socket.once('data', (d: Buffer) => {
      raw += d.toString('latin1');
      r();
    }),
  );
  socket.pause();
  socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
  return {
    socket,
    /** The events received, in order (frames of the last writes are whole). */
    events(): { id: string; event: string }[] {
      return [...raw.matchAll(/^id: (\S+)\nevent: (\S+)\n/gm)].map((m) => ({
        id: m[1],
        event: m[2],
      }));
    },
  };
}

/** Private redis-server port of this suite (6530-6539 belong to the review suites). */
const REDIS_PORT = 6533;

/**
 * Redis restarted without persistence: the key space has a new epoch and its sequence starts
 * again at 1. A client resuming with a cursor of the lost key space gets `herald.reset`
 * (`unknown-cursor`) and must then receive every new event: its old cursor's sequence belongs to
 * another epoch and must not filter the new one's events. The same holds for a replay that was
 * running (paused on a client that does not read) when Redis lost its data.
 */
describe('Resume after Redis lost its data (private redis-server, no persistence)', () => {
  requireRedis();
  let redis: RedisServer;
  let gw: Gateway;
  const streams: SseStream[] = [];
  const ready = async () => (await fetch(`${gw.url}/health/ready`)).status === 200;

  beforeAll(async () => {
    redis = await startRedisServer(REDIS_PORT);
    gw = await startTestGateway({
      BROKER: 'redis',
      REDIS_URL: redis.url,
      // Small, so a replay of a few hundred KB pauses on a client that does not read.
      MAX_BUFFERED_BYTES: String(64 * 1024),
      HEARTBEAT_MS: '60000',
      HISTORY_SIZE: '5000',
    });
    await waitFor(ready, 'gateway ready', 15_000);
  });
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of streams) await s.close();
    for (const s of sockets) s.destroy();
    await gw?.app.close();
    await redis?.stop();
  });

  it('should reset a cursor of the lost key space and then deliver every new event', async () => {
    let old = '';
    for (let i = 0; i < 20; i++) {
      const res = await publish(gw.url, { topic: 'loss/a', data: i });
      expect(res.status).toBe(202);
      old = res.body.id as string;
    }
    await redis.stop('SIGKILL');
    redis = await startRedisServer(REDIS_PORT);
    await waitFor(ready, 'gateway ready again', 15_000);
    // The new key space's first event (sequence 1).
    await waitFor(
      async () => (await publish(gw.url, { topic: 'loss/b', data: 'first' })).status === 202,
      'publish accepted again',
      10_000,
    );

    const stream = await openStream(gw.url, '/events?topic=loss/a', {
      headers: { 'Last-Event-ID': old },
    });
    streams.push(stream);
    expect(stream.status).toBe(200);
    const [reset] = await stream.waitForEvents(1);
    expect(reset.event).toBe('herald.reset');
    expect(JSON.parse(reset.data)).toEqual({ reason: 'unknown-cursor' });

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await publish(gw.url, { topic: 'loss/a', data: `new-${i}` });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    await waitFor(
      () => stream.dataEvents.length >= 3,
      `3 new events after the reset (have ${stream.dataEvents.length})`,
      5000,
    ).catch(() => undefined);
    expect(stream.dataEvents.map((e) => e.id)).toEqual(ids);
  }, 60_000);

  it('should deliver the new key space after a replay that Redis lost its data under', async () => {
    const first = await publish(gw.url, { topic: 'lost/a', data: 0 });
    expect(first.status).toBe(202);
    for (let b = 0; b < 40; b++) {
      const events = Array.from({ length: 100 }, (_, i) => ({
        topic: 'lost/a',
        data: { n: b * 100 + i, pad: 'p'.repeat(2000) },
      }));
      expect((await publish(gw.url, { events })).status).toBe(202);
    }
    // A replay of about 8 MB, paused: the client reads nothing.
    const reader = await pausedReader(gw.url, '/events?topic=lost/a', first.body.id as string);
    sockets.push(reader.socket);
    await sleep(500);
    await redis.stop('SIGKILL');
    redis = await startRedisServer(REDIS_PORT);
    await waitFor(ready, 'gateway ready again', 15_000);
    // The new key space's first event reaches the instance live: it adopts the new epoch.
    await waitFor(
      async () => (await publish(gw.url, { topic: 'lost/b', data: 'first' })).status === 202,
      'publish accepted again',
      10_000,
    );
    await sleep(500);
    reader.socket.resume();
    await sleep(1000);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await publish(gw.url, { topic: 'lost/a', data: `new-${i}` });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    const afterLastReset = () => {
      const events = reader.events();
      const at = events.map((e) => e.event).lastIndexOf('herald.reset');
      return events.slice(at + 1).filter((e) => e.event === 'message');
    };
    await waitFor(() => afterLastReset().length >= 3, 'new events', 5000).catch(() => undefined);
    const events = reader.events();
    expect(events.some((e) => e.event === 'herald.reset')).toBe(true);
    // After its last reset the client gets exactly the new key space's events.
    expect(afterLastReset().map((e) => e.id)).toEqual(ids);
  }, 60_000);
});
