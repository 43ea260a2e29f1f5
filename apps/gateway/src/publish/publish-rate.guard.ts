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
import { HeraldConfig } from '@herald/config';
import { clientKey } from '@herald/limits';
import { clientIp, parseTrustProxy, type TrustProxy } from '../http/client-ip';
import { requestSubject } from '../http/request-subject';

/**
 * The publish token bucket (PUBLISH_RATE_PER_S, PUBLISH_BURST) per publisher: the token `sub`,
 * else the client IP. Refuses with `429` and `Retry-After` (seconds until a token is back).
 */
@Injectable()
export class PublishRateGuard extends ThrottlerGuard {
  private readonly trust: TrustProxy;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    config: HeraldConfig,
  ) {
    super(options, storage, reflector);
    this.trust = parseTrustProxy(config.TRUST_PROXY);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as IncomingMessage;
    return Promise.resolve(
      clientKey({ sub: requestSubject(request), ip: clientIp(request, this.trust) }),
    );
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
