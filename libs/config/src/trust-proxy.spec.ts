import { describe, expect, it } from 'vitest';
import { HeraldConfig } from './herald.config';
import { parseTrustProxy } from './trust-proxy';

describe('parseTrustProxy', () => {
  it('should parse false, true and hop counts', () => {
    expect(parseTrustProxy('false')).toEqual({ kind: 'none' });
    expect(parseTrustProxy('0')).toEqual({ kind: 'none' });
    expect(parseTrustProxy('TRUE')).toEqual({ kind: 'all' });
    expect(parseTrustProxy('2')).toEqual({ kind: 'hops', hops: 2 });
  });

  it('should expand IPs, CIDRs and named ranges when given a list', () => {
    expect(parseTrustProxy('10.0.0.1, 192.168.0.0/16, ::1, loopback')).toEqual({
      kind: 'list',
      cidrs: ['10.0.0.1/32', '192.168.0.0/16', '::1/128', '127.0.0.0/8', '::1/128'],
    });
  });

  it('should throw when an entry is not an address', () => {
    expect(() => parseTrustProxy('10.0.0.1,nope')).toThrow(/"nope"/);
    expect(() => parseTrustProxy('10.0.0.0/33')).toThrow(/prefix/);
    expect(() => parseTrustProxy('99')).toThrow(/hop count/);
  });

  it('should make config validation name TRUST_PROXY when it is invalid', () => {
    expect(() => HeraldConfig.from({ TRUST_PROXY: 'example.com' })).toThrow(/TRUST_PROXY/);
  });
});
