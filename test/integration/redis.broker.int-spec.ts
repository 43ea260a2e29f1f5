import { afterAll, describe } from 'vitest';
import { RedisBroker } from '@herald/broker';
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
    const broker = new RedisBroker({ url: redisUrlForTests(), keyPrefix, ...options });
    await waitReady(broker);
    return broker;
  });
});

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
