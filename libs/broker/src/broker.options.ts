import type { RedisConnectionOptions } from '@herald/redis';
import type { HistoryPolicyRule } from './history.policies';

/** Options shared by every adapter. */
interface CommonBrokerOptions {
  /** Retained events per topic (HISTORY_SIZE). */
  readonly historySize: number;
  /** Maximum age of retained events in ms (HISTORY_TTL_S); also the idempotency-key lifetime. */
  readonly historyTtlMs: number;
  /** Per-topic size and age (HISTORY_POLICIES), first match wins; others get the two above. */
  readonly historyPolicies?: readonly HistoryPolicyRule[];
}

/** In-process broker for one instance (BROKER=memory). */
export interface MemoryBrokerModuleOptions extends CommonBrokerOptions {
  readonly driver: 'memory';
  /** Most live idempotency keys (IDEMPOTENCY_MAX_KEYS); past it new keys are refused. */
  readonly maxIdempotencyKeys?: number;
}

/** Redis broker shared by any number of instances (BROKER=redis). */
export interface RedisBrokerModuleOptions extends CommonBrokerOptions {
  readonly driver: 'redis';
  /** Where Redis is: one node, Cluster or Sentinel (REDIS_URL, REDIS_CLUSTER_NODES, ...). */
  readonly redis: RedisConnectionOptions;
  /** Prefix of every key and channel (REDIS_KEY_PREFIX, default `herald:`). */
  readonly keyPrefix?: string;
  /** Replicas that must confirm each publish (REDIS_MIN_REPLICAS_ACK, default 0). */
  readonly minReplicasAck?: number;
  /** How long a publish waits for them (REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS, default 1000). */
  readonly replicasAckTimeoutMs?: number;
  /** Write partitions (REDIS_PARTITIONS, 1..16, default 1). */
  readonly partitions?: number;
}

/** Options of {@link BrokerModule}, discriminated on `driver`. */
export type BrokerModuleOptions = MemoryBrokerModuleOptions | RedisBrokerModuleOptions;
