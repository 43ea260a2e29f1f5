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

describe('clientIp', () => {
  function ip(trustProxy: string, peer: string, xff?: string | string[]): string {
    const req = {
      socket: { remoteAddress: peer },
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    } as unknown as IncomingMessage;
    bindClientAddress(req, new ProxyTrust(trustProxy));
    return clientIp(req);
  }

  it('should use the socket address when no proxy is trusted', () => {
    expect(ip('false', '10.0.0.1', '1.2.3.4')).toBe('10.0.0.1');
    expect(ip('0', '10.0.0.1', '1.2.3.4')).toBe('10.0.0.1');
  });

  it('should report IPv4-mapped IPv6 peers as IPv4 when the socket is dual-stack', () => {
    expect(clientIp(request('::ffff:127.0.0.1'))).toBe('127.0.0.1');
  });

  it('should take the left-most forwarded address when every proxy is trusted', () => {
    expect(ip('true', '10.0.0.1', '1.2.3.4, 5.6.7.8')).toBe('1.2.3.4');
    expect(ip('true', '10.0.0.1', ['1.2.3.4', '5.6.7.8'])).toBe('1.2.3.4');
    expect(ip('true', '10.0.0.1')).toBe('10.0.0.1');
  });

  it('should count trusted hops from the socket when TRUST_PROXY is a number', () => {
    // client forged "6.6.6.6"; the trusted proxy appended the real client 1.2.3.4.
    expect(ip('1', '10.0.0.1', '6.6.6.6, 1.2.3.4')).toBe('1.2.3.4');
    expect(ip('2', '10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2')).toBe('1.2.3.4');
    expect(ip('2', '10.0.0.1')).toBe('10.0.0.1');
    expect(ip('2', '10.0.0.1', '1.2.3.4')).toBe('1.2.3.4');
  });

  it('should walk past listed proxies only when TRUST_PROXY lists addresses', () => {
    const list = '10.0.0.0/8, 192.168.1.5, fd00::/8';
    expect(ip(list, '10.1.2.3', '6.6.6.6, 1.2.3.4, 192.168.1.5')).toBe('1.2.3.4');
    expect(ip(list, '::ffff:10.1.2.3', '1.2.3.4')).toBe('1.2.3.4');
    expect(ip(list, 'fd00::1', '2001:DB8::9')).toBe('2001:db8::9');
    // The peer is not a listed proxy: its forwarded header is ignored.
    expect(ip(list, '8.8.8.8', '1.2.3.4')).toBe('8.8.8.8');
  });

  it('should match IPv4 hops against IPv4-mapped rules when the list has them', () => {
    expect(ip('::ffff:10.0.0.0/104', '10.1.2.3', '1.2.3.4')).toBe('1.2.3.4');
  });

  it('should stop at the last trusted hop when a forwarded entry is not an address', () => {
    expect(ip('true', '10.0.0.1', '1.2.3.4, garbage, 5.6.7.8')).toBe('5.6.7.8');
    expect(ip('true', '10.0.0.1', 'garbage')).toBe('10.0.0.1');
  });
});
