import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, PayloadTooLargeException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { HeraldConfig } from '@herald/config';
import { HeraldThrottlerStorage, clientKey, type BucketTake } from '@herald/limits';
import { clientIp } from '../http/client-ip';
import { requestSubject } from '../http/request-subject';

/**
 * The publish token bucket (PUBLISH_RATE_PER_S, PUBLISH_BURST) per publisher (token `sub`, else
 * client IP): one token per event. {@link check} runs before the body is read (a publisher with
 * no token left is refused without reading it); {@link charge} takes one token per event once
 * the body is validated, all or none, so a batch never costs one token and is never accepted in
 * part. The store fails open (see HeraldThrottlerStorage).
 */
@Injectable()
export class PublishRateLimiter {
  private readonly ratePerS: number;
  private readonly burst: number;

  constructor(
    private readonly buckets: HeraldThrottlerStorage,
    config: HeraldConfig,
  ) {
    this.ratePerS = config.PUBLISH_RATE_PER_S;
    this.burst = config.PUBLISH_BURST;
  }

  /**
   * Refuses at once when not one token is left; takes none.
   * @throws ThrottlerException (429, `Retry-After` set on `res`).
   */
  async check(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const take = await this.buckets.takeToken(this.key(req), this.ratePerS, this.burst, 0);
    if (!take.allowed) this.refuse(res, take, 'no token left');
  }

  /**
   * Takes `events` tokens, all or none, and sets the `X-RateLimit-*` headers. `sub` is the
   * publisher's (default: the principal a Herald guard authenticated; Mercure passes its own).
   * @throws PayloadTooLargeException (413) when `events` is more than PUBLISH_BURST (the batch
   *   could never pass); ThrottlerException (429, `Retry-After`) when fewer tokens are left.
   */
  async charge(
    req: IncomingMessage,
    res: ServerResponse,
    events: number,
    sub: string | undefined = requestSubject(req),
  ): Promise<void> {
    if (events > this.burst) {
      throw new PayloadTooLargeException(
        `a batch of ${events} events is larger than the publish bucket (PUBLISH_BURST ${this.burst}): split it`,
      );
    }
    const take = await this.buckets.takeToken(
      this.key(req, sub),
      this.ratePerS,
      this.burst,
      events,
    );
    if (!take.allowed) {
      this.refuse(
        res,
        take,
        `${events} events need ${events} tokens, ${Math.floor(take.tokens)} left`,
      );
    }
    res.setHeader('X-RateLimit-Limit', String(this.burst));
    res.setHeader('X-RateLimit-Remaining', String(Math.max(0, Math.floor(take.tokens))));
    res.setHeader('X-RateLimit-Reset', String(Math.ceil(take.fullInMs / 1000)));
  }

  /** The bucket of the previous one-token-per-request limit, so its state carries over. */
  private key(req: IncomingMessage, sub = requestSubject(req)): string {
    return `default:publish:${clientKey({ sub, ip: clientIp(req) })}`;
  }

  private refuse(res: ServerResponse, take: BucketTake, why: string): never {
    const seconds = Math.max(1, Math.ceil(take.retryAfterMs / 1000));
    res.setHeader('Retry-After', String(seconds));
    throw new ThrottlerException(
      `publish rate limit exceeded (${why}); nothing was published; retry after ${seconds} s`,
    );
  }
}
