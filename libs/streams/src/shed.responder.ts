import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSE_HEADERS } from './sse.connection';
import { frameEvent } from './sse.frame';

/**
 * Why a stream was refused for now: the connect rate, a connection cap, draining, or a
 * dependency that could not answer a check on the way (`unavailable`: the revocation store).
 */
export type ShedReason = 'rate-limited' | 'capacity' | 'draining' | 'unavailable';

/**
 * A stream refused for now, answered as an error (SHED_MODE=status, or a client that takes no
 * event stream): the HTTP error mapper (`@herald/http`) makes it `429` (rate) or `503` with
 * `Retry-After`. Its `code` is the {@link ShedReason}.
 */
export class StreamShedError extends Error {
  /** The retry hint, in whole ms. */
  readonly retryAfterMs: number;

  constructor(
    readonly code: ShedReason,
    retryAfterMs: number,
  ) {
    const retryMs = Math.max(0, Math.round(retryAfterMs));
    super(`stream refused: ${code}; retry after ${retryMs} ms`);
    this.name = 'StreamShedError';
    this.retryAfterMs = retryMs;
  }
}

/** True when the request will take an event stream (EventSource sends `text/event-stream`). */
export function acceptsEventStream(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept === undefined || /text\/event-stream|text\/\*|\*\/\*/i.test(accept);
}

/**
 * Answers a transient refusal as a stream when it can: in `retry` mode, to an event-stream
 * client, `200`, a jittered `retry:`, `event: herald.shed`, then close (any non-200 would stop
 * an EventSource for good), and returns undefined. Otherwise writes nothing and returns the
 * {@link StreamShedError} the caller raises (the exception filter answers it).
 */
export function respondShed(
  req: IncomingMessage,
  res: ServerResponse,
  mode: 'retry' | 'status',
  reason: ShedReason,
  retryAfterMs: number,
  cursor: string,
): StreamShedError | undefined {
  const refusal = new StreamShedError(reason, retryAfterMs);
  if (mode === 'retry' && acceptsEventStream(req)) {
    const retryMs = refusal.retryAfterMs;
    res.writeHead(200, { ...SSE_HEADERS, Connection: 'close' });
    res.end(
      frameEvent(cursor, 'herald.shed', JSON.stringify({ reason, retryAfterMs: retryMs }), retryMs),
    );
    return undefined;
  }
  return refusal;
}
