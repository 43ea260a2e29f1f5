import type { RedisConnectionOptions } from '@herald/redis';

/** Limits shared by every driver (CONTRACT section 6). */
interface CommonLimitsOptions {
  /** Connect token bucket refill per second (CONNECT_RATE_PER_S). */
  readonly connectRatePerS: number;
  /** Connect token bucket size (CONNECT_BURST). */
  readonly connectBurst: number;
  /** Publish token bucket refill per second (PUBLISH_RATE_PER_S). */
  readonly publishRatePerS: number;
  /** Publish token bucket size (PUBLISH_BURST). */
  readonly publishBurst: number;
  /** Open streams on this instance (MAX_CONNECTIONS). */
  readonly maxConnections: number;
  /** Open streams per token `sub`, cluster-wide with Redis (MAX_CONNECTIONS_PER_USER). */
  readonly maxConnectionsPerUser: number;
  /** Open anonymous streams per client IP, cluster-wide with Redis (MAX_CONNECTIONS_PER_IP). */
  readonly maxConnectionsPerIp: number;
  /**
   * Lifetime of a connection lease in the shared store; leases are refreshed every third of it,
   * so the counts of a dead instance heal within this time. Default 30 000 ms.
   */
  readonly leaseTtlMs?: number;
}

/** Counters in this process (BROKER=memory: one instance). */
export interface MemoryLimitsOptions extends CommonLimitsOptions {
  readonly driver: 'memory';
}

/** Counters shared by every instance through Redis (BROKER=redis). */
export interface RedisLimitsOptions extends CommonLimitsOptions {
  readonly driver: 'redis';
  /** Where Redis is: one node, Cluster or Sentinel. */
  readonly redis: RedisConnectionOptions;
  /** Prepended to every key (default `herald:limits:`); tests use a random one. */
  readonly keyPrefix?: string;
  /** Per-command timeout before failing open (default 500 ms). */
  readonly commandTimeoutMs?: number;
}

/** Options of {@link LimitsModule}, discriminated on `driver`. */
export type LimitsModuleOptions = MemoryLimitsOptions | RedisLimitsOptions;

/** Default lease lifetime: a dead instance's streams stop counting within 30 s. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
