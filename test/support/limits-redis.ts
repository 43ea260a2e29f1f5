import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The shared Redis the integration suites use (never flushed: keys are prefixed). */
export const LIMITS_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique key prefix for one test run. */
export function uniquePrefix(): string {
  return `herald-test:${randomBytes(6).toString('hex')}:`;
}

/**
 * True when Redis answers PING. In CI a missing Redis fails the suite; locally the suite skips
 * with a loud message.
 */
export async function requireRedis(url = LIMITS_REDIS_URL): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (err) {
    if (process.env.CI === 'true')
      throw new Error(`Redis is required in CI at ${url}: ${String(err)}`);
    console.warn(`\n!!! Redis unreachable at ${url}: SKIPPING Redis integration tests !!!\n`);
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (SCAN, never FLUSH). */
export async function deleteKeys(prefix: string, url = LIMITS_REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
