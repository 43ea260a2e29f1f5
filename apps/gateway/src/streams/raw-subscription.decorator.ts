import type { IncomingMessage } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { RawSubscription } from '@herald/streams';

/** `?topic=` (repeated), `Last-Event-ID` and `?lastEventId=` of a stream request, unvalidated. */
export function rawSubscriptionOf(req: IncomingMessage): RawSubscription {
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const header = req.headers['last-event-id'];
  return {
    topics: query.getAll('topic'),
    headerCursor: Array.isArray(header) ? header[0] : header,
    queryCursor: query.get('lastEventId') ?? undefined,
  };
}

/** Extracts `?topic=` (repeated), `Last-Event-ID` and `?lastEventId=` from the raw URL. */
export const RawSubscriptionParams = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RawSubscription =>
    rawSubscriptionOf(ctx.switchToHttp().getRequest<IncomingMessage>()),
);
