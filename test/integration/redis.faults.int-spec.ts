import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { requireRedis, startRedisServer, type RedisServer } from '../support/redis';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** Private redis-server ports of this suite (6390-6399 belong to the Redis broker's tests). */
const PORTS = { restart: 6391, boot: 6392, memory: 6393 };

const status = async (url: string) => (await fetch(url)).status;

/** Faults of RELIABILITY items 25-27, each against its own redis-server. */
describe('Redis broker faults', () => {
  requireRedis();
  const servers: RedisServer[] = [];
  const gateways: SpawnedGateway[] = [];
  const streams: SseStream[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const s of streams.splice(0)) await s.close();
    for (const g of gateways.splice(0)) {
      g.kill('SIGKILL');
      await g.exited;
    }
    for (const s of servers.splice(0)) await s.stop();
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const gatewayOn = async (port: number) => {
    const g = await spawnGateway({
      BROKER: 'redis',
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RETRY_MS: '100',
    });
    gateways.push(g);
    return g;
  };

  it.each([
    // AOF with fsync on every write: what Redis acknowledged survives kill -9 (backfill path).
    { persistence: 'aof', aof: ['--appendonly', 'yes', '--appendfsync', 'always'] },
    // No persistence: Redis comes back empty, so clients must get herald.reset.
    { persistence: 'none', aof: [] },
  ])(
    'should keep streams open across a Redis restart ($persistence), answer 503 meanwhile and never silently lose a 202-ed event',
    async ({ persistence, aof }) => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
      dirs.push(dir);
      let redis = await startRedisServer(PORTS.restart, aof, dir);
      servers.push(redis);
      const gw = await gatewayOn(PORTS.restart);
      await waitFor(async () => (await status(`${gw.url}/health/ready`)) === 200, 'ready', 10_000);
      const clients: SseStream[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await openStream(gw.url, '/events?topic=steady/**');
        streams.push(s);
        clients.push(s);
      }
      await sleep(200);

      const accepted: string[] = [];
      const statuses: number[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let i = 0; publishing; i++) {
          const res = await publish(gw.url, { topic: `steady/${i % 2}`, data: { i } });
          statuses.push(res.status);
          if (res.status === 202) accepted.push(res.body.id as string);
          await sleep(15);
        }
      })();
      const readiness: number[] = [];
      const prober = (async () => {
        while (publishing) {
          readiness.push(await status(`${gw.url}/health/ready`));
          await sleep(100);
        }
      })();

      await waitFor(() => accepted.length >= 30, '30 accepted publishes before the kill');
      await redis.stop('SIGKILL');
      servers.splice(servers.indexOf(redis), 1);
      await waitFor(() => statuses.slice(-3).every((s) => s === 503), 'publishes answered 503');
      await waitFor(() => readiness.at(-1) === 503, 'readiness 503', 5000);
      await sleep(500);
      redis = await startRedisServer(PORTS.restart, aof, dir);
      servers.push(redis);
      await waitFor(() => readiness.at(-1) === 200, 'readiness back to 200', 10_000);
      const before = accepted.length;
      await waitFor(() => accepted.length >= before + 30, '30 accepted publishes after restart');
      publishing = false;
      await publisher;
      await prober;

      expect(statuses.every((s) => s === 202 || s === 503)).toBe(true);
      expect(statuses).toContain(503);
      for (const c of clients) {
        expect(c.ended).toBe(false);
        await waitFor(
          () => c.events.some((e) => e.id === accepted.at(-1)),
          'the last accepted event on every client',
          10_000,
        );
        const reset = c.events.some((e) => e.event === 'herald.reset');
        expect(reset).toBe(persistence === 'none');
        const got = new Set(c.dataEvents.map((e) => e.id));
        if (!reset) {
          expect(accepted.filter((id) => !got.has(id))).toEqual([]);
          expect(c.dataEvents).toHaveLength(got.size);
        }
      }
    },
  );

  it('should boot without Redis (live 200, ready 503) and become ready once Redis is up', async () => {
    const gw = await gatewayOn(PORTS.boot);
    expect(await status(`${gw.url}/health/live`)).toBe(200);
    expect(await status(`${gw.url}/health/ready`)).toBe(503);
    const res = await publish(gw.url, { topic: 'boot', data: 1 });
    expect(res.status).toBe(503);
    const redis = await startRedisServer(PORTS.boot);
    servers.push(redis);
    const upAt = Date.now();
    // Wait longer than the promise, then check the promise: ready within 10 s of Redis being up.
    await waitFor(async () => (await status(`${gw.url}/health/ready`)) === 200, 'ready', 25_000);
    expect(Date.now() - upAt).toBeLessThan(10_000);
    expect((await publish(gw.url, { topic: 'boot', data: 2 })).status).toBe(202);
    expect(gw.child.exitCode).toBeNull();
  });

  it('should answer an error, not 202, when Redis refuses the write (maxmemory noeviction)', async () => {
    const redis = await startRedisServer(PORTS.memory, ['--maxmemory-policy', 'noeviction']);
    servers.push(redis);
    const gw = await gatewayOn(PORTS.memory);
    await waitFor(async () => (await status(`${gw.url}/health/ready`)) === 200, 'ready', 10_000);
    expect((await publish(gw.url, { topic: 'mem', data: 0 })).status).toBe(202);
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      const refused = await publish(gw.url, { topic: 'mem', data: 1 });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      // Redis' own reason code, but none of its internals (script digest, line, config names).
      expect(refused.body.message).toMatch(/\bOOM\b.*nothing was published/);
      expect(refused.body.message).not.toMatch(/script|maxmemory|[0-9a-f]{40}/i);
      await admin.config('SET', 'maxmemory', '0');
      expect((await publish(gw.url, { topic: 'mem', data: 2 })).status).toBe(202);
      expect(await admin.xlen('herald:{events}:t:mem')).toBe(2);
    } finally {
      admin.disconnect();
    }
  });
});
