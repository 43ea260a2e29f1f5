import { isIP } from 'node:net';

/** Named address ranges accepted in TRUST_PROXY lists (as in Express). */
export const TRUST_PROXY_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/**
 * TRUST_PROXY, parsed: which hops may set `X-Forwarded-For` / `X-Forwarded-Proto`.
 * - `none` (`false`): no proxy; the socket peer is the client.
 * - `all` (`true`): every hop is trusted; the left-most forwarded address is the client.
 * - `hops` (a number n): the n closest hops are proxies.
 * - `list` (comma-separated IPs, CIDRs or `loopback`/`linklocal`/`uniquelocal`): hops whose
 *   address is in the list are proxies.
 */
export type TrustProxySetting =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'list'; readonly cidrs: readonly string[] };

/**
 * Parses TRUST_PROXY; list entries are expanded to CIDRs (`a.b.c.d` -> `a.b.c.d/32`).
 * @throws Error naming the first invalid entry.
 */
export function parseTrustProxy(value: string): TrustProxySetting {
  const text = value.trim().toLowerCase();
  if (text === '' || text === 'false' || text === '0') return { kind: 'none' };
  if (text === 'true') return { kind: 'all' };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) throw new Error('hop count must be at most 32');
    return { kind: 'hops', hops };
  }
  const cidrs: string[] = [];
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const named = TRUST_PROXY_RANGES[entry];
    if (named) {
      cidrs.push(...named);
      continue;
    }
    const [address, prefix, ...extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra.length > 0) throw new Error(`"${entry}" is not an IP or CIDR`);
    if (prefix !== undefined && (!/^\d+$/.test(prefix) || Number(prefix) > max)) {
      throw new Error(`"${entry}" has an invalid prefix length`);
    }
    cidrs.push(`${address}/${prefix ?? max}`);
  }
  if (cidrs.length === 0) throw new Error('empty list');
  return { kind: 'list', cidrs };
}
