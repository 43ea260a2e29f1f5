import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrokerAttachment,
  type BrokerEvent,
  type BrokerMessage,
  type PublishRequest,
} from '@herald/broker';
import { RedisBroker } from '@herald/broker/testing';
import { parseTopicFilter } from '@herald/topics';
import { redisAvailable, startRedisServer, type RedisServer } from '../support/redis';
import { sleep, waitFor } from '../support/wait';

/**
 * Redis replay reads (issue 11): pattern resumes are bounded and paged, paced by the sink, and
 * identical reads are shared across a reconnect storm. A private redis-server (port 6441) so the
 * command counts (INFO commandstats) are this suite's alone.
 */

const PORT = 6441;
const f = (s: string) => parseTopicFilter(s);
const ev = (topic: string, n: number, pad = 0): PublishRequest => ({
  topic,
  type: 'message',
  data: JSON.stringify({ n, pad: 'x'.repeat(pad) }),
});

describe('RedisBroker replay reads (private redis-server)', () => {
  let server: RedisServer | undefined;
  let admin: Redis;
  const brokers: RedisBroker[] = [];

  beforeAll(async () => {
    // The shared Redis answering means redis-server is installed (and required in CI).
    if (!(await redisAvailable())) return;
    server = await startRedisServer(PORT);
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.close();
    if (server) await admin.flushall();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  async function make(historySize = 1000): Promise<RedisBroker> {
    const broker = new RedisBroker({
      redis: { mode: 'single', url: server!.url },
      historySize,
      historyTtlMs: 600_000,
    });
    brokers.push(broker);
    await waitFor(
      () =>
        broker.ping().then(
          () => true,
          () => false,
        ),
      'broker ready',
      10_000,
      25,
    );
    return broker;
  }

  /** Calls of `command` since the last CONFIG RESETSTAT. */
  async function calls(command: string): Promise<number> {
    const info = await admin.info('commandstats');
    const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
    return m ? Number(m[1]) : 0;
  }

  it('should share the registry scan and topic pages among 50 concurrent pattern resumes of one cursor', async (ctx) => {
    if (!server) return ctx.skip();
    const broker = await make();
    const start = await broker.publish([ev('storm/0', -1)]);
    const ids: string[] = [];
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 100 }, (_, i) => ev(`storm/${i % 20}`, round * 100 + i));
      ids.push(...(await broker.publish(batch)).ids);
    }
    await admin.config('RESETSTAT');
    const got = Array.from({ length: 50 }, () => [] as string[]);
    const subs = got.map((list) =>
      broker
        .subscribe([f('storm/*')], { cursor: start.ids[0] })
        .subscribe((m: BrokerMessage) => m.kind === 'event' && list.push(m.id)),
    );
    await waitFor(() => got.every((l) => l.length === ids.length), 'every resume replayed', 20_000);
    for (const list of got) expect(list).toEqual(ids);
    // One registry scan for all 50 (old: one each), and the 20 topics' pages read once each.
    expect(await calls('zrangebyscore')).toBeLessThanOrEqual(2);
    expect(await calls('xrange')).toBeLessThanOrEqual(20 * 8);
    for (const s of subs) s.unsubscribe();
  });

  it('should reset a pattern resume whose cursor precedes more topics than one resume may scan', async (ctx) => {
    if (!server) return ctx.skip();
    const broker = await make();
    const start = await broker.publish([ev('wide/target', 0)]);
    // 10,001 distinct topics published after the cursor, one of them matching.
    for (let b = 0; b < 101; b++) {
      await broker.publish(Array.from({ length: 100 }, (_, i) => ev(`wide/other/${b}-${i}`, i)));
    }
    await broker.publish([ev('wide/target', 1)]);
    await admin.config('RESETSTAT');
    const got: BrokerMessage[] = [];
    const sub = broker
      .subscribe([f('wide/target/**')], { cursor: start.ids[0] })
      .subscribe((m) => got.push(m));
    await waitFor(() => got.length > 0, 'the resume outcome', 10_000);
    expect(got[0]).toMatchObject({ kind: 'reset', reason: 'history-expired' });
    // No topic stream was read for it: the bound is checked before any page.
    expect(await calls('xrange')).toBe(0);
    sub.unsubscribe();
  });

  it('should read a pattern replay in pages only as the sink makes room', async (ctx) => {
    if (!server) return ctx.skip();
    const broker = await make();
    const start = await broker.publish([ev('paced/a', -1)]);
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = Array.from({ length: 100 }, (_, i) =>
        ev(`paced/${'abcd'[i % 4]}`, round * 100 + i, 2000),
      );
      ids.push(...(await broker.publish(batch)).ids);
    }
    await admin.config('RESETSTAT');
    const got: BrokerEvent[] = [];
    let room = 50;
    const attachment: BrokerAttachment = broker.attach(
      [f('paced/*')],
      { cursor: start.ids[0] },
      {
        next: (m) => {
          if (m.kind === 'event') got.push(m);
        },
        error: () => undefined,
        complete: () => undefined,
        hasRoom: () => got.length < room,
      },
    );
    await waitFor(() => got.length === 50, 'the first 50 events', 10_000);
    await sleep(300);
    // Paused: nothing beyond the room, and only a few pages read out of the 1,000 events.
    expect(got).toHaveLength(50);
    const pausedReads = await calls('xrange');
    expect(pausedReads).toBeLessThanOrEqual(12);
    // Room again: the replay continues where it stopped, in order, to the end.
    room = Infinity;
    attachment.resume?.();
    await waitFor(() => got.length === ids.length, 'the whole replay', 10_000);
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(await calls('xrange')).toBeGreaterThan(pausedReads);
    // Live after the replay.
    const live = await broker.publish([ev('paced/b', 9999)]);
    await waitFor(() => got.length === ids.length + 1, 'live event', 5000);
    expect(got.at(-1)!.id).toBe(live.ids[0]);
    attachment.unsubscribe();
  });

  it('should read live events that overflowed a paused replay from history, with no gap or duplicate', async (ctx) => {
    if (!server) return ctx.skip();
    const broker = await make(5000);
    const start = await broker.publish([ev('over/a', -1)]);
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const batch = Array.from({ length: 100 }, (_, i) => ev(`over/${i % 3}`, round * 100 + i));
      ids.push(...(await broker.publish(batch)).ids);
    }
    const got: string[] = [];
    let room = 10;
    const attachment = broker.attach(
      [f('over/*')],
      { cursor: start.ids[0] },
      {
        next: (m) => {
          if (m.kind === 'event') got.push(m.id);
        },
        error: () => undefined,
        complete: () => undefined,
        hasRoom: () => got.length < room,
      },
    );
    await waitFor(() => got.length === 10, 'the first 10 events', 10_000);
    // While it is paused, more live events than its live buffer holds (1,024).
    for (let round = 0; round < 12; round++) {
      const batch = Array.from({ length: 100 }, (_, i) =>
        ev(`over/${i % 3}`, 1000 + round * 100 + i),
      );
      ids.push(...(await broker.publish(batch)).ids);
    }
    await sleep(200);
    expect(got).toHaveLength(10);
    room = Infinity;
    attachment.resume?.();
    await waitFor(() => got.length >= ids.length, 'every event', 15_000);
    await sleep(200);
    expect(got).toEqual(ids);
    // And live again afterwards.
    const live = await broker.publish([ev('over/1', 9999)]);
    await waitFor(() => got.length === ids.length + 1, 'live event', 5000);
    expect(got.at(-1)).toBe(live.ids[0]);
    attachment.unsubscribe();
  });
});
