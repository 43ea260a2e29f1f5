import { Inject, Injectable } from '@nestjs/common';
import { clientKey, type ClientIdentity } from './client.key';
import { HeraldThrottlerStorage } from './herald-throttler.storage';
import { LIMITS_MODULE_OPTIONS } from './limits.module-definition';
import type { LimitsModuleOptions } from './limits.options';

/** A rate decision: allowed, or refused with the time until a token is back. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * The connect token bucket (CONNECT_RATE_PER_S, CONNECT_BURST) per token `sub`, else per client
 * IP, kept in the throttler storage (shared through Redis when BROKER=redis).
 */
@Injectable()
export class ConnectRateLimiter {
  constructor(
    private readonly storage: HeraldThrottlerStorage,
    @Inject(LIMITS_MODULE_OPTIONS) private readonly options: LimitsModuleOptions,
  ) {}

  /** Takes one connect token for `client`; fails open when the store errors. */
  async check(client: ClientIdentity): Promise<RateDecision> {
    const take = await this.storage.takeToken(
      `connect:${clientKey(client)}`,
      this.options.connectRatePerS,
      this.options.connectBurst,
    );
    return take.allowed ? { allowed: true } : { allowed: false, retryAfterMs: take.retryAfterMs };
  }
}
