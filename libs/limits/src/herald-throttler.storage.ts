import { Injectable, Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { LimitsStats } from './limits.stats';
import { LimitsStore, type BucketTake } from './limits.store';

const WARN_EVERY_MS = 10_000;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * `@nestjs/throttler` storage that is a real token bucket, in memory or in Redis (atomic Lua).
 * The throttler's `limit` is the bucket size and `limit / ttl` its refill rate, so a throttler of
 * `{ limit: BURST, ttl: BURST / RATE_PER_S * 1000 }` is the bucket (RATE_PER_S, BURST).
 * When the store errors the request is allowed (fail open) and counted in {@link LimitsStats}.
 */
@Injectable()
export class HeraldThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(HeraldThrottlerStorage.name);
  private lastWarnAt = 0;

  constructor(
    private readonly store: LimitsStore,
    private readonly stats: LimitsStats,
  ) {}

  /**
   * Takes `cost` tokens (default 1, all or none; 0 only checks that one is left) from bucket
   * `key`; fails open (allowed) when the store errors.
   */
  async takeToken(key: string, ratePerS: number, burst: number, cost = 1): Promise<BucketTake> {
    try {
      return await this.store.take(key, ratePerS, burst, cost);
    } catch (err) {
      this.stats.recordFailOpen('rate');
      const now = Date.now();
      if (now - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = now;
        this.logger.warn(`rate limit store failed, allowing requests: ${String(err)}`);
      }
      return { allowed: true, tokens: burst, retryAfterMs: 0, fullInMs: 0 };
    }
  }

  /** The throttler's hook: one hit is one token; `blockDuration` does not apply to a bucket. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const take = await this.takeToken(`${throttlerName}:${key}`, (limit * 1000) / ttl, limit);
    return {
      totalHits: limit - Math.floor(take.tokens),
      timeToExpire: Math.ceil(take.fullInMs / 1000),
      isBlocked: !take.allowed,
      timeToBlockExpire: take.allowed ? 0 : Math.max(1, Math.ceil(take.retryAfterMs / 1000)),
    };
  }
}

/** The throttler `ttl` (ms) that makes `limit: burst` a bucket refilled at `ratePerS`. */
export function bucketTtlMs(ratePerS: number, burst: number): number {
  return (burst / ratePerS) * 1000;
}
