import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry, NO_CURSOR } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisAvailable, uniqueKeyPrefix } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

const prefix = uniqueKeyPrefix('shedresume');
const brokers = [
  { broker: 'memory', env: {} },
  { broker: 'redis', env: { BROKER: 'redis', REDIS_KEY_PREFIX: prefix } },
] as const;

/**
 * README (Limits, shed): a shed `herald.shed` carries the client's own cursor, so the client that
 * reconnects with the id of the shed event resumes exactly where it was; a client without a
 * cursor gets one that names no position, and connects as new (never a `herald.reset`).
 */
describe.each(brokers)('A shed client that resumes ($broker broker)', ({ broker, env }) => {
  let gw: Gateway;
  let available = true;
  const streams: SseStream[] = [];
  const token = hs256(claims({ subscribe: ['shed/**'] }, { sub: 'one-at-a-time' }));

  beforeAll(async () => {
    if (broker === 'redis') available = await redisAvailable();
    if (!available) return;
    gw = await startTestGateway({ ...env, ANONYMOUS_TOPICS: '', MAX_CONNECTIONS_PER_USER: '1' });
    if (broker === 'redis') {
      await waitFor(
        async () => (await fetch(`${gw.url}/health/ready`)).status === 200,
        'ready',
        10_000,
      );
    }
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) await s.close();
  });
  afterAll(async () => {
    await gw?.app.close();
    if (broker === 'redis' && available) await deleteKeys(prefix);
  });

  const open = async (cursor?: string) => {
    const headers = {
      ...bearer(token),
      ...(cursor === undefined ? {} : { 'Last-Event-ID': cursor }),
    };
    const s = await openStream(gw.url, '/events?topic=shed/a', { headers });
    streams.push(s);
    return s;
  };
  const pub = async (n: number) => {
    const res = await publish(gw.url, { topic: 'shed/a', data: { n } });
    expect(res.status).toBe(202);
    return String(res.body.id);
  };
  /** The user's one slot, held by another stream until `release()`. */
  const holdSlot = async () => {
    const holder = await open();
    await waitFor(() => gw.app.get(ConnectionRegistry).size === 1, 'slot held');
    return { release: () => holder.close() };
  };

  it('should receive exactly the events after its original cursor, with no reset', async (ctx) => {
    if (!available) ctx.skip();
    const ids = [await pub(1), await pub(2), await pub(3)];
    const slot = await holdSlot();
    const shed = await open(ids[0]);
    await shed.waitForEnd();
    expect(shed.events.map((e) => e.event)).toEqual(['herald.shed']);
    expect(JSON.parse(shed.events[0].data)).toMatchObject({ reason: 'capacity' });
    expect(shed.events[0].id).toBe(ids[0]);
    ids.push(await pub(4)); // published while the client waits to retry
    await slot.release();
    await waitFor(() => gw.app.get(ConnectionRegistry).size === 0, 'slot free');
    const resumed = await open(shed.events[0].id);
    await resumed.waitForEvents(3);
    await sleep(200);
    expect(resumed.events.map((e) => [e.event, e.id])).toEqual(
      ids.slice(1).map((id) => ['message', id]),
    );
  });

  it('should connect as a new client, with no reset, when it had no cursor', async (ctx) => {
    if (!available) ctx.skip();
    await pub(10);
    const slot = await holdSlot();
    const shed = await open();
    await shed.waitForEnd();
    expect(shed.events.map((e) => [e.event, e.id])).toEqual([['herald.shed', NO_CURSOR]]);
    await slot.release();
    await waitFor(() => gw.app.get(ConnectionRegistry).size === 0, 'slot free');
    const again = await open(shed.events[0].id);
    expect(again.status).toBe(200);
    await waitFor(() => gw.app.get(ConnectionRegistry).size === 1, 'open');
    await sleep(100);
    const live = await pub(11);
    await again.waitForEvents(1);
    await sleep(200);
    expect(again.events.map((e) => [e.event, e.id])).toEqual([['message', live]]);
  });
});
