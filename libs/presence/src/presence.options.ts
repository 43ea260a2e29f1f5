import type { RedisConnectionOptions } from '@herald/redis';

interface PresenceCommonOptions {
  /** Patterns of the concrete topics tracked (PRESENCE_TOPICS); empty: presence off. */
  readonly topics: readonly string[];
  /** This instance's id, listed with each subscriber (INSTANCE_ID). */
  readonly instanceId: string;
}

/** In this process (BROKER=memory): closes are the only leaves. */
export interface MemoryPresenceModuleOptions extends PresenceCommonOptions {
  readonly driver: 'memory';
}

/** Shared by every instance through Redis (BROKER=redis), with leases. */
export interface RedisPresenceModuleOptions extends PresenceCommonOptions {
  readonly driver: 'redis';
  readonly redis: RedisConnectionOptions;
  /** REDIS_KEY_PREFIX. */
  readonly keyPrefix: string;
  /** Lease of each connection (PRESENCE_LEASE_TTL_MS, default 30000). */
  readonly leaseTtlMs?: number;
}

/** Options of {@link PresenceModule}. */
export type PresenceModuleOptions = MemoryPresenceModuleOptions | RedisPresenceModuleOptions;

/** Default lease of a connection's presence: the connection caps' lease TTL. */
export const DEFAULT_PRESENCE_LEASE_TTL_MS = 30_000;
