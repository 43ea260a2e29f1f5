import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { acceptsGzip } from './content-encoding';

const req = (value?: string) =>
  ({ headers: value === undefined ? {} : { 'accept-encoding': value } }) as IncomingMessage;

describe('acceptsGzip', () => {
  it('should accept gzip when it is listed', () => {
    expect(acceptsGzip(req('gzip'))).toBe(true);
    expect(acceptsGzip(req('br, gzip;q=0.5, deflate'))).toBe(true);
    expect(acceptsGzip(req('x-gzip'))).toBe(true);
    expect(acceptsGzip(req('*'))).toBe(true);
  });

  it('should refuse gzip when the header is missing, q=0 or gzip is absent', () => {
    expect(acceptsGzip(req())).toBe(false);
    expect(acceptsGzip(req(''))).toBe(false);
    expect(acceptsGzip(req('identity'))).toBe(false);
    expect(acceptsGzip(req('gzip;q=0'))).toBe(false);
    expect(acceptsGzip(req('*, gzip;q=0'))).toBe(false);
    expect(acceptsGzip(req('br'))).toBe(false);
  });
});
