import { afterAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { waitFor } from '../support/wait';

describe('Graceful shutdown (SIGTERM)', () => {
  const spawned: SpawnedGateway[] = [];
  afterAll(() => {
    for (const g of spawned) g.kill('SIGKILL');
  });

  it('should drain every open stream with herald.drain and exit 0 promptly', async () => {
    const gw = await spawnGateway({ SHUTDOWN_GRACE_MS: '2000', RETRY_MS: '500' });
    spawned.push(gw);
    const streams: SseStream[] = await Promise.all(
      Array.from({ length: 30 }, (_, i) => openStream(gw.url, `/events?topic=drain/${i % 3}`)),
    );
    const { body } = await publish(gw.url, { topic: 'drain/1', data: 'before' });
    await waitFor(() => streams.filter((s) => s.events.length > 0).length === 10, 'delivery');
    const started = Date.now();
    gw.kill('SIGTERM');
    // Readiness must fail at once, while the streams are still draining (before the exit).
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`).catch(() => null))?.status === 503,
      'ready 503',
      2000,
      20,
    );
    const code = await gw.exited;
    const took = Date.now() - started;
    expect(code).toBe(0);
    expect(took).toBeLessThan(2000 + 5000);
    for (const s of streams) {
      await s.waitForEnd();
      const drain = s.events.find((e) => e.event === 'herald.drain');
      expect(drain, 'each client gets herald.drain').toBeDefined();
      expect(drain!.id).toBeTruthy();
      expect(JSON.parse(drain!.data)).toMatchObject({ reason: 'shutdown' });
      expect(s.retries.at(-1)).toBeGreaterThanOrEqual(500);
      expect(s.retries.at(-1)).toBeLessThan(1000);
    }
    // The stream that saw the event keeps its cursor: the drain id is the last event id.
    const seen = streams.find((s) => s.dataEvents.length > 0)!;
    expect(seen.events.at(-1)!.id).toBe(body.id);
  });

  it('should fail readiness and shed new streams while draining', async () => {
    const gw = await spawnGateway({ SHUTDOWN_GRACE_MS: '3000' });
    spawned.push(gw);
    const holders = await Promise.all(
      Array.from({ length: 400 }, () => openStream(gw.url, '/events?topic=hold')),
    );
    expect((await fetch(`${gw.url}/health/ready`)).status).toBe(200);
    gw.kill('SIGTERM');
    await waitFor(
      async () => (await fetch(`${gw.url}/health/ready`)).status === 503,
      'ready 503',
      2000,
      5,
    );
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    const shed = await openStream(gw.url, '/events?topic=new');
    expect(shed.status).toBe(200);
    await shed.waitForEnd();
    expect(shed.events.map((e) => e.event)).toEqual(['herald.shed']);
    expect(JSON.parse(shed.events[0].data)).toMatchObject({
      reason: 'draining',
      retryAfterMs: expect.any(Number),
    });
    const plain = await fetch(`${gw.url}/events?topic=new`, {
      headers: { Accept: 'application/json' },
    });
    expect(plain.status).toBe(503);
    expect(plain.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await gw.exited).toBe(0);
    for (const h of holders) await h.close();
  });
});
