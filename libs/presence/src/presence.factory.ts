import { InMemoryPresenceStore } from './adapters/in-memory.presence-store';
import { RedisPresenceStore } from './adapters/redis.presence-store';
import { DEFAULT_PRESENCE_LEASE_TTL_MS, type PresenceModuleOptions } from './presence.options';
import type { PresenceStore } from './presence.store';

/**
 * Builds the store named by `options.driver`. With no tracked topic nothing is ever stored, so
 * presence off opens no Redis connection.
 */
export function createPresenceStore(options: PresenceModuleOptions): PresenceStore {
  if (options.topics.length === 0) return new InMemoryPresenceStore();
  switch (options.driver) {
    case 'memory':
      return new InMemoryPresenceStore();
    case 'redis':
      return new RedisPresenceStore({
        redis: options.redis,
        keyPrefix: options.keyPrefix,
        leaseTtlMs: options.leaseTtlMs ?? DEFAULT_PRESENCE_LEASE_TTL_MS,
      });
  }
}

/** The lease TTL in force (memory: leases never expire, the value only paces nothing). */
export function leaseTtlOf(options: PresenceModuleOptions): number {
  return options.driver === 'redis'
    ? (options.leaseTtlMs ?? DEFAULT_PRESENCE_LEASE_TTL_MS)
    : DEFAULT_PRESENCE_LEASE_TTL_MS;
}
