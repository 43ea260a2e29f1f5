import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ProxyTrust, bindClientAddress, clientIp, isSecure } from './client-ip';

function request(
  peer: string,
  headers: Record<string, string> = {},
  encrypted = false,
): IncomingMessage {
  return { socket: { remoteAddress: peer, encrypted }, headers } as unknown as IncomingMessage;
}

const XFF = {
  'x-forwarded-for': '203.0.113.9, 198.51.100.7, 10.0.0.2',
  'x-forwarded-proto': 'https',
};

describe('ProxyTrust', () => {
  it('should ignore forwarded headers when TRUST_PROXY is false', () => {
    expect(new ProxyTrust('false').resolve(request('::ffff:10.0.0.1', XFF))).toEqual({
      ip: '10.0.0.1',
      secure: false,
    });
  });

  it('should take the left-most address when every hop is trusted', () => {
    expect(new ProxyTrust('true').resolve(request('10.0.0.1', XFF))).toEqual({
      ip: '203.0.113.9',
      secure: true,
    });
  });

  it('should walk back exactly n hops when given a hop count', () => {
    expect(new ProxyTrust('1').resolve(request('10.0.0.1', XFF)).ip).toBe('10.0.0.2');
    expect(new ProxyTrust('2').resolve(request('10.0.0.1', XFF)).ip).toBe('198.51.100.7');
  });

  it('should stop at the first untrusted hop when given a CIDR list', () => {
    const trust = new ProxyTrust('10.0.0.0/8');
    expect(trust.resolve(request('10.0.0.1', XFF))).toEqual({ ip: '198.51.100.7', secure: true });
    // A peer outside the list: its X-Forwarded-* are not believed (no spoofing).
    expect(trust.resolve(request('192.0.2.1', XFF))).toEqual({ ip: '192.0.2.1', secure: false });
  });

  it('should count a TLS socket as secure whatever the headers say', () => {
    expect(new ProxyTrust('false').resolve(request('10.0.0.1', {}, true)).secure).toBe(true);
  });

  it('should expose the bound address through clientIp and isSecure', () => {
    const req = request('10.0.0.1', XFF);
    expect(clientIp(req)).toBe('10.0.0.1');
    bindClientAddress(req, new ProxyTrust('loopback,10.0.0.0/8'));
    expect(clientIp(req)).toBe('198.51.100.7');
    expect(isSecure(req)).toBe(true);
  });
});
