import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisClusterBus } from '@herald/cluster';
import { redisUrlForTests, requireRedis, startRedisServer } from '../support/redis';
import { sleep, waitFor } from '../support/wait';

declare module '@herald/cluster' {
  /** The requests of this suite (typed like every lib's own). */
  interface ClusterQueries {
    who: { payload: { x: number }; answer: string };
    q: { payload: undefined; answer: unknown };
  }
}

const URL = redisUrlForTests();

describe('RedisClusterBus', () => {
  requireRedis();
  const buses: RedisClusterBus[] = [];
  const prefix = `herald-test:${randomBytes(4).toString('hex')}:`;

  afterEach(async () => {
    for (const b of buses.splice(0)) await b.close();
  });
  const bus = (instanceId: string, heartbeatMs = 200) => {
    const b = new RedisClusterBus({
      instanceId,
      redis: { mode: 'single', url: URL },
      keyPrefix: prefix,
      heartbeatMs,
    });
    buses.push(b);
    return b;
  };

  it('should gather answers from every live instance', async () => {
    const a = bus('a');
    const b = bus('b');
    a.answer('who', (p) => `a:${String(p.x)}`);
    b.answer('who', (p) => `b:${String(p.x)}`);
    await waitFor(async () => (await a.instances()).length === 2, 'two instances');
    const answers = await a.collect('who', { x: 1 });
    expect(answers.map((r) => r.answer).sort()).toEqual(['a:1', 'b:1']);
    expect(answers.map((r) => r.instance).sort()).toEqual(['a', 'b']);
  });

  it('should stop waiting for an instance that died without saying so', async () => {
    const a = bus('a2');
    const b = bus('b2');
    a.answer('q', () => 1);
    b.answer('q', () => 2);
    await waitFor(async () => (await a.instances()).length === 2, 'two instances');
    // b stops heartbeating and answering without removing itself (as after kill -9).
    (b as unknown as { timer: NodeJS.Timeout }).timer.unref();
    clearInterval((b as unknown as { timer: NodeJS.Timeout }).timer);
    b.answer('q', () => new Promise(() => undefined));
    const started = Date.now();
    const answers = await a.collect('q', undefined, 500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(answers.map((r) => r.answer)).toEqual([1]);
    await sleep(200 * 3 + 300);
    expect(await a.instances()).toEqual(['a2']);
  });

  it('should join the cluster once a Redis that was down at boot comes up', async () => {
    const port = 6399;
    const url = `redis://127.0.0.1:${port}`;
    const early = new RedisClusterBus({
      instanceId: 'early',
      redis: { mode: 'single', url },
      keyPrefix: prefix,
      heartbeatMs: 200,
    });
    buses.push(early);
    early.answer('q', () => 'early');
    await expect(early.collect('q', undefined)).rejects.toThrow(/not connected/);
    const server = await startRedisServer(port);
    try {
      const other = new RedisClusterBus({
        instanceId: 'other',
        redis: { mode: 'single', url },
        keyPrefix: prefix,
        heartbeatMs: 200,
      });
      buses.push(other);
      other.answer('q', () => 'other');
      await waitFor(
        async () => (await other.instances().catch(() => [])).length === 2,
        'both live',
        15_000,
        100,
      );
      const answers = await other.collect('q', undefined);
      expect(answers.map((a) => a.answer).sort()).toEqual(['early', 'other']);
    } finally {
      for (const b of buses.splice(0)) await b.close();
      await server.stop();
    }
  });
});
