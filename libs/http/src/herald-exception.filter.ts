import type { IncomingMessage, ServerResponse } from 'node:http';
import { ArgumentsHost, Catch, Logger, Optional, type ExceptionFilter } from '@nestjs/common';
import { AuthError, AuthErrorCode } from '@herald/auth';
import { Broker } from '@herald/broker';
import { StreamsService, isValidEventId, requestCursors } from '@herald/streams';
import { httpErrorOf } from './http-error.mapper';

/**
 * Answers every error with {@link httpErrorOf} (`{"statusCode","error","message"}`; unknown
 * errors become 500 with a correlation id, logged here). A check that could not run on the way
 * to a stream (the revocation store is away) is a transient refusal: shed per SHED_MODE, so an
 * EventSource keeps retrying. Register it with `APP_FILTER` (or {@link HeraldHttpModule}).
 */
@Catch()
export class HeraldExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  /**
   * `streams` and `broker` are absent in an application that serves no streams (a publisher or
   * admin-only app importing Herald's modules): there a revocation outage is a plain `503`.
   */
  constructor(
    @Optional() private readonly streams?: StreamsService,
    @Optional() private readonly broker?: Broker,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    const req = host.switchToHttp().getRequest<IncomingMessage>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const eventStream = isStreamRequest(req);
    let error = exception;
    if (
      exception instanceof AuthError &&
      exception.code === AuthErrorCode.RevocationUnavailable &&
      this.streams !== undefined &&
      eventStream
    ) {
      // Fail closed (no stream opens unchecked) but retryably, with the client's own cursor.
      const refusal = this.streams.shed(req, res, 'unavailable', this.clientCursor(req));
      if (refusal === undefined) return;
      error = refusal;
    }
    const answer = httpErrorOf(error, { eventStream });
    if (answer.internal !== undefined) {
      this.logger.error(`unhandled error ${answer.body?.correlationId}: ${answer.internal}`);
    }
    res.statusCode = answer.status;
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  }

  /** The cursor the client sent, when it is one this gateway issued (else none). */
  private clientCursor(req: IncomingMessage): string | undefined {
    const raw = requestCursors(req);
    const cursor = raw.headerCursor?.trim() || raw.queryCursor?.trim() || undefined;
    return cursor !== undefined &&
      isValidEventId(cursor) &&
      this.broker?.isWellFormedCursor(cursor) === true
      ? cursor
      : undefined;
  }
}

/** A `GET` from an event-stream client (an EventSource sends `Accept: text/event-stream`). */
function isStreamRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream');
}
