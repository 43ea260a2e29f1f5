import { Module, type DynamicModule } from '@nestjs/common';
import type { HeraldConfig } from '@herald/config';
import { HeraldServerModule } from '@herald/server';
import { OrdersFeedController } from './orders-feed.controller';

/**
 * A team's own app: Herald's server modules (same environment variables as the gateway) plus one
 * `@StreamRoute` endpoint. Its streams share the gateway's Redis, caps and admin list.
 */
@Module({})
export class OrdersFeedAppModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    return {
      module: OrdersFeedAppModule,
      imports: [HeraldServerModule.forRoot(config)],
      controllers: [OrdersFeedController],
    };
  }
}
