import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { PublishRateLimiter } from './publish-rate.limiter';

/**
 * The early half of the publish rate limit: before the body is read, refuses (`429`,
 * `Retry-After`) a publisher whose bucket is empty, taking no token; the events are counted
 * after validation by {@link PublishRateLimiter.charge}. Runs after `PublisherGuard`, which
 * stores the principal the bucket is keyed by.
 */
@Injectable()
export class PublishRateGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly limiter: PublishRateLimiter,
  ) {
    super(options, storage, reflector);
  }

  /** The throttler's per-request hook: a check, not a take (the body may hold a batch). */
  protected override async handleRequest({ context }: ThrottlerRequest): Promise<boolean> {
    const http = context.switchToHttp();
    const res = http.getResponse<ServerResponse>();
    try {
      await this.limiter.check(http.getRequest<IncomingMessage>(), res);
    } catch (err) {
      // Refused before the body is read: close, so an unread body is not drained.
      res.setHeader('Connection', 'close');
      throw err;
    }
    return true;
  }
}
