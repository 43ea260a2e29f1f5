import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { extractToken, redactUrl, stripQueryToken } from './token.extractor';

const req = (url: string, headers: Record<string, string> = {}) =>
  ({ url, headers }) as unknown as IncomingMessage;

describe('extractToken', () => {
  it('should prefer the header, then the cookie, then the query', () => {
    const all = req('/e?access_token=q', { authorization: 'Bearer h', cookie: 'c=k; tok=c' });
    expect(extractToken(all, 'tok', true)).toEqual({ token: 'h', source: 'header' });
    const noHeader = req('/e?access_token=q', { cookie: 'tok=c' });
    expect(extractToken(noHeader, 'tok', true)).toEqual({ token: 'c', source: 'cookie' });
    expect(extractToken(req('/e?access_token=q'), 'tok', true)).toEqual({
      token: 'q',
      source: 'query',
    });
    expect(extractToken(req('/e?access_token=q'), 'tok', false)).toBeUndefined();
  });

  it('should accept any case of the Bearer scheme and ignore other schemes', () => {
    expect(extractToken(req('/', { authorization: 'bEaReR  t' }), 'x', true)?.token).toBe('t');
    expect(extractToken(req('/', { authorization: 'Basic t' }), 'x', true)).toBeUndefined();
    expect(extractToken(req('/', { authorization: 'Bearer a b' }), 'x', true)).toBeUndefined();
  });

  it('should keep a stripped query token readable while removing it from the URL', () => {
    const r = req('/events?topic=a&access_token=secret.tok.en&x=1');
    stripQueryToken(r);
    expect(r.url).toBe('/events?topic=a&x=1');
    expect(extractToken(r, 'tok', true)?.token).toBe('secret.tok.en');
  });

  it('should redact access_token in URLs for logs', () => {
    expect(redactUrl('/e?access_token=abc&topic=x')).toBe('/e?access_token=[REDACTED]&topic=x');
  });

  it('should redact access_token by its decoded name when the URL encodes it', () => {
    expect(redactUrl('/e?access_%74oken=abc&topic=x')).toBe('/e?access_%74oken=[REDACTED]&topic=x');
  });
});

describe('query token and its decoded name', () => {
  const token = 'tok-0123.456';
  // Every spelling whose decoded name is `access_token`, as URLSearchParams decodes it.
  const accepted = [
    'access_token',
    'access_%74oken',
    '%61ccess_token',
    'access%5Ftoken',
    '%61%63%63%65%73%73%5f%74%6f%6b%65%6e',
  ];
  // Spellings that decode to another name: not a token source.
  const refused = [
    'ACCESS_TOKEN',
    'access_token%00',
    'access_token+',
    'access_%2574oken',
    'access+token',
  ];

  it.each(accepted)('should take the token from %s and strip it from the URL', (name) => {
    const url = `/events?topic=a&${name}=${encodeURIComponent(token)}&x=1`;
    expect(extractToken(req(url), 'tok', true)).toEqual({ token, source: 'query' });
    const r = req(url);
    stripQueryToken(r);
    expect(r.url).toBe('/events?topic=a&x=1');
    expect(extractToken(r, 'tok', true)).toEqual({ token, source: 'query' });
    expect(redactUrl(url)).toBe(`/events?topic=a&${name}=[REDACTED]&x=1`);
  });

  it.each(refused)('should not take a token from %s', (name) => {
    const url = `/events?topic=a&${name}=${token}`;
    expect(extractToken(req(url), 'tok', true)).toBeUndefined();
    const r = req(url);
    stripQueryToken(r);
    expect(r.url).toBe(url);
  });

  it('should strip every access_token pair and keep the first value, as URLSearchParams.get does', () => {
    const r = req('/e?access_token=first&topic=a&access_%74oken=second');
    stripQueryToken(r);
    expect(r.url).toBe('/e?topic=a');
    expect(extractToken(r, 'tok', true)?.token).toBe('first');
    expect(
      new URLSearchParams('access_token=first&access_%74oken=second').get('access_token'),
    ).toBe('first');
  });

  it('should take a percent-encoded and plus-encoded value decoded', () => {
    const r = req('/e?access_token=%61b+c');
    expect(extractToken(r, 'tok', true)?.token).toBe('ab c');
  });
});
