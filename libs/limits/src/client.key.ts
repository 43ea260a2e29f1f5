/** Who is asking: the token's `sub` when authenticated, else the client IP. */
export interface ClientIdentity {
  readonly sub?: string;
  readonly ip: string;
}

/**
 * The counting key of a client: `sub:<sub>` when it has one, else `ip:<address>`, with IPv6
 * addresses grouped by /64 (one host usually owns a whole /64, so rotating inside it is free).
 */
export function clientKey(client: ClientIdentity): string {
  return client.sub !== undefined ? `sub:${client.sub}` : `ip:${ipKey(client.ip)}`;
}

/** An IPv4 address as is; an IPv6 address reduced to its /64 prefix. */
export function ipKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
