import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * True when the client of `req` has gone (socket closed or response destroyed). Checked after
 * every await on the way to opening a stream: a response whose `close` already fired would
 * never tell the stream that its client left.
 */
export function clientGone(req: IncomingMessage, res: ServerResponse): boolean {
  return res.destroyed || res.closed || req.socket.destroyed;
}
