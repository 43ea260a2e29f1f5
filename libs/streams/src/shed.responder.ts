import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSE_HEADERS } from './sse.connection';
import { frameEvent } from './sse.frame';

/**
 * Why a stream was refused for now: the connect rate, a connection cap, draining, or a
 * dependency that could not answer a check on the way (`unavailable`: the revocation store).
 */
export type ShedReason = 'rate-limited' | 'capacity' | 'draining' | 'unavailable';

/** True when the request will take an event stream (EventSource sends `text/event-stream`). */
export function acceptsEventStream(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept === undefined || /text\/event-stream|text\/\*|\*\/\*/i.test(accept);
}

/**
 * Answers a transient refusal. In `retry` mode, to an event-stream client: `200`, a jittered
 * `retry:`, `event: herald.shed`, then close (any non-200 would stop an EventSource for good).
 * Otherwise `429` (rate) or `503` (capacity, draining, unavailable) with `Retry-After`.
 */
export function respondShed(
  req: IncomingMessage,
  res: ServerResponse,
  mode: 'retry' | 'status',
  reason: ShedReason,
  retryAfterMs: number,
  cursor: string,
): void {
  const retryMs = Math.max(0, Math.round(retryAfterMs));
  if (mode === 'retry' && acceptsEventStream(req)) {
    res.writeHead(200, { ...SSE_HEADERS, Connection: 'close' });
    res.end(
      frameEvent(cursor, 'herald.shed', JSON.stringify({ reason, retryAfterMs: retryMs }), retryMs),
    );
    return;
  }
  const status = reason === 'rate-limited' ? 429 : 503;
  const body = JSON.stringify({
    statusCode: status,
    error: status === 429 ? 'Too Many Requests' : 'Service Unavailable',
    message: `stream refused: ${reason}; retry after ${retryMs} ms`,
  });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Retry-After': String(Math.max(1, Math.ceil(retryMs / 1000))),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
