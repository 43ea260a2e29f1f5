import { Module, type DynamicModule } from '@nestjs/common';
import type { HeraldConfig } from '@herald/config';
import { heraldCore } from '../../apps/gateway/src/herald.core';
import { OrdersFeedController } from './orders-feed.controller';

/**
 * A team's own app: Herald's core modules (same environment variables as the gateway) plus one
 * `@StreamRoute` endpoint. Its streams share the gateway's Redis, caps and admin list.
 */
@Module({})
export class OrdersFeedAppModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    const core = heraldCore(config);
    return {
      module: OrdersFeedAppModule,
      imports: core.imports,
      controllers: [OrdersFeedController, ...core.controllers],
      providers: core.providers,
    };
  }
}
