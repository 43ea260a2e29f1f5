import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { clientKey } from '@herald/limits';
import { clientIp } from '../http/client-ip';
import { requestSubject } from '../http/request-subject';

/**
 * The publish token bucket (PUBLISH_RATE_PER_S, PUBLISH_BURST) per publisher: the token `sub`,
 * else the client IP (TRUST_PROXY, resolved by the request-log middleware). Runs after
 * `PublisherGuard`, which stores the principal. Refuses with `429` and `Retry-After` (seconds until a token is back).
 */
@Injectable()
export class PublishRateGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    super(options, storage, reflector);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as IncomingMessage;
    return Promise.resolve(clientKey({ sub: requestSubject(request), ip: clientIp(request) }));
  }

  protected override generateKey(_: ExecutionContext, tracker: string): string {
    return `publish:${tracker}`;
  }

  /** Refuses before the body is read; the connection closes so an unread body is not drained. */
  protected override throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    context.switchToHttp().getResponse<ServerResponse>().setHeader('Connection', 'close');
    throw new ThrottlerException(
      `publish rate limit exceeded; retry after ${detail.timeToBlockExpire} s`,
    );
  }
}
