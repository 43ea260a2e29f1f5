export { LimitsModule } from './limits.module';
export type {
  LimitsModuleOptions,
  MemoryLimitsOptions,
  RedisLimitsOptions,
} from './limits.options';
export type { BucketTake } from './limits.store';
export { RedisLimitsStore } from './adapters/redis.limits-store';
export { HeraldThrottlerStorage } from './herald-throttler.storage';
export { LimitsStats } from './limits.stats';
export type { FailOpenKind } from './limits.stats';
export { ConnectionCaps } from './connection-caps.service';
export type { CapDecision, CapLimit, ConnectionLease } from './connection-caps.service';
export { clientKey, ipKey } from './client.key';
export { takeToken } from './token-bucket';
