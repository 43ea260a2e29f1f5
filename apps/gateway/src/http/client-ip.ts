import type { IncomingMessage } from 'node:http';

/** The client address: the socket's peer (TRUST_PROXY handling joins with the limits work). */
export function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
