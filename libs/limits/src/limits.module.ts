import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { getOptionsToken, getStorageToken, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { ConnectRateLimiter } from './connect-rate.limiter';
import { ConnectionCaps } from './connection-caps.service';
import { HeraldThrottlerStorage, bucketTtlMs } from './herald-throttler.storage';
import { createLimitsStore } from './limits.factory';
import { LIMITS_MODULE_OPTIONS, LimitsConfigurableModule } from './limits.module-definition';
import type { LimitsModuleOptions } from './limits.options';
import { LimitsStats } from './limits.stats';
import { LimitsStore } from './limits.store';
import { StreamAdmission } from '@herald/streams';
import { LimitsStreamAdmission } from './stream-admission.service';

/** The publish bucket as `@nestjs/throttler` options (one `default` throttler). */
export function publishThrottlerOptions(options: LimitsModuleOptions): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        name: 'default',
        limit: options.publishBurst,
        ttl: bucketTtlMs(options.publishRatePerS, options.publishBurst),
      },
    ],
  };
}

/**
 * Rate limits and connection caps: `LimitsModule.forRootAsync({ useFactory, inject })` with
 * `driver: 'memory'` (this process) or `'redis'` (shared by every instance). Provides the
 * `@nestjs/throttler` options and storage tokens, so a `ThrottlerGuard` subclass can guard routes
 * with Herald's token bucket, plus the streams' {@link StreamAdmission} port for new streams.
 */
@Module({
  providers: [
    LimitsStats,
    {
      provide: LimitsStore,
      useFactory: (options: LimitsModuleOptions) => createLimitsStore(options),
      inject: [LIMITS_MODULE_OPTIONS],
    },
    HeraldThrottlerStorage,
    { provide: getStorageToken(), useExisting: HeraldThrottlerStorage },
    {
      provide: getOptionsToken(),
      useFactory: publishThrottlerOptions,
      inject: [LIMITS_MODULE_OPTIONS],
    },
    ConnectRateLimiter,
    ConnectionCaps,
    LimitsStreamAdmission,
    { provide: StreamAdmission, useExisting: LimitsStreamAdmission },
  ],
  exports: [
    LimitsStats,
    HeraldThrottlerStorage,
    getStorageToken(),
    getOptionsToken(),
    ConnectRateLimiter,
    ConnectionCaps,
    StreamAdmission,
  ],
})
export class LimitsModule extends LimitsConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(LimitsStore) private readonly store: LimitsStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
