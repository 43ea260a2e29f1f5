import { describe, expect, it } from 'vitest';
import { clientKey, ipKey } from './client.key';

describe('clientKey', () => {
  it('should key by sub when the client has one, else by IP', () => {
    expect(clientKey({ sub: 'alice', ip: '1.2.3.4' })).toBe('sub:alice');
    expect(clientKey({ ip: '1.2.3.4' })).toBe('ip:1.2.3.4');
  });

  it('should group IPv6 addresses by /64 when keying by IP', () => {
    expect(ipKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(ipKey('::1')).toBe('0:0:0:0::/64');
    expect(ipKey('fe80::')).toBe('fe80:0:0:0::/64');
  });
});
