import { EventSource, type FetchLike } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptStream } from '../support/auth-helpers';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, publishSteadily, type SseStream } from '../support/sse-client';
import { PUBLISHER_TOKEN, bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

const reader = (topics = ['feed/**'], extra = {}) =>
  hs256(claims({ subscribe: topics }, { sub: 'reader', ...extra }));

/** An eventsource client whose requests carry `headers` (Node has no cookie jar). */
function withHeaders(headers: Record<string, string>): FetchLike {
  return (url, init) => fetch(url, { ...init, headers: { ...init.headers, ...headers } });
}

describe('Auth: token sources and expiry on open streams (RELIABILITY 11)', () => {
  let gw: Gateway;
  const sources: EventSource[] = [];
  const streams: SseStream[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      ANONYMOUS_TOPICS: '',
      TOKEN_EXPIRY_WARNING_MS: '1500',
      RETRY_MS: '60000',
    });
  });
  afterAll(async () => {
    for (const s of sources) s.close();
    for (const s of streams) await s.close();
    await gw.app.close();
  });

  const receiveOne = async (es: EventSource, topic: string): Promise<string> => {
    sources.push(es);
    const got: string[] = [];
    es.addEventListener('message', (e) => got.push(String(e.data)));
    await new Promise<void>((ok, fail) => {
      es.onopen = () => ok();
      es.onerror = () => fail(new Error('eventsource failed to open'));
    });
    const sent = await publish(gw.url, { topic, data: topic });
    expect(sent.status).toBe(202);
    await waitFor(() => got.length > 0, `an event on ${topic}`);
    es.close();
    return got[0];
  };

  it('should authenticate an eventsource client from the Authorization header', async () => {
    const es = new EventSource(`${gw.url}/events?topic=feed/header`, {
      fetch: withHeaders(bearer(reader())),
    });
    expect(await receiveOne(es, 'feed/header')).toBe('"feed/header"');
  });

  it('should authenticate an eventsource client from the AUTH_COOKIE_NAME cookie', async () => {
    const es = new EventSource(`${gw.url}/events?topic=feed/cookie`, {
      fetch: withHeaders({ Cookie: `other=1; herald_token=${reader()}; x=y` }),
    });
    expect(await receiveOne(es, 'feed/cookie')).toBe('"feed/cookie"');
  });

  it('should authenticate an eventsource client from ?access_token=', async () => {
    const es = new EventSource(`${gw.url}/events?topic=feed/query&access_token=${reader()}`);
    expect(await receiveOne(es, 'feed/query')).toBe('"feed/query"');
  });

  it('should use the header when a cookie or query token is also present', async () => {
    const good = reader();
    const bad = 'eyJhbGciOiJIUzI1NiJ9.e30.bad';
    const path = '/events?topic=feed/x';
    const both = { ...bearer(good), Cookie: `herald_token=${bad}` };
    expect((await attemptStream(gw.url, path, both)).status).toBe(200);
    expect((await attemptStream(gw.url, `${path}&access_token=${bad}`, bearer(good))).status).toBe(
      200,
    );
    const reversed = { ...bearer(bad), Cookie: `herald_token=${good}` };
    expect((await attemptStream(gw.url, path, reversed)).status).toBe(401);
    // the cookie beats the query string
    const cookieFirst = { Cookie: `herald_token=${bad}` };
    expect((await attemptStream(gw.url, `${path}&access_token=${good}`, cookieFirst)).status).toBe(
      401,
    );
    // a non-Bearer Authorization header is not a token: the cookie is used
    const basic = { Authorization: 'Basic dXNlcjpwYXNz', Cookie: `herald_token=${good}` };
    expect((await attemptStream(gw.url, path, basic)).status).toBe(200);
  });

  it('should warn with herald.token-expiring, then end at exp with no later event', async () => {
    const expSeconds = Math.ceil(Date.now() / 1000) + 3;
    const expMs = expSeconds * 1000;
    const stream = await openStream(gw.url, '/events?topic=feed/expiring', {
      headers: bearer(reader(['feed/**'], { exp: expSeconds })),
    });
    streams.push(stream);
    expect(stream.status).toBe(200);
    const publisher = publishSteadily(gw.url, 'feed/expiring');
    await stream.waitForEnd(15_000);
    await sleep(300);
    await publisher.stop();

    const warning = stream.events.find((e) => e.event === 'herald.token-expiring');
    expect(warning).toBeDefined();
    expect(JSON.parse(warning?.data ?? '{}')).toEqual({ expiresAt: expMs });
    const data = stream.dataEvents.map((e) => JSON.parse(e.data) as { at: number; i: number });
    expect(data.length).toBeGreaterThan(0);
    // nothing published at or after exp reached the client
    expect(data.filter((d) => d.at >= expMs)).toEqual([]);
    // the stream ended cleanly: the last bytes complete an event or a comment
    expect(stream.raw.endsWith('\n\n')).toBe(true);
    expect(stream.ended).toBe(true);
    expect(stream.failure, 'ended by the server, not reset').toBeUndefined();
  });

  it('should warn at once when the token expires within TOKEN_EXPIRY_WARNING_MS', async () => {
    const early = await startTestGateway({
      ANONYMOUS_TOPICS: '',
      TOKEN_EXPIRY_WARNING_MS: '60000',
    });
    try {
      const exp = Math.ceil(Date.now() / 1000) + 3;
      const stream = await openStream(early.url, '/events?topic=feed/soon', {
        headers: bearer(reader(['feed/**'], { exp })),
      });
      streams.push(stream);
      expect(stream.status).toBe(200);
      await stream.waitForEvents(1);
      expect(stream.ended).toBe(false);
      await stream.waitForEnd(10_000);
      expect(stream.events.map((e) => e.event)).toEqual(['herald.token-expiring']);
    } finally {
      await early.app.close();
    }
  });

  it('should let anonymous streams and long-lived tokens stay open', async () => {
    const longLived = reader(['feed/**'], { exp: Math.floor(Date.now() / 1000) + 40 * 86_400 });
    const stream = await openStream(gw.url, '/events?topic=feed/long', {
      headers: bearer(longLived),
    });
    streams.push(stream);
    await publish(gw.url, { topic: 'feed/long', data: 1 }, bearer(PUBLISHER_TOKEN));
    await stream.waitForEvents(1);
    expect(stream.ended).toBe(false);
  });

  describe('with AUTH_QUERY_TOKEN=false and a custom cookie name', () => {
    let strict: Gateway;
    beforeAll(async () => {
      strict = await startTestGateway({
        ANONYMOUS_TOPICS: '',
        AUTH_QUERY_TOKEN: 'false',
        AUTH_COOKIE_NAME: 'my_session',
      });
    });
    afterAll(async () => {
      await strict.app.close();
    });

    it('should ignore ?access_token= and read the configured cookie only', async () => {
      const t = reader();
      expect(
        (await attemptStream(strict.url, `/events?topic=feed/a&access_token=${t}`)).status,
      ).toBe(401);
      expect(
        (await attemptStream(strict.url, '/events?topic=feed/a', { Cookie: `herald_token=${t}` }))
          .status,
      ).toBe(401);
      expect(
        (await attemptStream(strict.url, '/events?topic=feed/a', { Cookie: `my_session=${t}` }))
          .status,
      ).toBe(200);
    });
  });
});
