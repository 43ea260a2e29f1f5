import { randomUUID } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import { AuthError, AuthErrorCode } from '@herald/auth';
import { BrokerError, BrokerErrorCode } from '@herald/broker';
import { ClusterError, ClusterErrorCode } from '@herald/cluster';
import { PublishError, PublishErrorCode } from '@herald/publish';
import {
  StreamShedError,
  SubscriptionErrorCode,
  SubscriptionRequestError,
  type ShedReason,
} from '@herald/streams';

/** The JSON body of every Herald error answer (CONTRACT section 6). */
export interface HttpErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  /** Set on a 500 only: the id of the log line holding the internals. */
  readonly correlationId?: string;
}

/** One error as HTTP: status, headers, and the JSON body (none for a `204`). */
export interface HttpErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: HttpErrorBody | undefined;
  /** For an unknown error (500): what to log under `body.correlationId`, never answered. */
  readonly internal?: string;
}

/** What the answer depends on besides the error. */
export interface HttpErrorContext {
  /** The request is a `GET` of an event-stream client (a revoked one gets `204`). */
  readonly eventStream?: boolean;
}

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

const JSON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
} as const;

/**
 * The one mapping of errors to HTTP: every domain error's code to its status and headers
 * (`WWW-Authenticate` on a 401, `Retry-After` on a transient refusal), Nest's HTTP exceptions
 * as they are, and anything else to a `500` with a correlation id and no internals.
 */
export function httpErrorOf(exception: unknown, context: HttpErrorContext = {}): HttpErrorResponse {
  if (exception instanceof AuthError) return authError(exception, context);
  if (exception instanceof PublishError) {
    return answer(publishStatus(exception.code), exception.message);
  }
  if (exception instanceof SubscriptionRequestError) {
    return answer(subscriptionStatus(exception.code), exception.message);
  }
  if (exception instanceof StreamShedError) {
    return answer(shedStatus(exception.code), exception.message, {
      'Retry-After': retryAfterS(exception.retryAfterMs),
    });
  }
  if (exception instanceof BrokerError) {
    const status = brokerStatus(exception.code);
    const headers: Record<string, string> =
      status === 503 ? { 'Retry-After': retryAfterS(exception.retryAfterMs ?? 1000) } : {};
    return answer(status, exception.message, headers);
  }
  if (exception instanceof ClusterError) {
    return answer(clusterStatus(exception.code), exception.message);
  }
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : (flatten((response as { message?: unknown }).message) ?? exception.message);
    const headers =
      (exception as HttpException & { headers?: Record<string, string> }).headers ?? {};
    return answer(exception.getStatus(), withoutQuery(message), headers);
  }
  const correlationId = randomUUID();
  return {
    status: 500,
    headers: JSON_HEADERS,
    body: { ...body(500, 'internal error'), correlationId },
    internal:
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
  };
}

function authError(exception: AuthError, context: HttpErrorContext): HttpErrorResponse {
  switch (exception.code) {
    case AuthErrorCode.MissingToken:
      return answer(401, exception.message, { 'WWW-Authenticate': 'Bearer realm="herald"' });
    case AuthErrorCode.InvalidToken:
      return answer(401, exception.message, {
        'WWW-Authenticate': 'Bearer realm="herald", error="invalid_token"',
      });
    case AuthErrorCode.Revoked:
      // 204 stops a browser EventSource for good (a 403 would too, but 204 is the contract).
      if (context.eventStream === true) {
        return { status: 204, headers: { 'Cache-Control': 'no-store' }, body: undefined };
      }
      return answer(403, exception.message);
    case AuthErrorCode.TopicNotPermitted:
    case AuthErrorCode.NotAdmin:
    case AuthErrorCode.OriginNotAllowed:
      return answer(403, exception.message);
    case AuthErrorCode.RevocationUnavailable:
      return answer(503, exception.message, { 'Retry-After': '1' });
  }
}

function publishStatus(code: PublishErrorCode): number {
  switch (code) {
    case PublishErrorCode.InvalidBody:
    case PublishErrorCode.InvalidTopic:
    case PublishErrorCode.InvalidType:
    case PublishErrorCode.ReservedType:
    case PublishErrorCode.InvalidIdempotencyKey:
    case PublishErrorCode.TooDeep:
      return 400;
    case PublishErrorCode.TooLarge:
      return 413;
  }
}

function subscriptionStatus(code: SubscriptionErrorCode): number {
  switch (code) {
    case SubscriptionErrorCode.NoTopic:
    case SubscriptionErrorCode.TooManyTopics:
    case SubscriptionErrorCode.BadTopic:
    case SubscriptionErrorCode.MalformedCursor:
    case SubscriptionErrorCode.BadSince:
      return 400;
  }
}

function shedStatus(code: ShedReason): number {
  switch (code) {
    case 'rate-limited':
      return 429;
    case 'capacity':
    case 'draining':
    case 'unavailable':
      return 503;
  }
}

function brokerStatus(code: BrokerErrorCode): number {
  switch (code) {
    case BrokerErrorCode.MalformedCursor:
      return 400;
    case BrokerErrorCode.IdempotencyConflict:
      return 422;
    case BrokerErrorCode.Unavailable:
    case BrokerErrorCode.IdempotencyCapacity:
      return 503;
  }
}

function clusterStatus(code: ClusterErrorCode): number {
  switch (code) {
    case ClusterErrorCode.Unavailable:
      return 503;
  }
}

function answer(
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): HttpErrorResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: body(status, message) };
}

function body(status: number, message: string): HttpErrorBody {
  return { statusCode: status, error: REASONS[status] ?? 'Error', message };
}

/** Whole seconds, at least 1. */
function retryAfterS(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
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
