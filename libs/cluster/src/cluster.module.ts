import {
  ConfigurableModuleBuilder,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LocalClusterBus } from './adapters/local.cluster-bus';
import { RedisClusterBus } from './adapters/redis.cluster-bus';
import { ClusterBus } from './cluster.port';
import type { ClusterModuleOptions } from './cluster.options';

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<ClusterModuleOptions>().setClassMethodName('forRoot').build();

/** Builds the bus named by `options.driver`. */
export function createClusterBus(options: ClusterModuleOptions): ClusterBus {
  switch (options.driver) {
    case 'local':
      return new LocalClusterBus(options.instanceId);
    case 'redis':
      return new RedisClusterBus(options);
  }
}

/** Provides {@link ClusterBus}: `ClusterModule.forRootAsync({ useFactory, inject })`. */
@Module({
  providers: [
    { provide: ClusterBus, useFactory: createClusterBus, inject: [MODULE_OPTIONS_TOKEN] },
  ],
  exports: [ClusterBus],
})
export class ClusterModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(@Inject(ClusterBus) private readonly bus: ClusterBus) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}
