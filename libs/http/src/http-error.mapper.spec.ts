import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { AuthError, AuthErrorCode, RevocationUnavailableError } from '@herald/auth';
import { BrokerError, BrokerErrorCode } from '@herald/broker';
import { ClusterError, ClusterErrorCode } from '@herald/cluster';
import { PublishError, PublishErrorCode } from '@herald/publish';
import { StreamShedError, SubscriptionErrorCode, SubscriptionRequestError } from '@herald/streams';
import { httpErrorOf } from './http-error.mapper';

describe('httpErrorOf', () => {
  it('should answer a missing token 401 with a Bearer challenge', () => {
    const answer = httpErrorOf(new AuthError(AuthErrorCode.MissingToken, 'token required'));
    expect(answer.status).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toBe('Bearer realm="herald"');
    expect(answer.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'token required',
    });
  });

  it('should name invalid_token in the challenge when the token is rejected', () => {
    const answer = httpErrorOf(new AuthError(AuthErrorCode.InvalidToken, 'token expired'));
    expect(answer.headers['WWW-Authenticate']).toBe('Bearer realm="herald", error="invalid_token"');
  });

  it('should answer a revoked event stream 204 without a body, and 403 otherwise', () => {
    const revoked = new AuthError(AuthErrorCode.Revoked, 'revoked');
    const stream = httpErrorOf(revoked, { eventStream: true });
    expect(stream.status).toBe(204);
    expect(stream.body).toBeUndefined();
    expect(httpErrorOf(revoked).status).toBe(403);
  });

  it('should answer a revocation outage 503 with Retry-After', () => {
    const answer = httpErrorOf(new RevocationUnavailableError());
    expect(answer.status).toBe(503);
    expect(answer.headers['Retry-After']).toBe('1');
  });

  it('should map publish, subscription, broker and cluster codes to their statuses', () => {
    expect(httpErrorOf(new PublishError(PublishErrorCode.TooLarge, 'x')).status).toBe(413);
    expect(httpErrorOf(new PublishError(PublishErrorCode.InvalidTopic, 'x')).status).toBe(400);
    expect(
      httpErrorOf(new SubscriptionRequestError(SubscriptionErrorCode.NoTopic, 'x')).status,
    ).toBe(400);
    expect(httpErrorOf(new BrokerError(BrokerErrorCode.IdempotencyConflict, 'x')).status).toBe(422);
    const capacity = httpErrorOf(
      new BrokerError(BrokerErrorCode.IdempotencyCapacity, 'x', { retryAfterMs: 2500 }),
    );
    expect(capacity.status).toBe(503);
    expect(capacity.headers['Retry-After']).toBe('3');
    const cluster = httpErrorOf(new ClusterError(ClusterErrorCode.Unavailable, 'x'));
    expect(cluster.status).toBe(503);
    expect(cluster.headers['Retry-After']).toBeUndefined();
  });

  it('should answer a shed 429 when rate limited and 503 otherwise, with Retry-After', () => {
    const rate = httpErrorOf(new StreamShedError('rate-limited', 1200.4));
    expect(rate.status).toBe(429);
    expect(rate.headers['Retry-After']).toBe('2');
    expect(rate.body?.message).toBe('stream refused: rate-limited; retry after 1200 ms');
    expect(httpErrorOf(new StreamShedError('capacity', 10)).status).toBe(503);
  });

  it('should drop the query string from a router message when Nest raised it', () => {
    const answer = httpErrorOf(new BadRequestException('Cannot GET /x?access_token=secret'));
    expect(answer.body?.message).toBe('Cannot GET /x');
  });

  it('should hide an unknown error behind a 500 with a correlation id', () => {
    const answer = httpErrorOf(new Error('db password is hunter2'));
    expect(answer.status).toBe(500);
    expect(answer.body?.message).toBe('internal error');
    expect(answer.body?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    expect(answer.internal).toContain('hunter2');
  });
});
