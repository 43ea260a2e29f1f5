import {
  ConfigurableModuleBuilder,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BrokerHealthIndicator } from './broker.health';
import { Broker } from './broker.port';
import { createBroker } from './broker.factory';
import type { BrokerModuleOptions } from './broker.options';

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<BrokerModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();

/** Token of the options given to {@link BrokerModule.forRoot}. */
export const BROKER_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;

/**
 * Provides the {@link Broker} port, with the adapter chosen by `driver`:
 * `BrokerModule.forRoot({ driver: 'memory', historySize, historyTtlMs })` or `forRootAsync`.
 */
@Module({
  imports: [TerminusModule],
  providers: [
    BrokerHealthIndicator,
    {
      provide: Broker,
      useFactory: (options: BrokerModuleOptions) => createBroker(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
  ],
  exports: [Broker, BrokerHealthIndicator],
})
export class BrokerModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(@Inject(Broker) private readonly broker: Broker) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }
}
