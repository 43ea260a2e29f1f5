import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { HeraldConfig } from '@herald/config';
import { IngestModule } from '@herald/ingest';
import { PublishModule } from '@herald/publish';
import { HeraldServerModule, ingestOptions, publishOptions } from '@herald/server';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { OverviewService } from './admin/overview.service';
import { DevTokenController } from './auth/dev-token.controller';
import { ConsoleController } from './console/console.controller';
import { DemoController } from './demo/demo.controller';
import { JsonBodyPipe } from './publish/json-body.pipe';
import { PublishController } from './publish/publish.controller';
import { PublishRateLimiter } from './publish/publish-rate.limiter';
import { CorsMiddleware } from './http/cors.middleware';
import { EventsController } from './streams/events.controller';

/** The composition root: Herald's server ({@link HeraldServerModule}) plus the gateway's HTTP surface. */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    const publish = PublishModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: publishOptions,
    });
    // The Redis ingest stream (CONTRACT section 2) exists only with BROKER=redis.
    const ingest =
      config.BROKER === 'redis'
        ? [
            IngestModule.forRootAsync({
              imports: [publish],
              inject: [HeraldConfig],
              useFactory: ingestOptions,
            }),
          ]
        : [];
    return {
      module: AppModule,
      imports: [HeraldServerModule.forRoot(config), publish, ...ingest],
      controllers: [
        EventsController,
        PublishController,
        DemoController,
        ConsoleController,
        AdminController,
        // GET /dev/token: development with an ephemeral key only (never in production).
        ...(config.isAuthDevMode ? [DevTokenController] : []),
      ],
      providers: [JsonBodyPipe, PublishRateLimiter, AdminService, OverviewService],
    };
  }

  /** CORS_ORIGINS on every route, before the guards (preflights answered there). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorsMiddleware).forRoutes('{*path}');
  }
}
