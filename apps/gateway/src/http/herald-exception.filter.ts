import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ArgumentsHost,
  Catch,
  HttpException,
  Logger,
  Optional,
  type ExceptionFilter,
} from '@nestjs/common';
import { AuthError, AuthErrorCode, RevocationUnavailableError } from '@herald/auth';
import { Broker, BrokerError, BrokerErrorCode } from '@herald/broker';
import { PublishError, PublishErrorCode } from '@herald/publish';
import {
  StreamsService,
  SubscriptionRequestError,
  isValidEventId,
  requestCursors,
} from '@herald/streams';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const PUBLISH_STATUS: Record<PublishErrorCode, number> = {
  [PublishErrorCode.InvalidBody]: 400,
  [PublishErrorCode.InvalidTopic]: 400,
  [PublishErrorCode.InvalidType]: 400,
  [PublishErrorCode.ReservedType]: 400,
  [PublishErrorCode.InvalidIdempotencyKey]: 400,
  [PublishErrorCode.TooLarge]: 413,
  [PublishErrorCode.TooDeep]: 400,
};

const BROKER_STATUS: Record<BrokerErrorCode, number> = {
  [BrokerErrorCode.Unavailable]: 503,
  [BrokerErrorCode.IdempotencyConflict]: 422,
  [BrokerErrorCode.IdempotencyCapacity]: 503,
  [BrokerErrorCode.MalformedCursor]: 400,
};

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  correlationId?: string;
}

/**
 * Maps every error to `{"statusCode","error","message"}`. Domain errors get their status from
 * their code; unknown errors become 500 with a correlation id and no internals. A check that
 * could not run on the way to a stream (the revocation store is away) is a transient refusal:
 * shed per SHED_MODE, so an EventSource keeps retrying.
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
    if (
      exception instanceof RevocationUnavailableError &&
      this.streams !== undefined &&
      isStreamRequest(req)
    ) {
      // Fail closed (no stream opens unchecked) but retryably, with the client's own cursor.
      this.streams.shed(req, res, 'unavailable', this.clientCursor(req));
      return;
    }
    if (isRevokedStream(exception, req)) {
      // 204 stops a browser EventSource for good (a 403 would too, but 204 is the contract).
      res.statusCode = 204;
      res.setHeader('Cache-Control', 'no-store');
      res.end();
      return;
    }
    const { body, headers } = this.toBody(exception);
    res.statusCode = body.statusCode;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.end(JSON.stringify(body));
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

  private toBody(exception: unknown): { body: ErrorBody; headers: Record<string, string> } {
    if (exception instanceof RevocationUnavailableError) {
      return { body: errorBody(503, exception.message), headers: { 'Retry-After': '1' } };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'string'
          ? response
          : (flatten((response as { message?: unknown }).message) ?? exception.message);
      const headers =
        (exception as HttpException & { headers?: Record<string, string> }).headers ?? {};
      return { body: errorBody(status, withoutQuery(message)), headers };
    }
    if (exception instanceof AuthError) {
      const challenge = exception.challenge;
      return {
        body: errorBody(exception.status, exception.message),
        headers: challenge === undefined ? {} : { 'WWW-Authenticate': challenge },
      };
    }
    if (exception instanceof PublishError) {
      return { body: errorBody(PUBLISH_STATUS[exception.code], exception.message), headers: {} };
    }
    if (exception instanceof SubscriptionRequestError) {
      return { body: errorBody(400, exception.message), headers: {} };
    }
    if (exception instanceof BrokerError) {
      const status = BROKER_STATUS[exception.code];
      const retryAfterS = Math.max(1, Math.ceil((exception.retryAfterMs ?? 1000) / 1000));
      const headers: Record<string, string> =
        status === 503 ? { 'Retry-After': String(retryAfterS) } : {};
      return { body: errorBody(status, exception.message), headers };
    }
    const correlationId = randomUUID();
    this.logger.error(
      `unhandled error ${correlationId}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
    );
    return {
      body: { ...errorBody(500, 'internal error'), correlationId },
      headers: {},
    };
  }
}

/** A `GET` from an event-stream client (an EventSource sends `Accept: text/event-stream`). */
function isStreamRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream');
}

/** A revoked subject's `GET /events` from an event-stream client: answered 204. */
function isRevokedStream(exception: unknown, req: IncomingMessage): boolean {
  return (
    exception instanceof AuthError &&
    exception.code === AuthErrorCode.Revoked &&
    isStreamRequest(req)
  );
}

function errorBody(status: number, message: string): ErrorBody {
  return { statusCode: status, error: REASONS[status] ?? 'Error', message };
}

/** Drops the query string from router messages ("Cannot GET /x?access_token=..."): no secrets in bodies. */
function withoutQuery(message: string): string {
  return message.replace(/^(Cannot [A-Z]+ [^?\s]*)\?\S*/, '$1');
}

function flatten(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}
