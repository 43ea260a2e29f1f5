import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeAll, beforeEach } from 'vitest';
import { requireInCI } from './ci';
import { baseServerArgs, spawnTracked, waitForPing } from './redis-topology';

/** The shared test Redis (never FLUSHALL it: other suites use it; use a unique key prefix). */
export function redisUrlForTests(): string {
  return 'redis://127.0.0.1:6379';
}

/** A unique key prefix for one test run, e.g. `herald-test:3f9a1c:`. */
export function uniqueKeyPrefix(label = 'test'): string {
  return `herald-${label}:${randomBytes(4).toString('hex')}:`;
}

/**
 * True when Redis answers at `url`. When it does not: in CI (`CI` non-empty, see isCI) throws,
 * since Redis suites must run there; locally warns loudly and returns false so the suite can skip.
 */
export async function redisAvailable(url = redisUrlForTests()): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return requireInCI(false, `Redis at ${url} (${why})`);
  } finally {
    client.disconnect();
  }
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK; never FLUSHDB). */
export async function deleteKeys(prefix: string, url = redisUrlForTests()): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A redis-server this test started (on a private port), stoppable by pid. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Sends `signal` (default SIGKILL) to this server's pid and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `redis-server` on 127.0.0.1:`port` (no RDB snapshots; `args` adds options, e.g.
 * `['--appendonly', 'yes']`) and waits until it answers PING.
 */
export async function startRedisServer(
  port: number,
  args: readonly string[] = [],
  dir = '/tmp',
): Promise<RedisServer> {
  const proc = spawnTracked('redis-server', [...baseServerArgs(port, dir), ...args], port);
  await waitForPing(proc);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get child() {
      return proc.child;
    },
    stop: (signal: NodeJS.Signals = 'SIGKILL') => proc.stop(signal),
  };
}

/**
 * Registers hooks in the current `describe` that check Redis once and skip every test when it
 * is unreachable (locally; in CI the check throws). Returns whether Redis is available.
 */
export function requireRedis(url = redisUrlForTests()): () => boolean {
  let available = false;
  beforeAll(async () => {
    available = await redisAvailable(url);
  });
  beforeEach((context) => {
    if (!available) context.skip();
  });
  return () => available;
}
