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
});
