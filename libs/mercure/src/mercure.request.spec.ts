import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { mercureLink } from './mercure.discovery';
import { MercureError } from './mercure.errors';
import { mercureToken, parseSubscribe } from './mercure.request';
import { isReservedTopic, originCursor } from './mercure.service';

const req = (url: string, headers: Record<string, string> = {}) =>
  ({ url, headers }) as unknown as IncomingMessage;

describe('parseSubscribe', () => {
  it('should read every selector spelling and the resume id, the header winning', () => {
    const parsed = parseSubscribe(
      req(
        '/.well-known/mercure?match=a&matchExact=b&match_urlpattern=https://x/:id&lastEventID=q',
        {
          'last-event-id': ' h ',
        },
      ),
      'both',
      10,
    );
    expect(parsed.dialect).toBe('v1');
    expect(parsed.selectors.map((s) => [s.matchType, s.selector.raw])).toEqual([
      ['Exact', 'a'],
      ['Exact', 'b'],
      ['URLPattern', 'https://x/:id'],
    ]);
    expect(parsed.lastEventId).toBe('h');
    expect(parseSubscribe(req('/?topic=a&last_event_id=z'), 'both', 10)).toMatchObject({
      dialect: 'legacy',
      lastEventId: 'z',
    });
    expect(parseSubscribe(req('/?topic=a&Last-Event-ID=z'), 'legacy', 10).lastEventId).toBe('z');
  });

  it.each([
    ['/?', 'both'],
    ['/?matchRegExp=a', 'both'],
    ['/?MATCH_x=a', 'both'],
    ['/?match=a&topic=b', 'both'],
    ['/?topic=a', 'v1'],
    ['/?match=a', 'legacy'],
    ['/?match=a&match=b&match=c', 'both'],
  ] as const)('should refuse %s (%s) with 400', (url, protocol) => {
    const run = () => parseSubscribe(req(url), protocol, 2);
    expect(run).toThrow(MercureError);
    try {
      run();
    } catch (err) {
      expect((err as MercureError).getStatus()).toBe(400);
    }
  });
});

describe('mercureToken', () => {
  it('should take the header first, then the 1.0 cookie; 0.x also its cookie and query', () => {
    const cookie = '__Secure-mercure_access_token=v1; mercureAuthorization=old';
    expect(mercureToken(req('/', { authorization: 'Bearer hdr', cookie }), false)).toBe('hdr');
    expect(mercureToken(req('/', { cookie }), false)).toBe('v1');
    expect(mercureToken(req('/', { cookie: 'mercureAuthorization=old' }), false)).toBeUndefined();
    expect(mercureToken(req('/', { cookie: 'mercureAuthorization=old' }), true)).toBe('old');
    expect(mercureToken(req('/?authorization=q'), true)).toBe('q');
    expect(mercureToken(req('/?authorization=q'), false)).toBeUndefined();
  });
});

describe('hub helpers', () => {
  it('should find the reserved namespace after resolving the topic against the hub', () => {
    expect(isReservedTopic('/.well-known/mercure')).toBe(true);
    expect(isReservedTopic('/.well-known/mercure/subscriptions/a/b')).toBe(true);
    expect(isReservedTopic('https://other.example/.well-known/mercure/x')).toBe(true);
    expect(isReservedTopic('https://example.com/.well-known/mercurex')).toBe(false);
    expect(isReservedTopic('urn:isbn:1')).toBe(false);
  });

  it('should derive the origin cursor of both brokers, and none of another format', () => {
    expect(originCursor('m.abc.42')).toBe('m.abc.0');
    expect(originCursor('r.e1.1700000000000.3')).toBe('r.e1.0.0');
    expect(originCursor('p.x')).toBeUndefined();
  });

  it('should build the discovery Link header', () => {
    expect(mercureLink('https://hub.example/.well-known/mercure')).toBe(
      '<https://hub.example/.well-known/mercure>; rel="mercure"',
    );
    expect(
      mercureLink('https://hub.example/.well-known/mercure', {
        lastEventId: 'urn:uuid:1',
        contentType: 'application/ld+json',
      }),
    ).toBe(
      '<https://hub.example/.well-known/mercure>; rel="mercure"; last-event-id="urn:uuid:1"; content-type="application/ld+json"',
    );
    expect(() => mercureLink('/relative')).toThrow(TypeError);
  });
});
