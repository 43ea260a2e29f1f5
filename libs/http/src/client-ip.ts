import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseTrustProxy, type TrustProxySetting } from '@herald/config';

/** Where a request really comes from, once TRUST_PROXY is applied. */
export interface ClientAddress {
  /** The client's IP: the first untrusted hop, counting from the socket peer. */
  readonly ip: string;
  /** True when the client's connection is HTTPS (TLS socket, or trusted `X-Forwarded-Proto`). */
  readonly secure: boolean;
}

const resolved = new WeakMap<IncomingMessage, ClientAddress>();

/** Lower-cases and strips the IPv4-mapped IPv6 prefix (`::ffff:1.2.3.4` -> `1.2.3.4`). */
export function normalizeIp(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/**
 * TRUST_PROXY applied to requests: decides which `X-Forwarded-For` hops and whose
 * `X-Forwarded-Proto` to believe. One instance per app (see {@link bindClientAddress}).
 */
export class ProxyTrust {
  private readonly setting: TrustProxySetting;
  private readonly list: BlockList | undefined;

  constructor(trustProxy: string) {
    this.setting = parseTrustProxy(trustProxy);
    if (this.setting.kind === 'list') {
      this.list = new BlockList();
      for (const cidr of this.setting.cidrs) {
        const [address, prefix] = cidr.split('/');
        this.list.addSubnet(address, Number(prefix), isIP(address) === 6 ? 'ipv6' : 'ipv4');
      }
    }
  }

  /** Resolves the client's address and scheme of `req`. */
  resolve(req: IncomingMessage): ClientAddress {
    const peer = normalizeIp(req.socket.remoteAddress ?? 'unknown');
    const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
    if (this.setting.kind === 'none' || !this.trusts(peer, 0)) return { ip: peer, secure: tls };
    // Hops from nearest to farthest: the socket peer, then X-Forwarded-For right to left. An
    // entry that is not an address ends the chain, so a client cannot forge its way past a
    // trusted proxy by inserting garbage.
    const forwarded: string[] = [];
    for (const entry of headerList(req.headers['x-forwarded-for']).reverse()) {
      const address = normalizeIp(entry);
      if (isIP(address) === 0) break;
      forwarded.push(address);
    }
    let ip = peer;
    for (let i = 0; i < forwarded.length && this.trusts(ip, i); i++) ip = forwarded[i];
    const proto = headerList(req.headers['x-forwarded-proto'])[0]?.toLowerCase();
    return { ip, secure: tls || proto === 'https' };
  }

  /** True when `address`, the hop at `index` (0 = socket peer), is a trusted proxy. */
  private trusts(address: string, index: number): boolean {
    switch (this.setting.kind) {
      case 'none':
        return false;
      case 'all':
        return true;
      case 'hops':
        return index < this.setting.hops;
      case 'list': {
        const family = isIP(address);
        if (family === 0) return false;
        if (this.list!.check(address, family === 6 ? 'ipv6' : 'ipv4')) return true;
        // An IPv4 hop also matches an IPv4-mapped IPv6 rule (`::ffff:10.0.0.0/104`).
        return family === 4 && this.list!.check(`::ffff:${address}`, 'ipv6');
      }
    }
  }
}

/** Resolves `req` once with `trust` and remembers the result for {@link clientIp}/{@link isSecure}. */
export function bindClientAddress(req: IncomingMessage, trust: ProxyTrust): ClientAddress {
  const address = trust.resolve(req);
  resolved.set(req, address);
  return address;
}

/** The client address per TRUST_PROXY (the socket peer when the request was not bound). */
export function clientIp(req: IncomingMessage): string {
  return resolved.get(req)?.ip ?? normalizeIp(req.socket.remoteAddress ?? 'unknown');
}

/** True when the client reached Herald over HTTPS, per TRUST_PROXY for forwarded requests. */
export function isSecure(req: IncomingMessage): boolean {
  return resolved.get(req)?.secure ?? (req.socket as Partial<TLSSocket>).encrypted === true;
}

function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
