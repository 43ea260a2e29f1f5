import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Port: Herald's publish rate limit for a Mercure publisher (the same token bucket as
 * `POST /events`, per token `sub`, else per client IP). Optional: without it, no limit applies.
 */
export abstract class MercurePublishRate {
  /**
   * Takes `events` tokens for the publisher `sub`.
   * @throws an HTTP 429 (with `Retry-After`) when the bucket is empty: nothing is published.
   */
  abstract charge(
    req: IncomingMessage,
    res: ServerResponse,
    sub: string | undefined,
    events: number,
  ): Promise<void>;
}
