export { LimitsModule, publishThrottlerOptions } from './limits.module';
export { LIMITS_MODULE_OPTIONS } from './limits.module-definition';
export { DEFAULT_LEASE_TTL_MS } from './limits.options';
export type {
  LimitsModuleOptions,
  MemoryLimitsOptions,
  RedisLimitsOptions,
} from './limits.options';
export { LimitsStore } from './limits.store';
export type { BucketTake, LeaseClaim } from './limits.store';
export { createLimitsStore } from './limits.factory';
export { InMemoryLimitsStore } from './adapters/in-memory.limits-store';
export { RedisLimitsStore } from './adapters/redis.limits-store';
export type { RedisLimitsStoreOptions } from './adapters/redis.limits-store';
export { HeraldThrottlerStorage, bucketTtlMs } from './herald-throttler.storage';
export { LimitsStats } from './limits.stats';
export type { FailOpenKind } from './limits.stats';
export { ConnectRateLimiter } from './connect-rate.limiter';
export type { RateDecision } from './connect-rate.limiter';
export { ConnectionCaps } from './connection-caps.service';
export type { CapDecision, CapLimit, ConnectionLease } from './connection-caps.service';
export { LimitsStreamAdmission } from './stream-admission.service';
export type { Admission, AdmissionRefusal } from './stream-admission.service';
export { clientKey, ipKey } from './client.key';
export type { ClientIdentity } from './client.key';
export { takeToken } from './token-bucket';
export type { BucketState } from './token-bucket';
