import { InMemoryLimitsStore } from './adapters/in-memory.limits-store';
import { RedisLimitsStore } from './adapters/redis.limits-store';
import type { LimitsStore } from './limits.store';
import type { LimitsModuleOptions } from './limits.options';

/** Builds the store named by `options.driver`. */
export function createLimitsStore(options: LimitsModuleOptions): LimitsStore {
  switch (options.driver) {
    case 'memory':
      return new InMemoryLimitsStore();
    case 'redis':
      return new RedisLimitsStore({
        redis: options.redis,
        keyPrefix: options.keyPrefix ?? 'herald:limits:',
        commandTimeoutMs: options.commandTimeoutMs ?? 500,
      });
  }
}
