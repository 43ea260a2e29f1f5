import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule, type AuthModuleOptions } from '@herald/auth';
import { BrokerModule, type BrokerModuleOptions } from '@herald/broker';
import { PublishModule } from '@herald/publish';
import { StreamsModule } from '@herald/streams';
import { AuthErrorFilter } from './auth-error.filter';
import { OrdersFeedController } from './orders-feed.controller';

/** A feature module adding its own `@Sse` endpoint on top of Herald's broker, streams and auth. */
@Module({})
export class OrdersFeedModule {
  /**
   * `broker`: the same options Herald runs with (e.g. `driver: 'redis'` and its URL).
   * `auth`: the same key and grants claim as Herald, so Herald's tokens work here.
   */
  static forRoot(broker: BrokerModuleOptions, auth: AuthModuleOptions): DynamicModule {
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
          tokenExpiryWarningMs: 30_000,
        }),
        PublishModule.forRoot({ redactKeys: ['password'], maxEventBytes: 65_536 }),
        AuthModule.forRoot(auth),
      ],
      controllers: [OrdersFeedController],
      providers: [{ provide: APP_FILTER, useClass: AuthErrorFilter }],
    };
  }
}
