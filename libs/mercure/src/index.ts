export { MercureModule, createMercureIdStore } from './mercure.module';
export { MERCURE_MODULE_OPTIONS } from './mercure.module-definition';
export type {
  MercureKeyOptions,
  MercureModuleOptions,
  MercureProtocol,
  MercureStoreOptions,
} from './mercure.options';
export { MercureService, isReservedTopic } from './mercure.service';
export { MercureHub } from './mercure.hub';
export { MercurePublishRate } from './mercure.publish-rate';
export { MercureError } from './mercure.errors';
export type { MercureBearerError } from './mercure.errors';
export { MercureIdStore, MemoryMercureIdStore, RedisMercureIdStore } from './mercure.id-store';
export { mercureLink } from './mercure.discovery';
export type { MercureLinkOptions } from './mercure.discovery';
export { MERCURE_TOPIC, frameUpdate } from './mercure.update';
export type { MercureUpdate } from './mercure.update';
export { subscriptionTopic, SUBSCRIPTIONS_PATH } from './mercure.subscriptions';
export type { MercureSubscriptionDoc } from './mercure.subscription-store';
export {
  MercureSelectorError,
  SelectorIndex,
  compileSelector,
  legacySelector,
} from './mercure.selector';
export type { MercureSelector, MercureSelectorKind } from './mercure.selector';
export { V1_COOKIE, LEGACY_COOKIE, LEGACY_QUERY_TOKEN } from './mercure.request';
export type { MercureResourceMetadata } from './mercure.metadata.controller';
