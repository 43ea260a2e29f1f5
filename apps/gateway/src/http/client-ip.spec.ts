import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientIp, parseTrustProxy } from './client-ip';

function req(remoteAddress: string, xff?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

describe('clientIp', () => {
  it('should use the socket address when no proxy is trusted', () => {
    expect(clientIp(req('10.0.0.1', '1.2.3.4'))).toBe('10.0.0.1');
    expect(clientIp(req('10.0.0.1', '1.2.3.4'), parseTrustProxy('false'))).toBe('10.0.0.1');
    expect(clientIp(req('10.0.0.1', '1.2.3.4'), parseTrustProxy('0'))).toBe('10.0.0.1');
  });

  it('should report IPv4-mapped IPv6 peers as IPv4 when the socket is dual-stack', () => {
    expect(clientIp(req('::ffff:127.0.0.1'))).toBe('127.0.0.1');
  });

  it('should take the left-most forwarded address when every proxy is trusted', () => {
    const trust = parseTrustProxy('true');
    expect(clientIp(req('10.0.0.1', '1.2.3.4, 5.6.7.8'), trust)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.1', ['1.2.3.4', '5.6.7.8']), trust)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.1'), trust)).toBe('10.0.0.1');
  });

  it('should count trusted hops from the socket when TRUST_PROXY is a number', () => {
    const one = parseTrustProxy('1');
    const two = parseTrustProxy('2');
    // client forged "6.6.6.6"; the trusted proxy appended the real client 1.2.3.4.
    expect(clientIp(req('10.0.0.1', '6.6.6.6, 1.2.3.4'), one)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2'), two)).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.1'), two)).toBe('10.0.0.1');
    expect(clientIp(req('10.0.0.1', '1.2.3.4'), two)).toBe('1.2.3.4');
  });

  it('should walk past listed proxies only when TRUST_PROXY lists addresses', () => {
    const trust = parseTrustProxy('10.0.0.0/8, 192.168.1.5, fd00::/8');
    expect(clientIp(req('10.1.2.3', '6.6.6.6, 1.2.3.4, 192.168.1.5'), trust)).toBe('1.2.3.4');
    expect(clientIp(req('::ffff:10.1.2.3', '1.2.3.4'), trust)).toBe('1.2.3.4');
    expect(clientIp(req('fd00::1', '2001:db8::9'), trust)).toBe('2001:db8::9');
    // The peer is not a listed proxy: its forwarded header is ignored.
    expect(clientIp(req('8.8.8.8', '1.2.3.4'), trust)).toBe('8.8.8.8');
  });

  it('should stop at the last trusted hop when a forwarded entry is not an address', () => {
    const trust = parseTrustProxy('true');
    expect(clientIp(req('10.0.0.1', '1.2.3.4, garbage, 5.6.7.8'), trust)).toBe('5.6.7.8');
    expect(clientIp(req('10.0.0.1', 'garbage'), trust)).toBe('10.0.0.1');
  });
});

describe('parseTrustProxy', () => {
  it('should parse every documented form when given valid values', () => {
    expect(parseTrustProxy('false')).toEqual({ kind: 'none' });
    expect(parseTrustProxy(' TRUE ')).toEqual({ kind: 'all' });
    expect(parseTrustProxy('3')).toEqual({ kind: 'hops', hops: 3 });
    expect(parseTrustProxy('10.0.0.0/8,::1')).toMatchObject({
      kind: 'list',
      source: ['10.0.0.0/8', '::1'],
    });
  });

  it('should throw naming the entry when an entry is not an IP or CIDR', () => {
    expect(() => parseTrustProxy('10.0.0.0/8, proxy.local')).toThrow(/proxy\.local/);
    expect(() => parseTrustProxy('10.0.0.0/33')).toThrow(/10\.0\.0\.0\/33/);
  });
});
