import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Which hops in front of Herald may set `X-Forwarded-For` (TRUST_PROXY):
 * `none` (the socket address is the client), `all` (the left-most forwarded address),
 * `hops` (trust that many proxies, counted from the socket), or `list` (trust peers whose
 * address is in the given IPs/CIDRs, walking right to left).
 */
export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'list'; readonly trusted: BlockList; readonly source: readonly string[] };

/** No proxy is trusted: the client is the socket peer. */
export const TRUST_NO_PROXY: TrustProxy = { kind: 'none' };

/**
 * Parses TRUST_PROXY: `false` | `true` | a hop count (`1`, `2`, ...) | comma-separated IPs and
 * CIDRs (`10.0.0.0/8, 192.168.1.5, fd00::/8`). `0` means `false`.
 * @throws Error naming the first entry that is neither an IP nor a CIDR.
 */
export function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0') return TRUST_NO_PROXY;
  if (value === 'true') return { kind: 'all' };
  if (/^\d+$/.test(value)) return { kind: 'hops', hops: Number(value) };
  const trusted = new BlockList();
  const source = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const entry of source) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const bits = prefix === undefined ? undefined : Number(prefix);
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined &&
        (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)))
    ) {
      throw new Error(`TRUST_PROXY: "${entry}" is not an IP address or CIDR`);
    }
    if (bits === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, bits, type);
  }
  return { kind: 'list', trusted, source };
}

/**
 * The client address of `req`: the socket peer, unless TRUST_PROXY trusts it, in which case the
 * `X-Forwarded-For` chain is walked from the right past trusted hops. An unparsable forwarded
 * entry stops the walk at the last trusted address, so a client cannot forge its way past a
 * proxy that is not trusted. IPv4-mapped IPv6 addresses are reported as IPv4.
 */
export function clientIp(req: IncomingMessage, trust: TrustProxy = TRUST_NO_PROXY): string {
  const peer = normalize(req.socket.remoteAddress) ?? 'unknown';
  if (trust.kind === 'none') return peer;
  const forwarded = forwardedFor(req);
  // The chain from the nearest hop outwards: the socket peer, then X-Forwarded-For right to left.
  const chain = [peer];
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const address = normalize(forwarded[i]);
    if (address === undefined || isIP(address) === 0) break;
    chain.push(address);
  }
  switch (trust.kind) {
    case 'all':
      return chain[chain.length - 1];
    case 'hops':
      return chain[Math.min(trust.hops, chain.length - 1)];
    case 'list': {
      let i = 0;
      while (i < chain.length - 1 && isTrusted(trust.trusted, chain[i])) i++;
      return chain[i];
    }
  }
}

function forwardedFor(req: IncomingMessage): string[] {
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined.split(',').map((s) => s.trim());
}

function normalize(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return lower;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (list.check(address, family === 6 ? 'ipv6' : 'ipv4')) return true;
  // An IPv4 peer also matches an IPv4-mapped IPv6 rule and vice versa.
  return family === 4 && list.check(`::ffff:${address}`, 'ipv6');
}
