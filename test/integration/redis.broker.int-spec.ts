import { afterAll, describe, expect, it } from 'vitest';
import { type BrokerMessage, type PublishRequest } from '@herald/broker';
import { RedisBroker, RedisKeys, redisEventIdentity } from '@herald/broker/testing';
import { parseTopicFilter } from '@herald/topics';
import { sleep, waitFor } from '../support/wait';
import { describeBrokerContract } from '@herald/broker/testing';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';

const prefixes: string[] = [];

describe('RedisBroker', () => {
  requireRedis();
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(p);
  });

  describeBrokerContract('redis', async (options) => {
    const keyPrefix = uniqueKeyPrefix('contract');
    prefixes.push(keyPrefix);
    const broker = new RedisBroker({
      redis: { mode: 'single', url: redisUrlForTests() },
      keyPrefix,
      ...options,
    });
    await waitReady(broker);
    return broker;
  });

  describeBrokerContract(
    'redis, 4 partitions',
    async (options) => {
      const keyPrefix = uniqueKeyPrefix('contract-p4');
      prefixes.push(keyPrefix);
      const broker = new RedisBroker({
        redis: { mode: 'single', url: redisUrlForTests() },
        keyPrefix,
        partitions: 4,
        ...options,
      });
      await waitReady(broker);
      return broker;
    },
    { order: 'per-topic', identity: redisEventIdentity },
  );
});

describe('RedisBroker live path', () => {
  requireRedis();
  const keyPrefix = uniqueKeyPrefix('live');
  const brokers: RedisBroker[] = [];
  const make = async () => {
    const broker = new RedisBroker({
      redis: { mode: 'single', url: redisUrlForTests() },
      keyPrefix,
      historySize: 1000,
      historyTtlMs: 60_000,
    });
    brokers.push(broker);
    await waitReady(broker);
    return broker;
  };
  afterAll(async () => {
    for (const b of brokers) await b.close();
    await deleteKeys(keyPrefix);
  });

  it('should recover events and resubscribe within 10 s when the pub/sub subscription silently stops', async () => {
    const [x, y] = [await make(), await make()];
    const got: BrokerMessage[] = [];
    const sub = x.subscribe([parseTopicFilter('stall/*')]).subscribe((m) => got.push(m));
    await sleep(100);
    // Silence: the subscriber connection stops listening without any error.
    const channel = new RedisKeys(keyPrefix).channel;
    await x['sub'].unsubscribe(channel);
    await x['sub'].sunsubscribe(channel);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(...(await y.publish([ev(`stall/${i % 2}`, i)])).ids);
    await waitFor(() => got.length >= 20, 'missed events recovered', 10_000);
    for (let i = 20; i < 25; i++) ids.push(...(await y.publish([ev(`stall/${i % 2}`, i)])).ids);
    await waitFor(() => got.length >= 25, 'live again after the stall', 10_000);
    await sleep(100);
    sub.unsubscribe();
    expect(got.map((m) => (m.kind === 'event' ? m.id : m.kind))).toEqual(ids);
  });

  it('should read a resumed cursor once for many concurrent resumes (coalesced replay)', async () => {
    const broker = await make();
    const first = await broker.publish([ev('storm', 0)]);
    for (let i = 1; i <= 50; i++) await broker.publish([ev('storm', i)]);
    const outs = Array.from({ length: 200 }, () => [] as BrokerMessage[]);
    const subs = outs.map((out) =>
      broker
        .subscribe([parseTopicFilter('storm')], { cursor: first.ids[0] })
        .subscribe((m) => out.push(m)),
    );
    await waitFor(() => outs.every((o) => o.length === 50), 'every resume replayed', 10_000);
    for (const s of subs) s.unsubscribe();
    // One read served every resume: they hold the very same event objects.
    expect(outs.every((o) => o[0] === outs[0][0])).toBe(true);
  });
});

function ev(topic: string, n: number): PublishRequest {
  return { topic, type: 'message', data: JSON.stringify({ n }) };
}

async function waitReady(broker: RedisBroker): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await broker.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error('RedisBroker never became ready');
}
