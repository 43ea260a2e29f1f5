import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import {
  LEGACY_ALL,
  V1_ALL,
  hubUrl,
  legacyToken,
  mercurePublish,
  v1Token,
} from '../support/mercure';
import { SseStream, publish } from '../support/sse-client';
import { PUBLISHER_TOKEN, bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

/** A topic no other test publishes to. */
const fresh = (label: string) => `https://example.com/${label}/${randomUUID()}`;

/** Raw Mercure protocol behaviour of one hub (BROKER=memory), over real HTTP. */
describe('Mercure hub (raw HTTP)', () => {
  let gw: Gateway;
  let anon: Gateway;
  const streams: SseStream[] = [];
  const open = async (
    base: string,
    params: [string, string][],
    headers: Record<string, string> = bearer(V1_ALL),
  ): Promise<SseStream> => {
    const s = new SseStream(hubUrl(base, params));
    streams.push(s);
    await s.connect({ headers });
    return s;
  };
  /** Publishes `marker` to `topic` and waits for it: everything published before has arrived. */
  const settle = async (s: SseStream, topic: string) => {
    const id = `urn:marker:${randomUUID()}`;
    expect(
      (
        await mercurePublish(gw.url, [
          ['topic', topic],
          ['data', 'marker'],
          ['id', id],
        ])
      ).status,
    ).toBe(200);
    await waitForId(s, id);
  };

  beforeAll(async () => {
    [gw, anon] = await Promise.all([
      startTestGateway({ MERCURE: 'on' }),
      startTestGateway({ MERCURE: 'on', MERCURE_ANONYMOUS: 'true' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all([gw?.shutdown(), anon?.shutdown()]);
  });

  describe('publish', () => {
    it('should answer 200 text/plain with the publisher id, and frame data line by line exactly', async () => {
      const topic = fresh('books');
      const s = await open(gw.url, [['match', topic]]);
      expect(s.status).toBe(200);
      expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const res = await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'line one\n\n  indented\r\nlast'],
        ['id', 'urn:test:framing'],
        ['type', 'book.updated'],
        ['retry', '1500'],
      ]);
      expect(res).toMatchObject({ status: 200, body: 'urn:test:framing' });
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      await waitForId(s, 'urn:test:framing');
      expect(s.raw).toContain(
        'id: urn:test:framing\nevent: book.updated\nretry: 1500\ndata: line one\ndata: \ndata:   indented\ndata: last\n\n',
      );
      expect(s.events.at(-1)).toMatchObject({
        event: 'book.updated',
        data: 'line one\n\n  indented\nlast',
      });
    });

    it('should generate a urn:uuid id when none is given, and send plain `message` events', async () => {
      const topic = fresh('gen');
      const s = await open(gw.url, [['match', topic]]);
      const res = await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'x'],
      ]);
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      const event = await waitForId(s, res.body);
      expect(event).toMatchObject({ event: 'message', data: 'x' });
      expect(s.raw).not.toContain(`id: ${res.body}\nevent:`);
    });

    it('should deliver to an alternate topic and keep empty data as one empty data line', async () => {
      const canonical = fresh('canon');
      const alternate = fresh('alt');
      const s = await open(gw.url, [['match', alternate]]);
      const res = await mercurePublish(gw.url, [
        ['topic', canonical],
        ['topic', alternate],
        ['id', 'urn:test:alt'],
      ]);
      expect(res.status).toBe(200);
      expect(await waitForId(s, 'urn:test:alt')).toMatchObject({ data: '' });
    });

    it('should refuse bad updates with 400/401/403/413/415 and publish nothing', async () => {
      const topic = fresh('refused');
      const s = await open(gw.url, [['match', topic]]);
      const cases: [number, [string, string][], string | null][] = [
        [401, [['topic', topic]], null],
        [401, [['topic', topic]], 'not-a-jwt'],
        [
          401,
          [['topic', topic]],
          v1Token(
            [{ actions: ['publish'], topics: [{ match: '*' }] }],
            {},
            'another-secret-another-secret-xx',
          ),
        ],
        // 1.0 tokens must be typed at+jwt
        [
          401,
          [['topic', topic]],
          v1Token([{ actions: ['publish'], topics: [{ match: '*' }] }], {}, undefined, {
            typ: 'JWT',
          }),
        ],
        [403, [['topic', topic]], v1Token([{ actions: ['subscribe'], topics: [{ match: '*' }] }])],
        [403, [['topic', topic]], legacyToken({ publish: ['https://example.com/other/{id}'] })],
        [400, [['data', 'no topic']], V1_ALL],
        [400, [['topic', '/.well-known/mercure/subscriptions/x/y']], V1_ALL],
        [400, [['topic', 'https://evil.example/.well-known/mercure']], V1_ALL],
        [
          400,
          [
            ['topic', topic],
            ['id', '#fragment'],
          ],
          V1_ALL,
        ],
        [
          400,
          [
            ['topic', topic],
            ['id', 'a\nb'],
          ],
          V1_ALL,
        ],
        [
          400,
          [
            ['topic', topic],
            ['retry', '1s'],
          ],
          V1_ALL,
        ],
        [
          400,
          [
            ['topic', topic],
            ['type', 'a\nb'],
          ],
          V1_ALL,
        ],
        [
          400,
          [
            ['topic', topic],
            ['type', 'herald.reset'],
          ],
          V1_ALL,
        ],
        [400, [['topic', 'bad\u0001topic']], V1_ALL],
        [
          413,
          [
            ['topic', topic],
            ['data', 'x'.repeat(70_000)],
          ],
          V1_ALL,
        ],
      ];
      for (const [status, fields, token] of cases) {
        const res = await mercurePublish(gw.url, fields, token);
        expect(res.status, `${JSON.stringify(fields).slice(0, 80)} -> ${res.body}`).toBe(status);
        expect(JSON.parse(res.body)).toMatchObject({ statusCode: status });
        if (status === 401 || status === 403) {
          expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
      }
      const noToken = await mercurePublish(gw.url, [['topic', topic]], null);
      expect(noToken.headers.get('www-authenticate')).not.toContain('error=');
      const badToken = await mercurePublish(gw.url, [['topic', topic]], 'x.y.z');
      expect(badToken.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const scope = await mercurePublish(
        gw.url,
        [['topic', topic]],
        v1Token([{ actions: ['subscribe'], topics: [{ match: '*' }] }]),
      );
      expect(scope.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      const json = await fetch(hubUrl(gw.url), {
        method: 'POST',
        headers: { ...bearer(V1_ALL), 'Content-Type': 'application/json' },
        body: JSON.stringify({ topic }),
      });
      expect(json.status).toBe(415);
      await settle(s, topic);
      expect(s.events.map((e) => e.data)).toEqual(['marker']);
    });

    it('should return the first id and deliver once for a retried Idempotency-Key', async () => {
      const topic = fresh('idem');
      const s = await open(gw.url, [['match', topic]]);
      const key = { 'Idempotency-Key': randomUUID() };
      const first = await mercurePublish(
        gw.url,
        [
          ['topic', topic],
          ['data', 'once'],
        ],
        V1_ALL,
        key,
      );
      const again = await mercurePublish(
        gw.url,
        [
          ['topic', topic],
          ['data', 'once'],
        ],
        V1_ALL,
        key,
      );
      expect(first.status).toBe(200);
      expect(again).toMatchObject({ status: 200, body: first.body });
      await settle(s, topic);
      expect(s.events.map((e) => e.data)).toEqual(['once', 'marker']);
    });

    it('should redact REDACT_KEYS in JSON data and keep any other text exactly', async () => {
      const topic = fresh('redact');
      const s = await open(gw.url, [['match', topic]]);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', '{"user":"a","password":"hunter2"}'],
        ['id', 'urn:r:1'],
      ]);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', '{ "user" : "b" }'],
        ['id', 'urn:r:2'],
      ]);
      await waitForId(s, 'urn:r:2');
      expect(s.events.map((e) => e.data)).toEqual([
        '{"user":"a","password":"[REDACTED]"}',
        '{ "user" : "b" }',
      ]);
    });
  });

  describe('subscribe', () => {
    it('should match exact, URL pattern and legacy template selectors, and nothing else', async () => {
      const base = `https://example.com/sel-${randomUUID()}`;
      const exact = await open(gw.url, [['match', `${base}/books/1`]]);
      const explicit = await open(gw.url, [['match_exact', `${base}/books/1`]]);
      const pattern = await open(gw.url, [['match_urlpattern', `${base}/books/:id`]]);
      const template = await open(gw.url, [['topic', `${base}/books/{id}`]], bearer(LEGACY_ALL));
      const any = await open(gw.url, [['topic', '*']], bearer(LEGACY_ALL));
      for (const [topic, id] of [
        [`${base}/books/1`, 'urn:s:1'],
        [`${base}/books/2`, 'urn:s:2'],
        [`${base}/authors/1`, 'urn:s:3'],
        [`${base}/books/1/reviews`, 'urn:s:4'],
      ]) {
        expect(
          (
            await mercurePublish(gw.url, [
              ['topic', topic],
              ['id', id],
            ])
          ).status,
        ).toBe(200);
      }
      const marker = 'urn:s:end';
      await mercurePublish(gw.url, [
        ['topic', `${base}/books/1`],
        ['id', marker],
      ]);
      for (const s of [exact, explicit, pattern, template]) await waitForId(s, marker);
      await waitForId(any, marker);
      const ids = (s: SseStream) => s.events.map((e) => e.id);
      expect(ids(exact)).toEqual(['urn:s:1', marker]);
      expect(ids(explicit)).toEqual(['urn:s:1', marker]);
      expect(ids(pattern)).toEqual(['urn:s:1', 'urn:s:2', marker]);
      expect(ids(template)).toEqual(['urn:s:1', 'urn:s:2', marker]);
      expect(ids(any).filter((i) => i?.startsWith('urn:s:'))).toEqual([
        'urn:s:1',
        'urn:s:2',
        'urn:s:3',
        'urn:s:4',
        marker,
      ]);
    });

    it('should refuse bad subscribe requests with 400', async () => {
      const topic = fresh('bad');
      for (const params of [
        [],
        [['match_regex', topic]],
        [['matchFoo', topic]],
        [
          ['match', topic],
          ['topic', topic],
        ],
        [['match', '']],
        [['match', 'a\u0007b']],
      ] as [string, string][][]) {
        const res = await fetch(hubUrl(gw.url, params), {
          headers: { Accept: 'text/event-stream', ...bearer(V1_ALL) },
        });
        expect(res.status, JSON.stringify(params)).toBe(400);
        expect(await res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      }
    });

    it('should deliver private updates only to subscribers whose grants cover the topic or an alternate', async () => {
      const topic = fresh('private');
      const alternate = fresh('private-alt');
      const granted = await open(
        gw.url,
        [['match', topic]],
        bearer(v1Token([{ actions: ['subscribe'], topics: [{ match: topic }] }])),
      );
      const byAlternate = await open(
        gw.url,
        [['match', topic]],
        bearer(legacyToken({ subscribe: [alternate] })),
      );
      const other = await open(
        gw.url,
        [['match', topic]],
        bearer(v1Token([{ actions: ['subscribe'], topics: [{ match: fresh('x') }] }])),
      );
      const none = await open(gw.url, [['match', topic]], bearer(v1Token([])));
      const anonymous = await open(anon.url, [['match', topic]], {});
      expect(anonymous.status).toBe(200);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['topic', alternate],
        ['data', 'secret'],
        ['private', 'on'],
        ['id', 'urn:p:1'],
      ]);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'public'],
        ['id', 'urn:p:2'],
      ]);
      await mercurePublish(anon.url, [
        ['topic', topic],
        ['data', 'secret'],
        ['private', ''],
        ['id', 'urn:p:1'],
      ]);
      await mercurePublish(anon.url, [
        ['topic', topic],
        ['data', 'public'],
        ['id', 'urn:p:2'],
      ]);
      for (const s of [granted, byAlternate, other, none, anonymous]) await waitForId(s, 'urn:p:2');
      expect(granted.events.map((e) => e.data)).toEqual(['secret', 'public']);
      expect(byAlternate.events.map((e) => e.data)).toEqual(['secret', 'public']);
      expect(other.events.map((e) => e.data)).toEqual(['public']);
      expect(none.events.map((e) => e.data)).toEqual(['public']);
      expect(anonymous.events.map((e) => e.data)).toEqual(['public']);
    });

    it('should refuse a subscriber without a token unless MERCURE_ANONYMOUS, with a Bearer challenge', async () => {
      const res = await fetch(hubUrl(gw.url, [['match', fresh('anon')]]), {
        headers: { Accept: 'text/event-stream' },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const expired = v1Token([{ actions: ['subscribe'], topics: [{ match: '*' }] }], {
        exp: Math.floor(Date.now() / 1000) - 120,
      });
      const late = await fetch(hubUrl(gw.url, [['match', fresh('anon')]]), {
        headers: { Accept: 'text/event-stream', ...bearer(expired) },
      });
      expect(late.status).toBe(401);
      expect(late.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('should take tokens from the dialect cookies and the legacy query, never a 1.0 query token', async () => {
      const topic = fresh('cookies');
      const secret = v1Token([{ actions: ['subscribe'], topics: [{ match: topic }] }]);
      const v1Cookie = await open(gw.url, [['match', topic]], {
        Cookie: `__Secure-mercure_access_token=${secret}`,
      });
      const legacyCookie = await open(gw.url, [['topic', topic]], {
        Cookie: `mercureAuthorization=${legacyToken({ subscribe: [topic] })}`,
      });
      const legacyQuery = await open(
        gw.url,
        [
          ['topic', topic],
          ['authorization', legacyToken({ subscribe: [topic] })],
        ],
        {},
      );
      for (const s of [v1Cookie, legacyCookie, legacyQuery]) expect(s.status).toBe(200);
      const v1Query = await fetch(
        hubUrl(gw.url, [
          ['match', topic],
          ['authorization', secret],
        ]),
        { headers: { Accept: 'text/event-stream' } },
      );
      expect(v1Query.status).toBe(401);
      const v1QueryCookieLegacy = await fetch(hubUrl(gw.url, [['match', topic]]), {
        headers: { Accept: 'text/event-stream', Cookie: `mercureAuthorization=${secret}` },
      });
      expect(v1QueryCookieLegacy.status).toBe(401);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'p'],
        ['private', 'on'],
        ['id', 'urn:c:1'],
      ]);
      for (const s of [v1Cookie, legacyCookie, legacyQuery])
        expect((await waitForId(s, 'urn:c:1')).data).toBe('p');
    });
  });

  it('should keep Mercure updates away from Herald streams, even a `**` subscriber', async () => {
    const herald = new SseStream(`${gw.url}/events?topic=**`);
    streams.push(herald);
    await herald.connect({ headers: bearer(PUBLISHER_TOKEN) });
    expect(herald.status).toBe(200);
    const internal = await fetch(`${gw.url}/events?topic=${encodeURIComponent('$mercure')}`, {
      headers: { Accept: 'text/event-stream', ...bearer(PUBLISHER_TOKEN) },
    });
    expect(internal.status).toBe(400);
    const topic = fresh('isolated');
    const s = await open(gw.url, [['match', topic]]);
    await mercurePublish(gw.url, [
      ['topic', topic],
      ['data', 'secret'],
      ['private', 'on'],
    ]);
    await publish(gw.url, { topic: 'herald/marker', data: 1 });
    await herald.waitForEvents(1);
    await settle(s, topic);
    expect(herald.dataEvents.map((e) => e.data)).toEqual(['1']);
  });

  it('should serve its protected resource metadata (discovery)', async () => {
    const res = await fetch(`${gw.url}/.well-known/oauth-protected-resource/.well-known/mercure`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: `${gw.url}/.well-known/mercure`,
      bearer_methods_supported: ['header'],
      mercure_cookie: true,
    });
  });

  describe('resume', () => {
    it('should resume after a publisher id by Last-Event-ID, lastEventID and last_event_id', async () => {
      const topic = fresh('resume');
      for (const id of ['urn:r:a', 'urn:r:b', 'urn:r:c']) {
        await mercurePublish(gw.url, [
          ['topic', topic],
          ['data', id],
          ['id', id],
        ]);
      }
      await mercurePublish(gw.url, [
        ['topic', fresh('noise')],
        ['data', 'noise'],
      ]);
      const byHeader = await open(gw.url, [['match', topic]], {
        ...bearer(V1_ALL),
        'Last-Event-ID': 'urn:r:a',
      });
      const byQuery = await open(gw.url, [
        ['match', topic],
        ['lastEventID', 'urn:r:a'],
      ]);
      const byLegacyQuery = await open(
        gw.url,
        [
          ['topic', topic],
          ['last_event_id', 'urn:r:b'],
        ],
        bearer(LEGACY_ALL),
      );
      const headerWins = await open(
        gw.url,
        [
          ['match', topic],
          ['lastEventID', 'urn:r:a'],
        ],
        { ...bearer(V1_ALL), 'Last-Event-ID': 'urn:r:b' },
      );
      for (const s of [byHeader, byQuery]) {
        await waitForId(s, 'urn:r:c');
        expect(s.events.map((e) => e.id)).toEqual(['urn:r:b', 'urn:r:c']);
        expect(s.headers.get('mercure-last-event-id')).toBe('urn:r:a');
        expect(s.headers.get('last-event-id')).toBe('urn:r:a');
      }
      for (const s of [byLegacyQuery, headerWins]) {
        await waitForId(s, 'urn:r:c');
        expect(s.events.map((e) => e.id)).toEqual(['urn:r:c']);
      }
      // Then live, with no gap and no duplicate at the seam.
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'd'],
        ['id', 'urn:r:d'],
      ]);
      await waitForId(byHeader, 'urn:r:d');
      expect(byHeader.events.map((e) => e.id)).toEqual(['urn:r:b', 'urn:r:c', 'urn:r:d']);
    });

    it('should replay every retained update for earliest, and go live for an unknown id', async () => {
      const topic = fresh('earliest');
      for (const id of ['urn:e:1', 'urn:e:2']) {
        await mercurePublish(gw.url, [
          ['topic', topic],
          ['id', id],
        ]);
      }
      const earliest = await open(gw.url, [
        ['match', topic],
        ['lastEventID', 'earliest'],
      ]);
      await waitForId(earliest, 'urn:e:2');
      expect(earliest.events.map((e) => e.id)).toEqual(['urn:e:1', 'urn:e:2']);
      expect(earliest.headers.get('mercure-last-event-id')).toBe('earliest');
      const unknown = await open(gw.url, [['match', topic]], {
        ...bearer(V1_ALL),
        'Last-Event-ID': 'urn:never:published',
      });
      expect(unknown.status).toBe(200);
      expect(unknown.headers.get('mercure-last-event-id')).toBe('earliest');
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['id', 'urn:e:3'],
      ]);
      await waitForId(unknown, 'urn:e:3');
      expect(unknown.events.filter((e) => e.event === 'message').map((e) => e.id)).toEqual([
        'urn:e:3',
      ]);
    });

    it('should never replay a private update to a subscriber that may not read it', async () => {
      const topic = fresh('replay-private');
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['id', 'urn:rp:0'],
      ]);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'secret'],
        ['private', 'on'],
        ['id', 'urn:rp:1'],
      ]);
      await mercurePublish(gw.url, [
        ['topic', topic],
        ['data', 'public'],
        ['id', 'urn:rp:2'],
      ]);
      const s = await open(
        gw.url,
        [
          ['match', topic],
          ['lastEventID', 'urn:rp:0'],
        ],
        bearer(v1Token([])),
      );
      await waitForId(s, 'urn:rp:2');
      expect(s.events.map((e) => e.data)).toEqual(['public']);
    });
  });
});

async function waitForId(s: SseStream, id: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = s.events.find((e) => e.id === id);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no event ${id} (status ${s.status}; got ${s.events.map((e) => e.id).join(', ')})`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The stream pipeline's guarantees hold for Mercure streams: admin list and close, drain. */
describe('Mercure streams are Herald streams', () => {
  let gw: Gateway;
  let stopped = false;
  const admin = bearer(hs256(claims({ admin: true })));
  beforeAll(async () => {
    gw = await startTestGateway({ MERCURE: 'on' });
  });
  afterAll(async () => {
    if (!stopped) await gw?.shutdown();
  });

  it('should count Mercure publishes and deliveries in the metrics', async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const topic = fresh('metrics');
    const s = new SseStream(hubUrl(gw.url, [['match', topic]]));
    await s.connect({ headers: bearer(V1_ALL) });
    const [published, delivered] = [
      await metric('herald_events_published_total'),
      await metric('herald_events_delivered_total'),
    ];
    await mercurePublish(gw.url, [
      ['topic', topic],
      ['id', 'urn:metrics:1'],
    ]);
    await waitForId(s, 'urn:metrics:1');
    await s.close();
    expect(await metric('herald_events_published_total')).toBe(published + 1);
    expect(await metric('herald_events_delivered_total')).toBeGreaterThan(delivered);
  });

  it('should be listed and closed by the admin API, and drained with a resumable id', async () => {
    const topic = fresh('admin');
    const s = new SseStream(hubUrl(gw.url, [['match', topic]]));
    await s.connect({ headers: bearer(V1_ALL) });
    const list = (await (
      await fetch(`${gw.url}/admin/connections`, { headers: admin })
    ).json()) as { connections: { id: string; sub: string; topics: string[] }[] };
    const mine = list.connections.find((c) => c.topics.includes(topic));
    expect(mine).toMatchObject({ sub: 'mercure-tester', topics: [topic] });
    const closed = await fetch(`${gw.url}/admin/connections/${mine?.id}`, {
      method: 'DELETE',
      headers: admin,
    });
    expect(closed.status).toBeLessThan(300);
    await s.waitForEnd();
    const drained = new SseStream(hubUrl(gw.url, [['match', topic]]));
    await drained.connect({ headers: bearer(V1_ALL) });
    await mercurePublish(gw.url, [
      ['topic', topic],
      ['id', 'urn:drain:1'],
    ]);
    await waitForId(drained, 'urn:drain:1');
    stopped = true;
    await gw.shutdown();
    await drained.waitForEnd();
    const drain = drained.events.find((e) => e.event === 'herald.drain');
    expect(drain?.id).toBe('urn:drain:1');
  });
});

describe('MERCURE_PROTOCOL', () => {
  let v1: Gateway;
  let legacy: Gateway;
  beforeAll(async () => {
    [v1, legacy] = await Promise.all([
      startTestGateway({ MERCURE: 'on', MERCURE_PROTOCOL: 'v1' }),
      startTestGateway({ MERCURE: 'on', MERCURE_PROTOCOL: 'legacy' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([v1?.shutdown(), legacy?.shutdown()]);
  });
  const status = async (url: string, headers: Record<string, string>) =>
    (await fetch(url, { headers: { Accept: 'text/event-stream', ...headers } })).status;

  it('should speak only 1.0 with v1: no topic=, no 0.x token, one topic per update', async () => {
    expect(await status(hubUrl(v1.url, [['topic', 'a']]), bearer(LEGACY_ALL))).toBe(400);
    expect(await status(hubUrl(v1.url, [['match', 'a']]), bearer(LEGACY_ALL))).toBe(401);
    expect((await mercurePublish(v1.url, [['topic', 'a']], LEGACY_ALL)).status).toBe(401);
    expect(
      (
        await mercurePublish(v1.url, [
          ['topic', 'a'],
          ['topic', 'b'],
        ])
      ).status,
    ).toBe(400);
    expect((await mercurePublish(v1.url, [['topic', 'a']])).status).toBe(200);
  });

  it('should speak only 0.x with legacy: no match, no 1.0 token', async () => {
    expect(await status(hubUrl(legacy.url, [['match', 'a']]), bearer(V1_ALL))).toBe(400);
    expect(await status(hubUrl(legacy.url, [['topic', 'a']]), bearer(V1_ALL))).toBe(401);
    expect((await mercurePublish(legacy.url, [['topic', 'a']], V1_ALL)).status).toBe(401);
    const ok = await mercurePublish(
      legacy.url,
      [
        ['topic', 'a'],
        ['topic', 'b'],
      ],
      LEGACY_ALL,
    );
    expect(ok.status).toBe(200);
  });
});

describe('Mercure subscriptions (MERCURE_SUBSCRIPTIONS=true, one instance)', () => {
  let gw: Gateway;
  const watcherToken = v1Token([
    { actions: ['subscribe'], topics: [{ match: '*' }], payload: { role: 'watcher' } },
  ]);
  beforeAll(async () => {
    gw = await startTestGateway({ MERCURE: 'on', MERCURE_SUBSCRIPTIONS: 'true' });
  });
  afterAll(async () => {
    await gw?.shutdown();
  });

  it('should announce a subscription and its end when the client drops, and serve it by the API', async () => {
    const topic = fresh('subs');
    const watcher = new SseStream(
      hubUrl(gw.url, [['topic', '/.well-known/mercure/subscriptions/{topic}/{subscriber}']]),
    );
    await watcher.connect({ headers: bearer(watcherToken) });
    const docs = () =>
      watcher.events
        .map((e) => JSON.parse(e.data) as Record<string, unknown>)
        .filter((d) => d.topic === topic);
    const client = new SseStream(hubUrl(gw.url, [['match_urlpattern', topic]]));
    await client.connect({ headers: bearer(watcherToken) });
    const [active] = await waitFor(() => (docs().length > 0 ? docs() : undefined), 'active');
    expect(active).toMatchObject({
      '@context': 'https://mercure.rocks/',
      type: 'Subscription',
      topic,
      match: topic,
      matchType: 'URLPattern',
      active: true,
      payload: { role: 'watcher' },
    });
    expect(active.id).toBe(
      `/.well-known/mercure/subscriptions/${encodeURIComponent(topic)}/${encodeURIComponent(String(active.subscriber))}`,
    );
    const api = (path: string, token = watcherToken) =>
      fetch(`${gw.url}/.well-known/mercure/subscriptions${path}`, { headers: bearer(token) });
    const byTopic = await api(`/${encodeURIComponent(topic)}`);
    expect(byTopic.status).toBe(200);
    expect(await byTopic.json()).toMatchObject({
      type: 'Subscriptions',
      subscriptions: [{ topic, subscriber: active.subscriber }],
    });
    const one = await api(
      `/${encodeURIComponent(topic)}/${encodeURIComponent(String(active.subscriber))}`,
    );
    expect(await one.json()).toMatchObject({
      id: active.id,
      active: true,
      lastEventID: expect.any(String),
    });
    expect((await fetch(`${gw.url}/.well-known/mercure/subscriptions`)).status).toBe(401);
    const narrow = v1Token([
      { actions: ['subscribe'], topics: [{ match: 'https://example.com/x' }] },
    ]);
    expect((await api('', narrow)).status).toBe(403);
    await client.close();
    const ended = await waitFor(() => docs().find((d) => d.active === false), 'inactive');
    expect(ended).toMatchObject({ id: active.id, active: false });
    const gone = await api(
      `/${encodeURIComponent(topic)}/${encodeURIComponent(String(active.subscriber))}`,
    );
    expect(gone.status).toBe(404);
    await watcher.close();
  });
});
