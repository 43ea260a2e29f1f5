import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionCaps } from '@herald/limits';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

type Outcome = 'open' | 'shed';

/** Opens a stream and classifies it: `open` (retry frame only) or `shed` (herald.shed, closed). */
async function attempt(
  base: string,
  open: SseStream[],
  headers: Record<string, string> = {},
  expectReason = 'rate-limited',
): Promise<Outcome> {
  const stream = await openStream(base, '/events?topic=limits', { headers });
  expect(stream.status).toBe(200);
  await waitFor(() => stream.raw.includes('\n\n'), 'first frame');
  if (stream.raw.includes('event: herald.shed')) {
    const [shed] = await stream.waitForEvents(1);
    expect(shed.event).toBe('herald.shed');
    expect(JSON.parse(shed.data)).toMatchObject({
      reason: expectReason,
      retryAfterMs: expect.any(Number),
    });
    await stream.waitForEnd();
    return 'shed';
  }
  open.push(stream);
  return 'open';
}

describe('Limits (e2e)', () => {
  let gw: Gateway | undefined;
  const open: SseStream[] = [];

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await gw?.shutdown();
    gw = undefined;
  });

  it('should admit a burst of 50 connects from one IP, shed the rest, and refill after waiting when SHED_MODE=retry', async () => {
    gw = await startTestGateway({ CONNECT_BURST: '50', CONNECT_RATE_PER_S: '0.5' });
    const started = Date.now();
    const outcomes: Outcome[] = [];
    // Rotating X-Forwarded-For changes nothing: TRUST_PROXY is false.
    for (let i = 0; i < 60; i++) {
      outcomes.push(await attempt(gw.url, open, { 'X-Forwarded-For': `203.0.113.${i}` }));
    }
    const elapsedS = (Date.now() - started) / 1000;
    expect(outcomes.slice(0, 50).every((o) => o === 'open')).toBe(true);
    // At 0.5 tokens/s only the refill during the burst itself may admit a few more.
    const lateOpens = outcomes.slice(50).filter((o) => o === 'open').length;
    expect(lateOpens).toBeLessThanOrEqual(Math.ceil(elapsedS * 0.5));
    expect(outcomes.slice(50).filter((o) => o === 'shed').length).toBeGreaterThanOrEqual(
      10 - Math.ceil(elapsedS * 0.5),
    );
    // After waiting, the bucket has a token again.
    await waitFor(async () => (await attempt(gw!.url, open)) === 'open', 'refill', 10_000, 300);
  });

  it('should answer 429 with Retry-After past the burst when SHED_MODE=status or the client does not accept event-stream', async () => {
    gw = await startTestGateway({ CONNECT_BURST: '3', CONNECT_RATE_PER_S: '0.01' });
    for (let i = 0; i < 3; i++) expect(await attempt(gw.url, open)).toBe('open');
    const plain = await fetch(`${gw.url}/events?topic=limits`, {
      headers: { Accept: 'application/json' },
    });
    expect(plain.status).toBe(429);
    expect(plain.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await plain.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    await gw.shutdown();

    gw = await startTestGateway({
      CONNECT_BURST: '50',
      CONNECT_RATE_PER_S: '0.01',
      SHED_MODE: 'status',
    });
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const s = await openStream(gw.url, '/events?topic=limits');
      statuses.push(s.status);
      if (s.status === 200) open.push(s);
      else {
        expect(s.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        await s.close();
      }
    }
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(50).filter((s) => s === 429).length).toBeGreaterThanOrEqual(9);
  });

  it('should key the connect bucket by the forwarded client when TRUST_PROXY trusts the hop', async () => {
    gw = await startTestGateway({
      CONNECT_BURST: '5',
      CONNECT_RATE_PER_S: '0.01',
      TRUST_PROXY: '127.0.0.1',
    });
    const rotating: Outcome[] = [];
    for (let i = 0; i < 12; i++) {
      rotating.push(await attempt(gw.url, open, { 'X-Forwarded-For': `198.51.100.${i}` }));
    }
    expect(rotating.every((o) => o === 'open')).toBe(true);
    const same: Outcome[] = [];
    for (let i = 0; i < 7; i++) {
      same.push(await attempt(gw.url, open, { 'X-Forwarded-For': '6.6.6.6, 192.0.2.7' }));
    }
    expect(same).toEqual(['open', 'open', 'open', 'open', 'open', 'shed', 'shed']);
  });

  it('should shed past MAX_CONNECTIONS_PER_IP with reason capacity and admit again once a stream closes', async () => {
    gw = await startTestGateway({ MAX_CONNECTIONS_PER_IP: '3' });
    for (let i = 0; i < 3; i++) expect(await attempt(gw.url, open)).toBe('open');
    expect(await attempt(gw.url, open, {}, 'capacity')).toBe('shed');
    const plain = await fetch(`${gw.url}/events?topic=limits`, {
      headers: { Accept: 'application/json' },
    });
    expect(plain.status).toBe(503);
    expect(plain.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    await plain.text();
    const caps = gw.app.get(ConnectionCaps);
    expect(caps.active).toBe(3);
    await open.shift()!.close();
    await waitFor(() => caps.active === 2, 'slot released on client close');
    expect(await attempt(gw.url, open)).toBe('open');
    for (const s of open.splice(0)) await s.close();
    await waitFor(() => caps.active === 0, 'every slot released');
  });

  it('should shed past MAX_CONNECTIONS on the instance and answer 503 when SHED_MODE=status', async () => {
    gw = await startTestGateway({ MAX_CONNECTIONS: '2', SHED_MODE: 'status' });
    for (let i = 0; i < 2; i++) expect(await attempt(gw.url, open)).toBe('open');
    const refused = await openStream(gw.url, '/events?topic=limits');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    await refused.close();
  });

  it('should release the slot when the server ends the stream on drain', async () => {
    gw = await startTestGateway({ MAX_CONNECTIONS_PER_IP: '2' });
    for (let i = 0; i < 2; i++) expect(await attempt(gw.url, open)).toBe('open');
    const caps = gw.app.get(ConnectionCaps);
    expect(caps.active).toBe(2);
    await gw.shutdown();
    expect(caps.active).toBe(0);
  });

  it('should refuse to start when TRUST_PROXY has an entry that is not an IP or CIDR', async () => {
    await expect(startTestGateway({ TRUST_PROXY: '10.0.0.0/8,proxy.internal' })).rejects.toThrow(
      /TRUST_PROXY.*proxy\.internal/,
    );
  });

  it('should refuse publishes past PUBLISH_BURST with 429 and Retry-After', async () => {
    gw = await startTestGateway({ PUBLISH_BURST: '3', PUBLISH_RATE_PER_S: '0.2' });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await publish(gw.url, { topic: 'p', data: i }));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 429, 429]);
    const refused = results[3];
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(5);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(String(refused.body.message)).toMatch(/publish rate limit/);
    expect(results[0].headers.get('x-ratelimit-limit')).toBe('3');
  });

  it('should count one token per event, refusing a batch larger than what is left whole with 429', async () => {
    gw = await startTestGateway({ PUBLISH_BURST: '10', PUBLISH_RATE_PER_S: '0.01' });
    const stream = await openStream(gw.url, '/events?topic=rate/**');
    open.push(stream);
    const batch = (n: number, tag: string) => ({
      events: Array.from({ length: n }, (_, i) => ({ topic: 'rate/b', data: `${tag}${i}` })),
    });
    const eight = await publish(gw.url, batch(8, 'a'));
    expect(eight.status).toBe(202);
    expect(eight.headers.get('x-ratelimit-remaining')).toBe('2');
    // 2 tokens left: a batch of 3 is refused whole, and spends nothing.
    const three = await publish(gw.url, batch(3, 'refused'));
    expect(three.status).toBe(429);
    expect(three.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(three.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(String(three.body.message)).toMatch(/3 events need 3 tokens, 2 left/);
    const two = await publish(gw.url, batch(2, 'c'));
    expect(two.status).toBe(202);
    // Empty now: even one event is refused, before its body is read.
    expect((await publish(gw.url, { topic: 'rate/b', data: 'late' })).status).toBe(429);
    await waitFor(() => stream.dataEvents.length >= 10, '10 events');
    expect(stream.dataEvents.map((e) => JSON.parse(e.data) as string)).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `a${i}`),
      'c0',
      'c1',
    ]);
  });

  it('should refuse a batch larger than PUBLISH_BURST with 413 naming the bucket', async () => {
    gw = await startTestGateway({ PUBLISH_BURST: '5', PUBLISH_RATE_PER_S: '1000' });
    const events = Array.from({ length: 6 }, (_, i) => ({ topic: 'rate/big', data: i }));
    const reply = await publish(gw.url, { events });
    expect(reply.status).toBe(413);
    expect(String(reply.body.message)).toMatch(/6 events is larger than .*PUBLISH_BURST 5/);
    expect((await publish(gw.url, { events: events.slice(0, 5) })).status).toBe(202);
  });

  it('should count publishes per token sub, not per IP, when publishers authenticate', async () => {
    gw = await startTestGateway({ PUBLISH_BURST: '2', PUBLISH_RATE_PER_S: '0.01' });
    const alice = bearer(hs256(claims({ publish: ['**'] }, { sub: 'alice' })));
    const bob = bearer(hs256(claims({ publish: ['**'] }, { sub: 'bob' })));
    const statuses = [];
    for (const headers of [alice, alice, alice, bob, bob, bob]) {
      statuses.push((await publish(gw.url, { topic: 'p', data: 1 }, headers)).status);
    }
    // Same IP, two subjects: each has its own bucket of 2.
    expect(statuses).toEqual([202, 202, 429, 202, 202, 429]);
    // Authentication runs first: a bad token is 401 and spends no token.
    expect((await publish(gw.url, { topic: 'p', data: 1 }, bearer('nope'))).status).toBe(401);
  });

  it('should cap streams per token sub when MAX_CONNECTIONS_PER_USER is reached', async () => {
    gw = await startTestGateway({ MAX_CONNECTIONS_PER_USER: '1' });
    const carol = bearer(hs256(claims({ subscribe: ['**'] }, { sub: 'carol' })));
    const dave = bearer(hs256(claims({ subscribe: ['**'] }, { sub: 'dave' })));
    expect(await attempt(gw.url, open, carol)).toBe('open');
    expect(await attempt(gw.url, open, carol, 'capacity')).toBe('shed');
    expect(await attempt(gw.url, open, dave)).toBe('open');
  });
});
