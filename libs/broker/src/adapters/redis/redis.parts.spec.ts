import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryPolicies } from '../../history.policies';
import type { ResetReason } from '../../broker.types';
import { parseTopicFilter } from '@herald/topics';
import { RedisKeyspace } from './redis.partitions';
import { RedisPublisher } from './redis.publisher';
import { LivePartition, RedisLivePump, type LiveTarget } from './redis.live-pump';
import { RedisReplayReader, type ReplayTarget, type SeqEvent } from './redis.replay';
import { readStreamAfter, readStreamPage } from './redis.stream-reader';
import {
  deleteKeys,
  redisUrlForTests,
  requireRedis,
  uniqueKeyPrefix,
} from '../../../../../test/support/redis';
import { waitFor } from '../../../../../test/support/wait';

const logger = new Logger('parts');
const ev = (topic: string, n: number) => ({ topic, type: 'message', data: JSON.stringify({ n }) });

/** The Redis broker's parts, each against the real shared Redis (own key prefix). */
describe('Redis broker parts', () => {
  requireRedis();
  const prefix = uniqueKeyPrefix('parts');
  let cmd: Redis;
  const policies = new HistoryPolicies([{ pattern: 'tiny/*', size: 10, ttlMs: 60_000 }], {
    size: 1000,
    ttlMs: 60_000,
  });
  const keyspace = new RedisKeyspace(prefix, 3);
  let publisher: RedisPublisher;

  beforeAll(async () => {
    cmd = new Redis(redisUrlForTests(), { maxRetriesPerRequest: 0 });
    await waitFor(() => cmd.status === 'ready', 'redis ready');
    publisher = new RedisPublisher(cmd, keyspace, { policies, historyTtlMs: 60_000 }, logger);
  });
  afterAll(async () => {
    cmd.disconnect();
    await deleteKeys(prefix);
  });

  /** Two topics of two different partitions. */
  const twoPartitions = (): [string, string] => {
    const a = 'p/a';
    for (let i = 0; ; i++) {
      const b = `p/b${i}`;
      if (keyspace.partitionOf(b) !== keyspace.partitionOf(a)) return [a, b];
    }
  };

  it('should store a batch with one script per partition, each share consecutive in its partition', async () => {
    const [a, b] = twoPartitions();
    const out = await publisher.publish([ev(a, 1), ev(b, 2), ev(a, 3)]);
    expect(out.duplicate).toBe(false);
    const [p0, p1, p2] = out.positions;
    expect(p0.partition).toBe(keyspace.partitionOf(a));
    expect(p1.partition).toBe(keyspace.partitionOf(b));
    expect(p2).toMatchObject({ partition: p0.partition, seq: p0.seq + 1 });
    expect(await cmd.xlen(keyspace.stream(a))).toBe(2);
    expect(await cmd.xlen(keyspace.stream(b))).toBe(1);
    // Each partition's own `last` and clock.
    const k = keyspace.partitions[p1.partition];
    expect(await cmd.get(k.last)).toBe(`${p1.ms}-${p1.seq}`);
    expect(await cmd.zcard(k.clock)).toBeGreaterThan(0);
  });

  it('should answer a retried key from every partition and refuse another body before storing', async () => {
    const [a, b] = twoPartitions();
    const key = { scope: { namespace: 'sub' as const, owner: 'u' }, key: 'k-parts' };
    const first = await publisher.publish([ev(a, 1), ev(b, 2)], {
      idempotencyKey: key,
      fingerprint: 'f1',
    });
    const again = await publisher.publish([ev(a, 1), ev(b, 2)], {
      idempotencyKey: key,
      fingerprint: 'f1',
    });
    expect(again).toEqual({ positions: first.positions, duplicate: true });
    const before = await cmd.xlen(keyspace.stream(b));
    // Same key, another body, to a topic only the second partition holds: refused by the home
    // partition's record before anything is written.
    await expect(
      publisher.publish([ev(b, 9)], { idempotencyKey: key, fingerprint: 'f2' }),
    ).rejects.toMatchObject({ code: 'idempotency-conflict' });
    expect(await cmd.xlen(keyspace.stream(b))).toBe(before);
  });

  it("should trim by the topic's policy and read pages or `expired` through the one stream read", async () => {
    const topic = 'tiny/x';
    const first = await publisher.publish([ev(topic, 0)]);
    for (let i = 0; i < 5; i++) {
      await publisher.publish(Array.from({ length: 100 }, (_, j) => ev(topic, i * 100 + j)));
    }
    const key = keyspace.stream(topic);
    // MAXLEN ~ 10 trims whole macro nodes: far fewer than 501 remain, the first is gone.
    expect(await cmd.xlen(key)).toBeLessThan(501);
    const p = first.positions[0];
    const [[firstId]] = await cmd.xrange(key, '-', '+', 'COUNT', 1);
    expect(firstId).not.toBe(`${p.ms}-${p.seq}`);
    // A deleted entry after the position (XINFO max-deleted-entry-id) means lost history.
    const [[,], [secondId]] = await cmd.xrange(key, firstId, '+', 'COUNT', 2);
    const [ms0, seq0] = firstId.split('-').map(Number);
    expect(await readStreamPage(cmd, key, firstId, { seq: seq0 }, 10)).toMatchObject({
      expired: false,
    });
    await cmd.xdel(key, secondId);
    expect(await readStreamPage(cmd, key, firstId, { seq: seq0 }, 10)).toEqual({ expired: true });
    expect(await readStreamPage(cmd, key, firstId, { ms: ms0 }, 10)).toEqual({ expired: true });
    expect(await readStreamPage(cmd, `${key}:gone`, '0-0', { seq: 0 }, 10)).toEqual({
      expired: true,
    });
    const [lastId] = (await cmd.xrevrange(key, '+', '-', 'COUNT', 2))[1];
    const [ms, seq] = lastId.split('-').map(Number);
    const after = await readStreamAfter(cmd, key, {
      ms,
      seq,
      most: 10,
      epoch: p.epoch,
      topic,
      partition: p.partition,
    });
    expect(after !== 'expired' && after.map((e) => e.data)).toEqual(['{"n":499}']);
  });

  it('should merge one partition\u2019s topics in sequence order up to the head', async () => {
    const t1 = 'm/1';
    let t2 = 'm/2';
    for (let i = 3; keyspace.partitionOf(t2) !== keyspace.partitionOf(t1); i++) t2 = `m/${i}`;
    const q = keyspace.partitionOf(t1);
    const start = await publisher.publish([ev(t1, 0)]);
    const rest = await publisher.publish([ev(t2, 1), ev(t1, 2), ev(t2, 3)]);
    const reader = new RedisReplayReader(cmd, keyspace.partitions[q], policies, q);
    const snap = await reader.snapshot();
    const pos = start.positions[0];
    const topics = await reader.candidateTopics([parseTopicFilter('m/*')], pos.ms, snap.at.seq);
    expect(topics?.sort()).toEqual([t1, t2].sort());
    const got: SeqEvent[] = [];
    const target: ReplayTarget = {
      closed: false,
      emit: (e) => got.push(e),
      room: () => undefined,
    };
    expect(await reader.merge(target, topics ?? [], pos, snap.at, pos.epoch)).toBe('done');
    expect(got.map((e) => e.seq)).toEqual(rest.positions.map((r) => r.seq));
    expect(got.map((e) => e.partition)).toEqual([q, q, q]);
  });

  it('should dispatch live events in order, backfilling a gap from the streams', async () => {
    const topic = 'live/x';
    const q = keyspace.partitionOf(topic);
    const part = new LivePartition(q, keyspace.partitions[q]);
    part.subscribed = true;
    const dispatched: SeqEvent[] = [];
    const resets: ResetReason[] = [];
    const target: LiveTarget = {
      dispatch: (e) => dispatched.push(e),
      hasLocalSubscriber: (t) => t === topic,
      reset: (_p, reason) => resets.push(reason),
      epochChanged: () => undefined,
    };
    const parts = keyspace.partitions.map((k, i) => (i === q ? part : new LivePartition(i, k)));
    const pump = new RedisLivePump(cmd, parts, target, logger);
    expect(await pump.loadBaseline(part)).toBe(true);
    const out = await publisher.publish([1, 2, 3, 4, 5].map((n) => ev(topic, n)));
    const last = out.positions[4];
    // Only the last one "arrives" over pub/sub: the four before it are backfilled first.
    pump.event(
      {
        kind: 'event',
        id: 'x',
        partition: q,
        seq: last.seq,
        ms: last.ms,
        topic,
        type: 'message',
        data: '{"n":5}',
        publishedAt: last.ms,
      },
      last.epoch,
    );
    await waitFor(() => dispatched.length === 5, 'five dispatched');
    expect(dispatched.map((e) => e.seq)).toEqual(out.positions.map((p) => p.seq));
    expect(resets).toEqual([]);
    pump.close();
  });
});
