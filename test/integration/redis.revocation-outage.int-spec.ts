import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { requireRedis, startRedisServer, type RedisServer } from '../support/redis';
import { publish } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

/** Private redis-server port of this suite (6450-6459 belong to the admission/fault suites). */
const REDIS_PORT = 6453;
/** Durable across SIGKILL, so the key space (epoch, events, revocations) survives the outage. */
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];

/** An `eventsource` client (Accept: text/event-stream, native retry) that records everything. */
function watch(url: string, token: string) {
  const seen = {
    sheds: [] as { id: string; reason: string }[],
    messages: [] as string[],
    resets: 0,
    es: new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, ...bearer(token) } }),
    }),
  };
  seen.es.addEventListener('herald.shed', (e) =>
    seen.sheds.push({
      id: e.lastEventId,
      reason: (JSON.parse(String(e.data)) as { reason: string }).reason,
    }),
  );
  seen.es.addEventListener('message', (e) => seen.messages.push(e.lastEventId));
  seen.es.addEventListener('herald.reset', () => seen.resets++);
  return seen;
}

/**
 * RELIABILITY 37 / issue 11 defect 6: with Redis away the revocation check cannot run. Herald
 * still fails closed (no stream opens unchecked), but as a transient refusal: an EventSource
 * gets `200` + `herald.shed` and keeps retrying (a JSON 503 would stop it for good), other
 * clients get `503` + `Retry-After`. When Redis is back the EventSource resumes from its own
 * cursor, also on an instance that booted while Redis was away (issue 11: a shed sent before the
 * instance knows the Redis epoch must not reset the client).
 */
describe('The revocation check with Redis away', () => {
  requireRedis();
  let dir: string;
  let redis: RedisServer;
  let gw: Gateway;
  const late: Gateway[] = [];
  const sources: EventSource[] = [];
  const token = hs256(claims({ subscribe: ['outage/**'] }, { sub: 'reader' }));
  const revokedToken = hs256(claims({ subscribe: ['outage/**'] }, { sub: 'gone-user' }));
  const admin = hs256(claims({ admin: true }, { sub: 'ops' }));
  const env = () => ({
    BROKER: 'redis',
    REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}`,
    ANONYMOUS_TOPICS: '',
    RETRY_MS: '200',
  });
  const ready = async (g: Gateway) => (await fetch(`${g.url}/health/ready`)).status === 200;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-outage-'));
    redis = await startRedisServer(REDIS_PORT, AOF, dir);
    gw = await startTestGateway(env());
    await waitFor(() => ready(gw), 'gateway ready', 15_000);
  });
  afterEach(() => {
    for (const es of sources.splice(0)) es.close();
  });
  afterAll(async () => {
    for (const g of late) await g.app.close();
    await gw?.app.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should shed event-stream clients, answer 503 to others, and resume exactly once Redis is back', async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 2; n++) {
      const res = await publish(gw.url, { topic: 'outage/a', data: { n } });
      expect(res.status).toBe(202);
      ids.push(String(res.body.id));
    }
    const revoke = await fetch(`${gw.url}/admin/revocations`, {
      method: 'POST',
      headers: { ...bearer(admin), 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub: 'gone-user' }),
    });
    expect(revoke.status).toBe(200);

    await redis.stop('SIGKILL');
    await waitFor(async () => !(await ready(gw)), 'readiness down', 10_000);
    // An instance that boots now never learns the Redis epoch before it sheds.
    const cold = await startTestGateway(env());
    late.push(cold);

    // SHED_MODE=status: even an event-stream client gets the real status.
    const strict = await startTestGateway({ ...env(), SHED_MODE: 'status' });
    late.push(strict);
    const strictStream = await fetch(`${strict.url}/events?topic=outage/a`, {
      headers: { Accept: 'text/event-stream', ...bearer(token) },
    });
    expect(strictStream.status).toBe(503);
    expect(Number(strictStream.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await strictStream.body?.cancel();

    // Not an event stream: a real 503 with Retry-After, JSON naming the problem.
    const plain = await fetch(`${gw.url}/events?topic=outage/a`, {
      headers: { Accept: 'application/json', ...bearer(token) },
    });
    expect(plain.status).toBe(503);
    expect(Number(plain.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await plain.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    const refusedPublish = await publish(gw.url, { topic: 'outage/a', data: { n: 0 } });
    expect(refusedPublish.status).toBe(503);
    expect(refusedPublish.headers.get('retry-after')).not.toBeNull();
    const refusedRevoke = await fetch(`${gw.url}/admin/revocations`, {
      method: 'POST',
      headers: { ...bearer(admin), 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub: 'someone' }),
    });
    expect(refusedRevoke.status).toBe(503);
    expect(await refusedRevoke.json()).toMatchObject({
      message: expect.stringMatching(/revocation/),
    });

    // EventSource clients with a cursor (on both instances), without one, and a revoked one.
    const cursor = ids[0];
    const warm = watch(`${gw.url}/events?topic=outage/a&lastEventId=${cursor}`, token);
    const coldResume = watch(`${cold.url}/events?topic=outage/a&lastEventId=${cursor}`, token);
    const fresh = watch(`${cold.url}/events?topic=outage/a`, token);
    const revoked = watch(`${gw.url}/events?topic=outage/a`, revokedToken);
    const all = [warm, coldResume, fresh, revoked];
    sources.push(...all.map((c) => c.es));
    await waitFor(
      () => all.every((c) => c.sheds.length >= 2),
      'every EventSource shed twice (so it kept retrying)',
      20_000,
      50,
    );
    for (const c of all) {
      expect(c.es.readyState).not.toBe(EventSource.CLOSED);
      expect(c.sheds.every((s) => s.reason === 'unavailable')).toBe(true);
      expect(c.messages).toEqual([]);
    }
    // Each shed hands back the client's own cursor, never one the instance made up.
    expect(warm.sheds.every((s) => s.id === cursor)).toBe(true);
    expect(coldResume.sheds.every((s) => s.id === cursor)).toBe(true);
    // Fail closed: nothing opened while the check could not run.
    expect(gw.app.get(ConnectionRegistry).size).toBe(0);
    expect(cold.app.get(ConnectionRegistry).size).toBe(0);

    redis = await startRedisServer(REDIS_PORT, AOF, dir);
    await waitFor(() => ready(gw), 'gateway ready again', 15_000);
    await waitFor(() => ready(cold), 'cold gateway ready', 15_000);
    await waitFor(
      () => warm.messages.length >= 1 && coldResume.messages.length >= 1,
      'resumed streams replay what followed their cursor',
      20_000,
    );
    // Open for real now (a shed also answers 200, so `open` events do not tell).
    const registry = gw.app.get(ConnectionRegistry);
    const coldRegistry = cold.app.get(ConnectionRegistry);
    await waitFor(() => coldRegistry.size === 2, 'both streams on the cold instance open', 20_000);
    await sleep(300);
    const after = await publish(gw.url, { topic: 'outage/a', data: { n: 3 } });
    expect(after.status).toBe(202);
    ids.push(String(after.body.id));
    await waitFor(
      () => [warm, coldResume, fresh].every((c) => c.messages.includes(ids[2])),
      'the live event everywhere',
      10_000,
    );
    expect(warm.messages).toEqual([ids[1], ids[2]]);
    expect(coldResume.messages).toEqual([ids[1], ids[2]]);
    expect(fresh.messages).toEqual([ids[2]]);
    for (const c of [warm, coldResume, fresh]) expect(c.resets).toBe(0);
    // The revoked subject is refused for good once the check can run again: 204 stops it.
    await waitFor(
      () => revoked.es.readyState === EventSource.CLOSED,
      'revoked EventSource stopped',
      20_000,
    );
    expect(revoked.messages).toEqual([]);
    expect(registry.size).toBe(1);
  });
});
