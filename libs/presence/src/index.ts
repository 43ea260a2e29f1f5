export { PresenceModule } from './presence.module';
export { PRESENCE_MODULE_OPTIONS } from './presence.module-definition';
export type {
  MemoryPresenceModuleOptions,
  PresenceModuleOptions,
  RedisPresenceModuleOptions,
} from './presence.options';
export { DEFAULT_PRESENCE_LEASE_TTL_MS } from './presence.options';
export {
  PRESENCE_DEFAULT_LIMIT,
  PRESENCE_EVENTS_PER_TICK,
  PRESENCE_MAX_LIMIT,
  PRESENCE_TICK_MS,
  PresenceService,
} from './presence.service';
export type { PresencePage } from './presence.service';
export { PresenceStore } from './presence.store';
export type {
  PresenceBatch,
  PresenceChange,
  PresenceEntry,
  PresenceSnapshot,
  PresenceSubscriber,
} from './presence.store';
