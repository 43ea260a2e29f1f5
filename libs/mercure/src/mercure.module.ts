import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { MercureController } from './mercure.controller';
import { MercureMetadataController } from './mercure.metadata.controller';
import { MercureHub } from './mercure.hub';
import { MemoryMercureIdStore, MercureIdStore, RedisMercureIdStore } from './mercure.id-store';
import { MERCURE_MODULE_OPTIONS, MercureConfigurableModule } from './mercure.module-definition';
import type { MercureModuleOptions } from './mercure.options';
import { MercureService } from './mercure.service';
import {
  MemoryMercureSubscriptionStore,
  MercureSubscriptionStore,
  RedisMercureSubscriptionStore,
} from './mercure.subscription-store';
import { MercureSubscriptions } from './mercure.subscriptions';
import { MercureTokens } from './mercure.tokens';

/** Builds the id store named by `options.store.driver`. */
export function createMercureIdStore(options: MercureModuleOptions): MercureIdStore {
  const store = options.store;
  switch (store.driver) {
    case 'memory':
      return new MemoryMercureIdStore(options.historySize);
    case 'redis':
      return new RedisMercureIdStore(
        store.redis,
        store.keyPrefix,
        options.historySize,
        options.historyTtlMs,
      );
  }
}

/** Builds the subscription store named by `options.store.driver`. */
export function createMercureSubscriptionStore(
  options: MercureModuleOptions,
): MercureSubscriptionStore {
  const store = options.store;
  switch (store.driver) {
    case 'memory':
      return new MemoryMercureSubscriptionStore();
    case 'redis':
      return new RedisMercureSubscriptionStore(store.redis, store.keyPrefix);
  }
}

/**
 * A Mercure hub at `/.well-known/mercure` on Herald's stream pipeline:
 * `MercureModule.forRootAsync({ imports, inject, useFactory })`. Needs the global `BrokerModule`
 * and `StreamsModule`; `imports` may provide {@link MercurePublishRate} (publish rate limit),
 * `ClientAddress` (publisher IPs) and `ClusterBus` (cluster-wide subscriptions).
 */
@Module({
  controllers: [MercureController, MercureMetadataController],
  providers: [
    {
      provide: MercureIdStore,
      useFactory: createMercureIdStore,
      inject: [MERCURE_MODULE_OPTIONS],
    },
    {
      provide: MercureSubscriptionStore,
      useFactory: createMercureSubscriptionStore,
      inject: [MERCURE_MODULE_OPTIONS],
    },
    MercureTokens,
    MercureHub,
    MercureSubscriptions,
    MercureService,
  ],
  exports: [MercureHub, MercureService],
})
export class MercureModule extends MercureConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(MercureIdStore) private readonly ids: MercureIdStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.ids.close();
  }
}
