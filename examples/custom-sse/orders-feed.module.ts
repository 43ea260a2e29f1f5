import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerModule, type BrokerModuleOptions } from '@herald/broker';
import { PublishModule } from '@herald/publish';
import { StreamsModule } from '@herald/streams';
import { OrdersFeedController } from './orders-feed.controller';

/** A feature module adding its own `@Sse` endpoint on top of Herald's broker and streams. */
@Module({})
export class OrdersFeedModule {
  /** `broker`: the same options Herald runs with (e.g. `driver: 'redis'` and its URL). */
  static forRoot(broker: BrokerModuleOptions): DynamicModule {
    return {
      module: OrdersFeedModule,
      imports: [
        BrokerModule.forRoot({ ...broker, isGlobal: true }),
        StreamsModule.forRoot({
          heartbeatMs: 15_000,
          retryMs: 3000,
          maxBufferedBytes: 1_048_576,
          maxTopicsPerConnection: 32,
          shedMode: 'retry',
          shutdownGraceMs: 1000,
          batchLingerMs: 0,
          instanceId: 'orders-feed',
        }),
        PublishModule.forRoot({ redactKeys: ['password'], maxEventBytes: 65_536 }),
      ],
      controllers: [OrdersFeedController],
    };
  }
}
